package runner

import (
	"bufio"
	"errors"
	"io"
	"sync"
	"unicode/utf8"
)

const (
	// TailSize is how much of a run's output its record keeps: the end.
	TailSize = 64 << 10
	// maxLine is the longest line passed on whole; a longer one is split
	// into pieces of this size, so that a job printing without newlines
	// costs bounded memory.
	maxLine = 16 << 10
)

// tail keeps the last len(buf) bytes written to it.
type tail struct {
	buf   []byte
	start int  // where the oldest byte is, once full
	full  bool // buf has wrapped
	n     int  // bytes held, until full
}

func newTail(size int) *tail { return &tail{buf: make([]byte, size)} }

func (t *tail) Write(p []byte) (int, error) {
	written := len(p)
	size := len(t.buf)
	if len(p) >= size {
		copy(t.buf, p[len(p)-size:])
		t.start, t.full = 0, true
		return written, nil
	}
	if !t.full {
		k := copy(t.buf[t.n:], p)
		t.n += k
		p = p[k:]
		if t.n < size {
			return written, nil
		}
		t.full, t.start = true, 0
	}
	for len(p) > 0 {
		k := copy(t.buf[t.start:], p)
		t.start = (t.start + k) % size
		p = p[k:]
	}
	return written, nil
}

// String returns what is kept. When the start was cut off, it begins at
// the next whole line (or, within a line, the next whole UTF-8 character),
// so the record starts cleanly.
func (t *tail) String() string {
	if !t.full {
		return string(t.buf[:t.n])
	}
	b := make([]byte, 0, len(t.buf))
	b = append(b, t.buf[t.start:]...)
	b = append(b, t.buf[:t.start]...)
	for i, c := range b[:min(len(b), maxLine)] {
		if c == '\n' && i+1 < len(b) {
			return string(b[i+1:])
		}
	}
	for len(b) > 0 && !utf8.RuneStart(b[0]) {
		b = b[1:]
	}
	return string(b)
}

// lineWriter writes whole lines to w, each with a prefix, serialising them
// so that the lines of concurrent jobs never mix within a line.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) writeLine(prefix string, line []byte) {
	if l == nil || l.w == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	buf := make([]byte, 0, len(prefix)+len(line)+1)
	buf = append(append(append(buf, prefix...), line...), '\n')
	l.w.Write(buf) // a failing output must not stop the job
}

// copyLines reads r to its end, line by line (lines longer than maxLine are
// split), and passes each line, without its newline, to line. It returns
// the read error other than io.EOF: a pipe closed under it reads as
// os.ErrClosed.
func copyLines(r io.Reader, line func([]byte)) error {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			if b[len(b)-1] == '\n' {
				b = b[:len(b)-1]
			}
			line(b)
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}
