//go:build unix

package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrLocked is the error of Lock when another scheduler holds the lock.
var ErrLocked = errors.New("another scheduler is running")

// Lock takes the scheduler lock of the database at path, so that only one
// scheduler runs on it: an exclusive flock on path+".lock", which holds the
// owner's process id for the message another scheduler gets. It does not
// wait. The lock is released by unlock, or by the process ending however it
// ends, so a crashed scheduler never leaves a stale lock. The lock file
// itself stays: removing it would let two processes lock two different
// files of the same name.
//
// The database's own lock is separate and held only for a transaction; this
// one is held for the scheduler's lifetime.
func Lock(path string) (unlock func() error, err error) {
	name := path + ".lock"
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return nil, err
	}
	// The database may be in a directory others can write to (a sticky
	// one, as /tmp; CheckPrivate lets those pass): a link planted there
	// is not followed, and another user's file is not used.
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		// ELOOP, or in a sticky directory EACCES.
		if fi, lerr := os.Lstat(name); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s: is a symbolic link, not jobctl's lock file", name)
		}
		return nil, err
	}
	if fi, err := f.Stat(); err != nil {
		f.Close()
		return nil, err
	} else if err := checkOwnerAndMode(name, fi, false); err != nil {
		f.Close()
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w on %s (%s)", ErrLocked, path, holder(f))
		}
		return nil, fmt.Errorf("locking %s: %w", name, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() error {
		f.Truncate(0)
		return f.Close() // closing the last descriptor releases the flock
	}, nil
}

// holder describes the process holding the lock, as far as the file says.
func holder(f *os.File) string {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err == nil {
		return "pid " + strconv.Itoa(pid)
	}
	return "pid unknown"
}
