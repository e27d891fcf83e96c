package bolt

import "fmt"

// bbolt panics on some damaged pages, and a damaged page can make a read
// fault: the store turns both into a FileError (see catch), and lets any
// other panic go on.

// corrupt marks a panic raised by bbolt, which happens on damaged pages: the
// store turns it into a FileError. Any other panic is the caller's and goes
// on as it is.
type corrupt struct{ v any }

// rethrow, deferred, marks a panic in progress as bbolt's.
func rethrow() {
	if r := recover(); r != nil {
		if _, ok := r.(corrupt); ok {
			panic(r)
		}
		panic(corrupt{r})
	}
}

// guard calls f, which calls bbolt, marking its panics.
func guard(f func()) {
	defer rethrow()
	f()
}

// try calls f and reports whether it returned without panicking.
func try(f func()) (ok bool) {
	defer func() { recover() }()
	f()
	return true
}

// catch, deferred, turns a marked panic into a FileError, and so a memory
// fault: with SetPanicOnFault on, reading a value that a damaged page says
// runs past the mapped file faults wherever the value is read, in bbolt or
// in the decoding of it.
func (s *boltStore) catch(err *error) {
	if r := recover(); r != nil {
		c, ok := r.(corrupt)
		if _, fault := r.(interface{ Addr() uintptr }); fault {
			c, ok = corrupt{r}, true
		}
		if !ok {
			panic(r)
		}
		*err = &FileError{s.path, fmt.Sprintf("damaged database: %v", c.v)}
	}
}
