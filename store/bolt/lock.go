//go:build unix

package bolt

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrLocked is the error of Lock when another scheduler holds the lock.
var ErrLocked = errors.New("another scheduler is running")

// Lock takes the scheduler lock of the database at path, so that only one
// scheduler runs on it: an exclusive fcntl lock on the whole of the lock
// file (an open file description lock on Linux; see tryLock), which another
// process can ask about without taking it (LockHolder). It does not wait.
// The lock file holds the owner's process id, for the message another
// scheduler gets, and room for a note of its store's failures (see
// note.go). It is the database file's name plus ".lock", beside the
// file that path names once its symbolic links are resolved (see
// lockName), so that every path to one database takes the same lock. The
// lock is released by unlock, or by the process ending however it ends, so
// a crashed scheduler never leaves a stale lock. The lock file itself
// stays: removing it would let two processes lock two different files of
// the same name.
//
// The database's own lock is separate and held only for a transaction; this
// one is held for the scheduler's lifetime.
//
// note writes n into the lock file in place of the note before it, for
// ReadNote. It may be called from any goroutine; after unlock, it does
// nothing.
func Lock(path string) (unlock func() error, note func(n Note) error, err error) {
	f, err := lock(path)
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex // guards f, nil once released
	unlock = func() error {
		mu.Lock()
		defer mu.Unlock()
		if f == nil {
			return os.ErrClosed
		}
		err := release(f)
		f = nil
		return err
	}
	note = func(n Note) error {
		mu.Lock()
		defer mu.Unlock()
		if f == nil {
			return nil
		}
		return writeRecord(f, n)
	}
	return unlock, note, nil
}

// lock is Lock's: it returns the lock file, locked, holding this process's
// id and room for a note (see note.go).
func lock(path string) (*os.File, error) {
	name, err := lockName(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return nil, err
	}
	f, err := openLockFile(name, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil {
		f.Close()
		return nil, err
	} else if err := checkFile(name, fi, systemAccounts()); err != nil {
		f.Close()
		return nil, err
	}
	if err := tryLock(f); err != nil {
		defer f.Close()
		if errors.Is(err, errLockHeld) {
			pid := "pid unknown"
			if n := lockPID(f); n != 0 {
				pid = "pid " + strconv.Itoa(n)
			}
			return nil, fmt.Errorf("%w on %s (%s)", ErrLocked, path, pid)
		}
		return nil, fmt.Errorf("locking %s: %w", name, err)
	}
	// In place, so that the blocks a note needs are had now; a stale pid
	// is worse than none.
	if err := writeRecord(f, Note{}); err == nil {
		f.Truncate(recordSize)
	} else {
		f.Truncate(0)
	}
	return f, nil
}

// release empties the lock file f and releases its lock.
func release(f *os.File) error {
	f.Truncate(0)
	return f.Close() // closing the last descriptor releases the lock
}

// LockHolder reports whether a scheduler holds the lock of the database at
// path (on the lock file, or on the database file itself: see pin), and
// its process id if the lock file says (else 0). It only asks: it
// takes no lock, so a scheduler starting meanwhile is never refused because
// of it, and it writes and creates nothing. A lock file that does not exist
// means no scheduler ran.
func LockHolder(path string) (held bool, pid int, err error) {
	name, err := lockName(path)
	if err != nil {
		return false, 0, err
	}
	// O_NONBLOCK: a FIFO planted under the name would make the open wait
	// for a writer.
	f, err := openLockFile(name, os.O_RDONLY|syscall.O_NONBLOCK)
	if errors.Is(err, fs.ErrNotExist) {
		// Removed while a scheduler ran, it still holds the database.
		held, err = dbLockHeld(path)
		return held, 0, err
	}
	if err != nil {
		return false, 0, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return false, 0, err
	} else if !fi.Mode().IsRegular() {
		return false, 0, fmt.Errorf("%s: is not a regular file, not jobctl's lock file", name)
	}
	if held, err = lockHeld(f); err != nil {
		return false, 0, fmt.Errorf("asking about the lock on %s: %w", name, err)
	}
	if !held {
		held, err = dbLockHeld(path)
		return held, 0, err
	}
	return true, lockPID(f), nil
}

// openLockFile opens the lock file called name. The database may be in a
// directory others can write to (a sticky one, as /tmp; CheckPrivate lets
// those pass): a link planted there is not followed.
func openLockFile(name string, flag int) (*os.File, error) {
	f, err := os.OpenFile(name, flag|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		// ELOOP, or in a sticky directory EACCES.
		if fi, lerr := os.Lstat(name); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s: is a symbolic link, not jobctl's lock file", name)
		}
		return nil, err
	}
	return f, nil
}

// errLockHeld is tryLock's error when another open file holds the lock.
var errLockHeld = errors.New("lock held")

// tryLock takes the write lock on the whole of f, opened for writing,
// without waiting: errLockHeld if another holder has a lock on it (see
// setLock for who that can be).
func tryLock(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	err := unix.FcntlFlock(f.Fd(), setLock, &lk)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return errLockHeld
	}
	return err
}

// lockHeld reports whether another holder has a lock on f, which tryLock
// would then not take. It takes nothing.
func lockHeld(f *os.File) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	if err := unix.FcntlFlock(f.Fd(), getLock, &lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}

// lockPID returns the process id the lock file f holds, or 0.
func lockPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// lockName returns the name of the lock file of the database at path: that
// of the file path names, resolved, plus ".lock". Two paths to one database
// (through a symbolic link to the file, or to a directory on the way) must
// name one lock file, or two schedulers would run on it and each would
// record the other's runs as interrupted. A database not created yet is
// resolved as far as it exists, and a dangling link is followed: once the
// file is created where it points, both paths name it.
func lockName(path string) (string, error) {
	abs := path
	if !filepath.IsAbs(path) {
		// Not filepath.Abs, which cleans "link/.." away lexically: the
		// kernel, opening the database, goes to the link's parent.
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		abs = wd + string(filepath.Separator) + path
	}
	real, err := resolve(abs, 0)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return real + ".lock", nil
}

// resolve returns the absolute path abs with its symbolic links resolved,
// those of its parts that do not exist yet included: a dangling link is
// followed to where it points. depth counts the links followed so, against
// a loop.
func resolve(abs string, depth int) (string, error) {
	real, err := filepath.EvalSymlinks(abs)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return real, err
	}
	i := strings.LastIndexByte(abs, filepath.Separator)
	dir, base := abs[:i], abs[i+1:]
	if dir == "" {
		dir = "/"
	}
	if dir, err = resolve(dir, depth); err != nil {
		return "", err
	}
	p := filepath.Join(dir, base) // dir has no links left: cleaning is safe
	target, err := os.Readlink(p)
	if err != nil { // not there, so no link: p is where the file will be
		return p, nil
	}
	if depth++; depth > 40 { // the kernel's limit
		return "", syscall.ELOOP
	}
	if !filepath.IsAbs(target) {
		target = dir + string(filepath.Separator) + target
	}
	return resolve(target, depth)
}
