// Package bolt is the store engine on a bbolt file: jobctl's default,
// shared by the CLI and a running scheduler on one machine. Open gives the
// Store in a file; OpenTemp one in a file no other process can reach (the
// memory engine). It also holds what a file needs around it: DefaultPath,
// the scheduler's Lock, and CheckPrivate for the file's permissions.
//
// # Layout
//
// Integers are 8 bytes big-endian; times in keys are 12 bytes,
// the Unix seconds with the sign bit flipped and then the nanoseconds, both
// big-endian, so that keys sort in time order for every time.Time.
//
//	jobs             job id -> Job as JSON
//	index            time(NextRun) + job id -> empty
//	runs/<job id>    run seq -> Run as JSON (output that is not UTF-8 as
//	                 base64 in output_bytes); the bucket's sequence is the
//	                 highest seq AddRun gave or RestoreRun restored
//	running          run seq + job id -> empty, for every run whose outcome is Running
//	history          time(Submitted) + job id + 0 + run seq -> empty, every stored run
//	finished         job id -> count of its stored runs that are not running
//	changes          change seq -> Change as JSON; the bucket's sequence numbers them
//	periods          kind + 0 + time(Start) + scheduler -> Period as JSON, the
//	                 newest PeriodLimit of each kind (made by the first PutPeriod)
//	meta             "magic" -> "jobctl"; "schema" -> version (2; a file of
//	                 version 1, without history and finished, is upgraded
//	                 when opened);
//	                 "instance" -> random, chosen when the file is created;
//	                 "commits" -> count of commits; "settings" -> Settings as JSON
//
// # Invariants
//
// Besides those of the store contract (see package store):
//
//   - The index holds exactly the active jobs with a NextRun, so Due and
//     NextRunTime seek to its start and read only what they return:
//     O(log n + due). PutJob moves a job's key when its State or NextRun
//     changes; DeleteJob removes it with the job's history and running runs.
//   - history holds exactly the stored runs, so the newest N runs of all
//     jobs are its last N keys; finished counts them per job, so a run that
//     ends trims its job's history without a walk over it.
//   - PutJob and RecordChange batch their writes until the bucket is read
//     or the transaction commits, and write them in key order (see batch).
//   - Every Update that writes increments the commit counter. A Store
//     signals its watchers as it commits, and, when the file changes,
//     compares the (instance, commits) stamp it finds with the last it
//     signalled, so that another process's commits are signalled once and
//     its own are not signalled twice.
//
// # Guarantees of the bbolt store
//
// The file is not kept open: each View opens it read-only under a shared
// lock, each Update under an exclusive lock, and closes it afterwards, so the
// CLI and a running scheduler take turns; a lock not had within the timeout
// is ErrBusy. An Update is atomic and durable (bbolt fsyncs on commit); one
// that writes nothing commits nothing. A file is created only by an Update
// with OpenOptions.Create, atomically (laid out under a temporary name and
// linked into place), mode 0600 in a directory made 0700. A file that is not
// a jobctl database, is damaged, or is from a newer schema gives a FileError
// naming it, never a panic, and is not written to. One kind of damage is
// beyond this: bbolt trusts the links between its pages, and a damaged link
// that makes them loop hangs whoever reads through it (bbolt's own "bbolt
// check" reports such a file).
package bolt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/jobctl/jobctl/store"
)

// maxGrowth bounds how much one Update may grow a file beyond its size (or
// by its size, if larger); see openDB.
const maxGrowth = 256 << 20

// A file grows by its own size, at least minAlloc (a new file's size) and
// at most maxAlloc (bbolt's own step); see openDB.
const (
	minAlloc = 32 << 10
	maxAlloc = 16 << 20
)

// DefaultTimeout is how long an operation waits for another process to
// release the database before failing with ErrBusy.
const DefaultTimeout = 5 * time.Second

// OpenOptions say how Open uses the database file.
type OpenOptions struct {
	// Timeout is how long to wait for the file's lock; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// ReadOnly makes every Update fail; for commands that only look.
	ReadOnly bool
	// Create makes the first Update create the file (mode 0600) and its
	// directory (0700). Without it, a missing file reads as an empty
	// database, nothing is created, and an Update that writes fails with
	// fs.ErrNotExist.
	Create bool
	// Exclusive makes the Store a scheduler's, which must run only what
	// its own database says and its user could have written: it holds the
	// scheduler lock on the database file itself for its life (ErrLocked
	// if another Store holds it; see pin), and every operation checks that
	// the path still names that database (the first one it read) and that
	// the file is private (its owner and mode, by CheckPrivate's rule for
	// the file). A file moved away,
	// deleted, replaced by another database, or made writable by others
	// fails every operation, saying so, until it is back as it was; no
	// file is created in its place.
	Exclusive bool
}

