package store

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// The scheduler lock is an open file description lock (Linux 3.15). Like a
// flock, it belongs to the open file, not to the process, so only the
// scheduler's own descriptor closing releases it, never another descriptor
// of the file closing in the same process; unlike a flock, another process
// can ask whether it is held without taking it (F_OFD_GETLK), so that asking
// never makes a scheduler that starts meanwhile find it taken.

// tryLock takes the write lock on the whole of f, opened for writing,
// without waiting: errLockHeld if another open file holds a lock on it.
func tryLock(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return errLockHeld
	}
	return err
}

// lockHeld reports whether another open file holds a lock on f, which
// tryLock would then not take. It takes nothing.
func lockHeld(f *os.File) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}
