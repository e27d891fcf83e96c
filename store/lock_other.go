//go:build unix && !linux

package store

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Where there are no open file description locks, the scheduler lock is a
// classic fcntl lock: it can be asked about without being taken (F_GETLK),
// but it belongs to the process: a second Lock in the process takes it
// again, and any descriptor of the lock file that the process closes
// releases it. So a scheduler process calls Lock once and never LockHolder;
// the commands that ask are other processes.

// tryLock takes the write lock on the whole of f, opened for writing,
// without waiting: errLockHeld if another process holds a lock on it.
func tryLock(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return errLockHeld
	}
	return err
}

// lockHeld reports whether another process holds a lock on f, which tryLock
// would then not take. It takes nothing.
func lockHeld(f *os.File) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}
