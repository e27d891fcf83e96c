//go:build unix

package bolt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"
)

// pin is what an Exclusive Store holds on to: its database (the instance
// the file was created with) and the file, open, with the scheduler lock
// on it. The database file is locked besides the lock file (see Lock),
// because a lock file can be removed: a second scheduler would then create
// and lock a new one, and run on the same database. The lock on the file
// itself is a lock on the database for as long as it lives, however it is
// renamed; it takes nothing from bbolt, whose own lock on the file is a
// flock, which a fcntl lock neither waits for nor blocks.
//
// Its fields are guarded by mu: Views run concurrently.
type pin struct {
	mu       sync.Mutex
	instance uint64   // 0 until the database is first read
	file     *os.File // the database file, locked; nil until first read
}

// gone is what an Exclusive Store says of a database file that is no
// longer at its path.
const gone = "is gone: moved away or deleted while the scheduler ran on it; nothing is run or recorded until it is back at that path (no new database is created there)"

// private checks a file that an operation of an Exclusive Store at path
// is to read: that no other user could have written what it says
// (checkFile, the rule CheckPrivate applies to the file at start), as the
// scheduler runs its commands as its own user. The directories are not
// checked again: a file put in place of this one through a directory
// made writable is another user's (checkFile) or another database (same).
func private(path string, fi fs.FileInfo) error {
	return checkFile(path, fi, systemAccounts())
}

// missing is the error of an operation that found no file at path: none
// if the Store has not read a database yet (it may create it), else
// gone.
func (p *pin) missing(path string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.instance == 0 {
		return nil
	}
	return &FileError{path, gone}
}

// same checks that the file fi at path, which holds the database instance,
// is the Store's database: the first one read, or that one put back (a
// copy, restored from a backup, in a file of its own, whose lock it then
// takes). Another database there is refused: a scheduler must not run
// jobs it was not started on.
func (p *pin) same(path string, fi fs.FileInfo, instance uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.instance != 0 && instance != p.instance {
		return &FileError{path, fmt.Sprintf("is another database now (instance %x, not %x, the scheduler's): it was replaced while the scheduler ran on it; nothing is run or recorded until its own file is back at that path (or restart the scheduler to run the new one)", instance, p.instance)}
	}
	if p.file != nil {
		if held, err := p.file.Stat(); err == nil && os.SameFile(held, fi) {
			return nil
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if now, err := f.Stat(); err != nil || !os.SameFile(now, fi) {
		f.Close()
		return fmt.Errorf("%s: replaced as the scheduler opened it; trying again", path)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLockHeld) {
			return fmt.Errorf("%w on %s (pid unknown: it holds the database file, whose lock file was removed or replaced while it ran)", ErrLocked, path)
		}
		return fmt.Errorf("locking %s: %w", path, err)
	}
	if p.file != nil {
		p.file.Close()
	}
	p.file, p.instance = f, instance
	return nil
}

// release lets the database go, its lock with it.
func (p *pin) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.file != nil {
		p.file.Close()
		p.file = nil
	}
}

// dbLockHeld reports whether a scheduler holds the lock on the database
// file at path itself (see pin); a missing file is not locked.
func dbLockHeld(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false, err
	}
	return lockHeld(f)
}
