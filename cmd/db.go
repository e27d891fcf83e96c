package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/bolt"
	"github.com/jobctl/jobctl/store/memory"
)

// This file is the only one in cmd that knows the store's engines (the
// bbolt file, the memory store, the scheduler's lock file): every command
// opens the database through a database, or, naming a store by URL or path
// (migrate's --from and --to), through a location.

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
	return openBolt(path, mode)
}

func openBolt(path string, mode openMode) (store.Store, error) {
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

// location is a store that a flag names by URL or path, as migrate's
// --from and --to do. Today every store is a bbolt file, named by its
// path; a store engine with URLs (postgres://) adds its case to
// parseLocation and to each method below.
type location struct {
	flag  string // the flag that names it, for messages
	value string // as given
	path  string // the bbolt file
}

// parseLocation reads the store that flag's value names. A value with a
// URL scheme no engine has is refused, rather than taken for a file path
// (which would create a directory called "postgres:").
func parseLocation(flag, value string) (*location, error) {
	if value == "" {
		return nil, usagef("%s: no database given (want a database file path)", flag)
	}
	if scheme, _, ok := strings.Cut(value, "://"); ok {
		return nil, usagef("%s %q: no store engine for %q URLs (want a database file path)", flag, value, scheme)
	}
	return &location{flag: flag, value: value, path: value}, nil
}

func (l *location) String() string { return l.value }

// check refuses, as bad input, a store that is not there to read
// (mustExist) or that a file path cannot be: a directory.
func (l *location) check(mustExist bool) error {
	fi, err := os.Stat(l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && mustExist:
		return usagef("%s %q: no such database file", l.flag, l.value)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return asUsage(fmt.Errorf("%s: %w", l.flag, err))
	case fi.IsDir():
		return usagef("%s %q: is a directory, not a database file", l.flag, l.value)
	}
	return nil
}

// open opens the store for mode.
func (l *location) open(mode openMode) (store.Store, error) { return openBolt(l.path, mode) }

// same reports whether l and m name one store: for files, one file,
// whatever the paths to it.
func (l *location) same(m *location) bool {
	a, errA := os.Stat(l.path)
	b, errB := os.Stat(m.path)
	return errA == nil && errB == nil && os.SameFile(a, b)
}

// scheduler reports whether a scheduler runs on the store, and its process
// id when known (else 0). It takes no lock.
func (l *location) scheduler() (running bool, pid int, err error) {
	return bolt.LockHolder(l.path)
}
