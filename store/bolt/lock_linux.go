package bolt

import "golang.org/x/sys/unix"

// The scheduler lock is an open file description lock (Linux 3.15). Like a
// flock, it belongs to the open file, not to the process, so only the
// scheduler's own descriptor closing releases it, never another descriptor
// of the file closing in the same process; unlike a flock, another process
// can ask whether it is held without taking it (F_OFD_GETLK), so that asking
// never makes a scheduler that starts meanwhile find it taken.
const setLock, getLock = unix.F_OFD_SETLK, unix.F_OFD_GETLK
