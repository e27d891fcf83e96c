//go:build unix && !linux

package bolt

import "golang.org/x/sys/unix"

// Where there are no open file description locks, the scheduler lock is a
// classic fcntl lock: it can be asked about without being taken (F_GETLK),
// but it belongs to the process: a second Lock in the process takes it
// again, and any descriptor of the lock file that the process closes
// releases it. So a scheduler process calls Lock once and never LockHolder;
// the commands that ask are other processes.
const setLock, getLock = unix.F_SETLK, unix.F_GETLK