// FileError is a database file that cannot be used as it is: not a jobctl
// database, damaged, or written by a newer jobctl. The file is left as it
// was found.
type FileError struct {
	Path    string
	Problem string
}

func (e *FileError) Error() string { return e.Path + ": " + e.Problem }

// Open returns the Store kept in the bbolt file at path. It does not keep
// the file open: each View or Update opens it (View with a shared lock,
// Update with an exclusive one), runs its transaction and closes it, so the
// CLI and a running scheduler take turns. Open checks an existing file at
// once, so that a damaged or foreign file is reported before any work.
func Open(path string, opts OpenOptions) (store.Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	s := &boltStore{path: path, opts: opts}
	if opts.Exclusive {
		s.pin = &pin{}
	}
	s.watch.init()
	noop := func(store.Tx) error { return nil }
	err := s.view(context.Background(), noop)
	if errors.Is(err, errOldSchema) {
		// Upgraded now, even for a read-only Store: its reads need the
		// new layout, and the upgrade changes no job or run.
		err = s.update(context.Background(), noop)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

type boltStore struct {
	path string
	opts OpenOptions

	// mu serialises this value's own operations: Views share it, an Update
	// holds it alone. Without it they would still exclude each other
	// through the file lock, but bbolt waits for that lock by polling.
	mu     sync.RWMutex
	closed bool
	// checked is the file last verified with a read-only open before being
	// opened for writing (see Update).
	checked os.FileInfo
	pin     *pin // nil unless Exclusive

	watch  watchers
	seenMu sync.Mutex
	seen   stamp // the latest commit this value knows of
	// unreadable is whether the file could not be read at the last poll.
	unreadable bool
}

func (s *boltStore) View(ctx context.Context, fn func(store.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	if err := s.view(ctx, fn); errors.Is(err, errOldSchema) {
		// A file replaced since Open by an older jobctl's.
		return &FileError{s.path, err.Error()}
	} else {
		return err
	}
}

// view runs fn in a read-only transaction; s.mu is held.
func (s *boltStore) view(ctx context.Context, fn func(store.Tx) error) (err error) {
	defer s.catch(&err)
	// A truncated file faults when bbolt reads a page past its end; as a
	// panic, it is reported as damage instead of killing the process.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, fi, err := s.openDB(ctx, false)
	if errors.Is(err, fs.ErrNotExist) {
		if err := s.missing(); err != nil {
			return err
		}
		return viewMissing(ctx, fn)
	}
	if err != nil {
		return err
	}
	var btx *bbolt.Tx
	defer func() { closeDB(db, btx, false) }()
	if guard(func() { btx, err = db.Begin(false) }); err != nil {
		return s.fileError(err)
	}
	kv := boltTx{btx}
	if err := s.check(btx, fi); err != nil {
		return err
	}
	return fn(newTx(kv, false))
}

func (s *boltStore) Update(ctx context.Context, fn func(store.Tx) error) (err error) {
	if s.opts.ReadOnly {
		return fmt.Errorf("%s: opened read-only", s.path)
	}
	return s.update(ctx, fn)
}

// update is Update, for a read-only Store as well.
func (s *boltStore) update(ctx context.Context, fn func(store.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	// bbolt may write to a file merely opened for writing (to convert a
	// foreign database's free list), so a file not seen before is first
	// checked with a read-only open, which never writes.
	fi, err := os.Stat(s.path)
	if err == nil && s.pin != nil {
		// Checked again on the descriptor, but an open for writing of a
		// file refused is a change to it, which would wake a watcher
		// (the scheduler) to try again and again.
		if err := private(s.path, fi); err != nil {
			return err
		}
	}
	if err == nil && !(s.checked != nil && os.SameFile(fi, s.checked)) {
		if err := s.view(ctx, func(store.Tx) error { return nil }); err != nil && !errors.Is(err, errOldSchema) {
			return err
		}
		s.checked = fi
	}

	defer s.catch(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, fi, err := s.openDB(ctx, true)
	if errors.Is(err, fs.ErrNotExist) {
		if err := s.missing(); err != nil {
			return err
		}
		if !s.opts.Create {
			return s.updateMissing(ctx, fn)
		}
		if err := s.create(); err != nil {
			return err
		}
		db, fi, err = s.openDB(ctx, true)
	}
	if err != nil {
		return err
	}
	var btx *bbolt.Tx
	committed := false
	defer func() { closeDB(db, btx, committed) }()
	if guard(func() { btx, err = db.Begin(true) }); err != nil {
		return s.fileError(err)
	}
	kv := boltTx{btx}
	t := newTx(kv, true)
	if err := s.check(btx, fi); errors.Is(err, errOldSchema) {
		if err := upgradeHistory(t); err != nil {
			return fmt.Errorf("%s: upgrading: %w", s.path, err)
		}
	} else if err != nil {
		return err
	}
	if err := fn(t); err != nil {
		return err
	}
	if !t.dirty {
		return nil // rolled back: nothing to write, no fsync, no signal
	}
	old, err := t.bumpCommits()
	if err != nil {
		return fmt.Errorf("%s: %w", s.path, err)
	}
	if guard(func() { err = btx.Commit() }); err != nil {
		if errors.Is(err, bolterrors.ErrMaxSizeReached) {
			return &FileError{s.path, "damaged database: one update would have grown it by more than " + strconv.Itoa(maxGrowth>>20) + " MiB"}
		}
		return fmt.Errorf("%s: commit: %w", s.path, err)
	}
	committed = true
	s.observe(stamp{old.instance, old.commits + 1})
	s.watch.broadcast()
	return nil
}

// check reports whether the file btx reads is whole and a jobctl
// database, and for an Exclusive Store, its database; fi is the file as it
// was opened (before its lock was had: its size may have changed since).
func (s *boltStore) check(btx *bbolt.Tx, fi os.FileInfo) error {
	// bbolt grows the file before writing past its end, so a file shorter
	// than the last page in use has lost its end.
	if fi, err := os.Stat(s.path); err == nil && fi.Size() < btx.Size() {
		return &FileError{s.path, fmt.Sprintf("damaged database: truncated (%d bytes of at least %d)", fi.Size(), btx.Size())}
	}
	err := checkSchema(boltTx{btx})
	if err != nil && !errors.Is(err, errOldSchema) {
		return s.fileError(err)
	}
	if s.pin != nil {
		if err := s.pin.same(s.path, fi, readStamp(boltTx{btx}).instance); err != nil {
			return err
		}
	}
	return err
}

// missing is the error of an operation that found no file: none, unless
// the Store is Exclusive and has read its database (see pin.missing).
func (s *boltStore) missing() error {
	if s.pin == nil {
		return nil
	}
	return s.pin.missing(s.path)
}

// viewMissing runs fn for a View of a file that does not exist: against
// an empty database.
func viewMissing(ctx context.Context, fn func(store.Tx) error) error {
	empty, err := OpenTemp()
	if err != nil {
		return err
	}
	defer empty.Close()
	return empty.View(ctx, fn)
}

// updateMissing runs fn for an Update of a file that does not exist and
// may not be created: against an empty database, and failing if fn writes.
func (s *boltStore) updateMissing(ctx context.Context, fn func(store.Tx) error) error {
	empty, err := OpenTemp()
	if err != nil {
		return err
	}
	defer empty.Close()
	wrote := false
	err = empty.Update(ctx, func(t store.Tx) error {
		if err := fn(t); err != nil {
			return err
		}
		wrote = t.(*tx).dirty
		return nil
	})
	if err == nil && wrote {
		return &fs.PathError{Op: "update", Path: s.path, Err: fs.ErrNotExist}
	}
	return err
}

// create makes a new database at s.path atomically: laid out in a temporary
// file, then linked into place, so no process ever sees a half-made file
// (and an empty file at the path is never one of ours). If another process
// creates it first, its file wins.
func (s *boltStore) create() error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".new*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	db, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: s.opts.Timeout})
	if err != nil {
		return fmt.Errorf("%s: %w", tmp, err)
	}
	err = db.Update(func(btx *bbolt.Tx) error { return initSchema(boltTx{btx}) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", tmp, err)
	}
	if err := os.Link(tmp, s.path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	// The new name must survive a crash as the file's contents do.
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// openDB opens the database file, never creating it, waiting for its lock
// until the timeout or ctx's deadline, whichever comes first. It returns
// the file's FileInfo as the descriptor bbolt reads from had it.
func (s *boltStore) openDB(ctx context.Context, write bool) (db *bbolt.DB, fi os.FileInfo, err error) {
	wait := s.opts.Timeout
	if d, ok := ctx.Deadline(); ok {
		wait = max(min(wait, time.Until(d)), time.Millisecond)
	}
	open := func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := openExisting(name, flag, perm)
		if err != nil {
			return nil, err
		}
		if fi, err = f.Stat(); err == nil && s.pin != nil {
			err = private(s.path, fi)
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	opts := &bbolt.Options{ReadOnly: !write, Timeout: wait, OpenFile: open}
	allocSize := 0
	if fi, err := os.Stat(s.path); err == nil && write {
		// No update of ours comes near growing the file this much, but
		// bbolt, misled by a damaged length on a page it rewrites, can copy
		// gigabytes; capped, it fails before writing anything.
		opts.MaxSize = int(fi.Size() + max(fi.Size(), maxGrowth))
		// Mapped that large from the start, the file grows without being
		// remapped, and each remap would copy every key and value the
		// transaction holds out of the old map (a sixth of applying
		// 100,000 jobs). The map is address space; nothing beyond the
		// file's end is touched.
		opts.InitialMmapSize = opts.MaxSize
		// bbolt would then grow the file 16 MiB at a time. Grown by its
		// own size instead, as bbolt grows a small file, it grows seldom
		// (each growth costs an fsync), stays under twice what it holds,
		// and a file cut to half its size has lost pages (see check).
		allocSize = min(max(int(fi.Size()), minAlloc), maxAlloc)
	}
	guard(func() { db, err = bbolt.Open(s.path, 0o600, opts) })
	switch {
	case err == nil:
		if allocSize > 0 {
			db.AllocSize = allocSize
		}
		return db, fi, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, err
	case errors.Is(err, bolterrors.ErrTimeout):
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w: %s is in use by another jobctl (waited %v)", store.ErrBusy, s.path, wait)
	}
	return nil, nil, s.fileError(err)
}

var (
	errEmptyFile = errors.New("empty file")
	errIsDir     = errors.New("is a directory")
)

// openExisting is bbolt's file opener, without O_CREATE and refusing an
// empty file, which bbolt would otherwise lay out as a new database.
func openExisting(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag&^os.O_CREATE, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case fi.IsDir():
		err = errIsDir
	case fi.Size() == 0:
		err = errEmptyFile
	default:
		return f, nil
	}
	f.Close()
	return nil, err
}

// fileError names the path in an error about the file's contents.
func (s *boltStore) fileError(err error) error {
	var se schemaError
	var pe *fs.PathError
	var ie *InsecureError
	switch {
	case errors.As(err, &ie):
		return err
	case errors.As(err, &se):
		return &FileError{s.path, se.problem}
	case errors.Is(err, errEmptyFile), errors.Is(err, errIsDir):
		return &FileError{s.path, "not a jobctl database: " + err.Error()}
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch):
		return &FileError{s.path, "not a jobctl database (" + err.Error() + ")"}
	case errors.As(err, &pe):
		return err
	}
	return &FileError{s.path, "damaged database: " + err.Error()}
}

// closeDB ends the transaction, unless committed, and closes the database.
// After bbolt has panicked it may hold its own locks, so a Close that could
// wait on them forever is skipped; the file descriptor then leaks.
func closeDB(db *bbolt.DB, btx *bbolt.Tx, committed bool) {
	if btx != nil && !committed && !try(func() { btx.Rollback() }) {
		return
	}
	try(func() { db.Close() })
}

func (s *boltStore) Watch(ctx context.Context) (<-chan struct{}, error) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, store.ErrClosed
	}
	if s.opts.Create {
		if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
			return nil, err
		}
	}
	ch, ctx := s.watch.add(ctx)
	// Commits from before Watch are not news.
	if st, err := s.currentStamp(); err == nil {
		s.observe(st)
	}
	if err := watchFile(ctx, s.path, s.poll); err != nil {
		s.watch.remove(ch)
		return nil, err
	}
	return ch, nil
}

// poll is called when the file may have changed: it signals the watchers if
// the file holds a commit this value has not signalled yet (its own commits
// signal as they are made).
func (s *boltStore) poll() {
	st, err := s.currentStamp()
	if errors.Is(err, store.ErrBusy) {
		return // the next change or commit looks again
	}
	// A file that became unreadable, or readable again (for an Exclusive
	// Store, another database or not private, and back), is news too,
	// once: the watchers look, and find out why. Once only, as their
	// looking may open the file for writing, which is a change to it.
	news := s.failing(err != nil)
	if err == nil && s.observe(st) {
		news = true
	}
	if news {
		s.watch.broadcast()
	}
}

// failing records whether the file could not be read at a poll, and
// reports whether that is news.
func (s *boltStore) failing(now bool) (news bool) {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	news = now != s.unreadable
	s.unreadable = now
	return news
}

// currentStamp reads the file's commit stamp; a missing file has the zero
// stamp.
func (s *boltStore) currentStamp() (stamp, error) {
	if _, err := os.Stat(s.path); errors.Is(err, fs.ErrNotExist) {
		return stamp{}, nil
	}
	var st stamp
	err := s.View(context.Background(), func(t store.Tx) error {
		st = readStamp(t.(*tx).kv)
		return nil
	})
	return st, err
}

// observe records that the file is at stamp now and reports whether that
// is news to this value: a later commit, or a new file.
func (s *boltStore) observe(now stamp) (news bool) {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	if now.instance != s.seen.instance {
		s.seen = now
		return true
	}
	news = now.commits > s.seen.commits
	s.seen.commits = max(s.seen.commits, now.commits)
	return news
}

func (s *boltStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.watch.close()
		if s.pin != nil {
			s.pin.release()
		}
	}
	return nil
}
