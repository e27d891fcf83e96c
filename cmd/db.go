package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/bolt"
	"github.com/jobctl/jobctl/store/jobfile"
	"github.com/jobctl/jobctl/store/memory"
	"github.com/jobctl/jobctl/store/postgres"
)

// This file is the only one in cmd that knows the store's engines (the
// bbolt file, the memory store, the scheduler's lock file): every command
// opens the database through a database, or, naming a store by URL or path
// (migrate's --from and --to), through a location.

// database is the database the root's --db names, else the default store
// (defaultLocation says which); or a store a jobfile names, which --store
// picks (stores.go). NewRoot binds path to --db and store to --store.
type database struct {
	path  string
	store string // a name: "" is jobfile.DefaultStore
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

// location is the store --store names, found in $JOBCTL_JOBFILE; without
// --store, the default store (see defaultLocation).
func (d *database) location() (*location, error) {
	if d.store != "" {
		stores, _, err := d.stores(nil)
		if err != nil {
			return nil, err
		}
		return stores[0].loc, nil
	}
	env, err := d.namingJobfile()
	if err != nil {
		return nil, err
	}
	return d.defaultLocation(env)
}

// defaultLocation is the default store, by the one rule every command
// follows: the database --db names, else the [stores.default] of the
// jobfiles, in order (the one of -f, then the one $JOBCTL_JOBFILE names;
// nil: none), else $JOBCTL_DB, else the file in the XDG data directory
// (bolt.DefaultPath). The flag beats the files; the files, which name
// their stores on purpose, beat the variable, which is where the database
// is when nothing says.
func (d *database) defaultLocation(files ...*loadedJobfile) (*location, error) {
	if d.path != "" {
		return parseLocation("--db", d.path)
	}
	for _, f := range files {
		if f == nil {
			continue
		}
		for _, s := range f.stores {
			if s.name == jobfile.DefaultStore {
				return s.loc, nil
			}
		}
	}
	if v := os.Getenv("JOBCTL_DB"); v != "" {
		return parseLocation("$JOBCTL_DB", v)
	}
	path, err := bolt.DefaultPath()
	if err != nil {
		return nil, err
	}
	return &location{flag: "the default database", value: path, path: path}, nil
}

// Open opens the database for a command that does what mode says.
func (d *database) Open(mode openMode) (store.Store, error) {
	l, err := d.location()
	if err != nil {
		return nil, err
	}
	return l.open(mode)
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

// schedulerDB is a database opened for a scheduler.
type schedulerDB struct {
	store  store.Store
	unlock func() error
	where  string // for the log
	// For a database file, runner.Config's StoreErrors, which notes the
	// store's failures in the lock file for scheduler status (see
	// bolt.Lock), and FreeSpace; nil for other stores.
	storeErrors func(error)
	freeSpace   func() (uint64, error)
}

// openScheduler opens the database a scheduler runs on. A file must be
// private to the user (its commands run as this user), and the scheduler
// takes its lock, which unlock releases: one scheduler per file. The Store
// is Exclusive: it locks the file itself too, and refuses to go on with a
// file moved, replaced or made writable by others meanwhile. A
// PostgreSQL database takes a fleet of schedulers, and no lock. The notes
// of store errors are dated by now, and log says when one cannot be
// written.
func (l *location) openScheduler(now func() time.Time, log *slog.Logger) (*schedulerDB, error) {
	if l.url != "" {
		db, err := l.open(forWriting)
		return &schedulerDB{store: db, unlock: func() error { return nil }, where: l.String()}, err
	}
	if err := bolt.CheckPrivate(l.path); err != nil {
		return nil, err
	}
	unlock, note, err := bolt.Lock(l.path)
	var db store.Store
	if err == nil {
		if db, err = bolt.Open(l.path, bolt.OpenOptions{Create: true, Exclusive: true}); err != nil {
			unlock()
		}
	}
	if errors.Is(err, bolt.ErrLocked) {
		return nil, fmt.Errorf("%w: one scheduler per database", err)
	}
	if err != nil {
		return nil, err
	}
	return &schedulerDB{
		store: db, unlock: unlock, where: l.path,
		storeErrors: noteErrors(note, now, log),
		freeSpace:   func() (uint64, error) { return bolt.FreeSpace(l.path) },
	}, nil
}

// noteErrors is a runner.Config.StoreErrors that notes the store's
// failures with note, for scheduler status (see storeFailure), dated by
// now.
func noteErrors(note func(bolt.Note) error, now func() time.Time, log *slog.Logger) func(error) {
	// The runner calls it one call at a time: these are its.
	var since time.Time
	var told bool
	return func(err error) {
		var n bolt.Note
		if err == nil {
			since = time.Time{}
		} else {
			at := now()
			if since.IsZero() {
				since = at
			}
			n = bolt.Note{Since: since, At: at, Err: err.Error()}
		}
		if err := note(n); err != nil && !told {
			told = true
			log.Warn("cannot note the store's errors in the lock file: jobctl scheduler status does not show them", "err", err)
		}
	}
}

// storeFailure is what a running scheduler says of its store's failures:
// since when and, at last, when and how it failed. The zero value says the
// store works, or that the scheduler cannot say (on PostgreSQL, the store
// a fleet would tell it through is the one failing).
type storeFailure struct {
	since, at time.Time
	err       string
}

// storeFailure reads what the scheduler running on the store says of its
// failures. It writes nothing: it answers on a read-only file system.
func (l *location) storeFailure() (storeFailure, error) {
	if l.url != "" {
		return storeFailure{}, nil
	}
	n, err := bolt.ReadNote(l.path)
	return storeFailure{since: n.Since, at: n.At, err: n.Err}, err
}

// openMemory returns a store that keeps nothing: for jobctl run --memory.
func openMemory() (store.Store, error) { return memory.New() }

// checkPrivate refuses a file whose contents other users could have
// written: a jobfile's commands run as this user.
func checkPrivate(path string) error { return bolt.CheckPrivate(path) }

// location is a store that a flag names by URL or path: --db, or
// migrate's --from and --to.
type location struct {
	flag  string // what names it, for messages: a flag, $JOBCTL_DB, a jobfile's url, or "the default database"
	value string // as given
	path  string // a bbolt file, or
	url   string // a PostgreSQL database
}

// parseLocation reads the store that flag's value names. A value with a
// URL scheme no engine has is refused, rather than taken for a file path
// (which would create a directory called "postgres:").
func parseLocation(flag, value string) (*location, error) {
	if value == "" {
		return nil, usagef("%s: no database given (want a database file path or a postgres:// URL)", flag)
	}
	if postgres.IsURL(value) {
		// A URL that cannot be a database's is bad input, not a server
		// that does not answer.
		if err := postgres.CheckURL(value); err != nil {
			return nil, asUsage(fmt.Errorf("%s: %w", flag, err))
		}
		return &location{flag: flag, value: value, url: value}, nil
	}
	if scheme, _, ok := strings.Cut(value, "://"); ok {
		return nil, usagef("%s %q: no store engine for %q URLs (want a database file path or a postgres:// URL)", flag, redactURL(value), scheme)
	}
	return &location{flag: flag, value: value, path: value}, nil
}

// String names the store for messages: a URL without its password.
func (l *location) String() string { return redactURL(l.value) }

// redactURL is value, a database file path or URL, fit for a message: a
// URL without its password. A URL that does not parse cannot say where its
// password is, and is shown as its scheme alone.
func redactURL(value string) string {
	scheme, _, ok := strings.Cut(value, "://")
	if !ok {
		return value // a path, shown as given
	}
	u, err := url.Parse(value)
	if err != nil {
		return scheme + "://…"
	}
	// libpq takes a password as a parameter too.
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// check refuses, as bad input, a store that is not there to read
// (mustExist) or that a file path cannot be: a directory.
func (l *location) check(mustExist bool) error {
	if l.url != "" {
		return nil // a server answers for itself when opened
	}
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
func (l *location) open(mode openMode) (store.Store, error) {
	if l.url == "" {
		return openBolt(l.path, mode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	db, err := postgres.Open(ctx, l.url)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.flag, err)
	}
	return db, nil
}

// openTimeout bounds connecting to a database server.
const openTimeout = 15 * time.Second

// same reports whether l and m name one store: for files, one file,
// whatever the paths to it, or one path to a file not there yet; for
// PostgreSQL, one database, however the URLs spell it.
func (l *location) same(m *location) bool {
	if l.url != "" || m.url != "" {
		return l.url != "" && m.url != "" && postgres.SameDatabase(l.url, m.url)
	}
	if a, errA := filepath.Abs(l.path); errA == nil {
		if b, errB := filepath.Abs(m.path); errB == nil && a == b {
			return true
		}
	}
	a, errA := os.Stat(l.path)
	b, errB := os.Stat(m.path)
	return errA == nil && errB == nil && os.SameFile(a, b)
}

// scheduler reports whether a scheduler runs on the store, and its process
// id when known (else 0). It takes no lock.
func (l *location) scheduler() (running bool, pid int, err error) {
	if l.url == "" {
		return bolt.LockHolder(l.path)
	}
	db, err := l.open(forReading)
	if err != nil {
		return false, 0, err
	}
	defer db.Close()
	err = db.View(context.Background(), func(tx store.Tx) error {
		f, err := readFleet(tx)
		running = f.running()
		return err
	})
	return running, 0, err
}

// fleetView is the schedulers registered on a store shared by a fleet.
type fleetView struct {
	on      bool // the store takes a fleet (PostgreSQL)
	members []store.Member
	now     time.Time // by the store's clock, which the leases go by
}

// readFleet reads the fleet of the store of tx: none, off a fleet's store.
func readFleet(tx store.Tx) (f fleetView, err error) {
	ftx, ok := tx.(store.FleetTx)
	if !ok {
		return f, nil
	}
	f.on = true
	if f.members, err = ftx.Members(); err != nil {
		return f, err
	}
	f.now, err = ftx.Now()
	return f, err
}

// running reports whether a scheduler of the fleet runs: one holds a live
// lease.
func (f fleetView) running() bool {
	return slices.ContainsFunc(f.members, func(m store.Member) bool { return m.Live(f.now) })
}
