package cmd

import (
	"errors"
	"fmt"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/bolt"
	"github.com/jobctl/jobctl/store/memory"
)

// This file is the only one in cmd that knows the store's engines (the
// bbolt file, the memory store, the scheduler's lock file): every command
// opens the database through a database.

// database is the database the root's --db names: the file path, else
// $JOBCTL_DB, else the XDG data directory (bolt.DefaultPath). NewRoot binds
// path to --db.
type database struct {
	path string
}

// openMode says what a command does with the database.
type openMode int

const (
	// forWriting: the first write creates the file, private to the user.
	forWriting openMode = iota
	// forReading: a database that does not exist yet reads as empty and
	// is not created; every write fails.
	forReading
	// forDryRun: writes are rolled back, so a database that does not exist
	// is not created.
	forDryRun
)

// Path is where the database is.
func (d *database) Path() (string, error) {
	if d.path != "" {
		return d.path, nil
	}
	return bolt.DefaultPath()
}

// Open opens the database for a command that does what mode says.
func (d *database) Open(mode openMode) (store.Store, error) {
	path, err := d.Path()
	if err != nil {
		return nil, err
	}
	var opts bolt.OpenOptions
	switch mode {
	case forWriting:
		opts.Create = true
	case forReading:
		opts.ReadOnly = true
	}
	return bolt.Open(path, opts)
}

// OpenScheduler opens the database a scheduler runs on: it must be private
// to the user (its commands run as this user), and it takes the scheduler
// lock, which unlock releases. It returns the database's path too.
func (d *database) OpenScheduler() (db store.Store, unlock func() error, path string, err error) {
	if path, err = d.Path(); err != nil {
		return nil, nil, "", err
	}
	if err := bolt.CheckPrivate(path); err != nil {
		return nil, nil, "", err
	}
	unlock, err = bolt.Lock(path)
	if errors.Is(err, bolt.ErrLocked) {
		return nil, nil, "", fmt.Errorf("%w: one scheduler per database", err)
	}
	if err != nil {
		return nil, nil, "", err
	}
	if db, err = bolt.Open(path, bolt.OpenOptions{Create: true}); err != nil {
		unlock()
		return nil, nil, "", err
	}
	return db, unlock, path, nil
}

// Scheduler reports whether a scheduler holds the database's lock, and its
// process id when the lock file says (else 0). It takes no lock.
func (d *database) Scheduler() (running bool, pid int, err error) {
	path, err := d.Path()
	if err != nil {
		return false, 0, err
	}
	return bolt.LockHolder(path)
}

// openMemory returns a store that keeps nothing: for jobctl run --memory.
func openMemory() (store.Store, error) { return memory.New() }

// checkPrivate refuses a file whose contents other users could have
// written: a jobfile's commands run as this user.
func checkPrivate(path string) error { return bolt.CheckPrivate(path) }
