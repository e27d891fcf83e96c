package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

func openBolt(t testing.TB, path string, opts OpenOptions) store.Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBolt(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		path := filepath.Join(t.TempDir(), "jobs.db")
		t.Cleanup(func() { checkHistoryIndex(t, path) }) // after the store's Close
		return openBolt(t, path, OpenOptions{Create: true})
	})
}

// checkHistoryIndex checks the file's history index and finished counts
// against its runs, as the package doc says they stay: every stored run
// indexed under its Submitted time and nothing else, and each job's count
// of the runs that are not running.
func checkHistoryIndex(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return // never written
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(btx *bbolt.Tx) error {
		kv := boltTx{btx}
		want := map[string]bool{}
		finished := map[string]uint64{}
		all := kv.Bucket(bucketRuns)
		jc := all.Cursor()
		for name, _ := jc.First(); name != nil; name, _ = jc.Next() {
			id := string(name)
			c := all.Bucket(name).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				want[string(historyKey(id, getU64(k), submittedOf(v)))] = true
				if !has(kv.Bucket(bucketRunning), runningKey(id, getU64(k))) {
					finished[id]++
				}
			}
		}
		c := kv.Bucket(bucketHistory).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if !want[string(k)] {
				id, seq, _ := parseHistoryKey(k)
				t.Errorf("history index holds %s/%d, which is not stored", id, seq)
			}
			delete(want, string(k))
		}
		for k := range want {
			id, seq, _ := parseHistoryKey([]byte(k))
			t.Errorf("run %s/%d is not in the history index", id, seq)
		}
		fc := kv.Bucket(bucketFinished).Cursor()
		for k, v := fc.First(); k != nil; k, v = fc.Next() {
			if getU64(v) != finished[string(k)] {
				t.Errorf("finished count of %s is %d, want %d", k, getU64(v), finished[string(k)])
			}
			delete(finished, string(k))
		}
		for id, n := range finished {
			t.Errorf("no finished count for %s (%d runs)", id, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBoltCreatesPrivately(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "jobctl")
	path := filepath.Join(dir, "jobs.db")
	s := openBolt(t, path, OpenOptions{Create: true})
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open created %s before any write: %v", dir, err)
	}
	storetest.Put(t, s, storetest.Job("a", 0))
	for p, want := range map[string]fs.FileMode{path: 0o600, dir: 0o700 | fs.ModeDir, filepath.Dir(dir): 0o700 | fs.ModeDir} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", p, fi.Mode(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want the database only", len(entries))
	}
	// Another Store value reads what this one wrote.
	other := openBolt(t, path, OpenOptions{ReadOnly: true})
	if got := storetest.IDs(storetest.View(t, other, storetest.AllJobs)); len(got) != 1 || got[0] != "a" {
		t.Errorf("another store.Store sees %v", got)
	}
}

func TestBoltMissingFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nothing")
	path := filepath.Join(dir, "jobs.db")
	s := openBolt(t, path, OpenOptions{})
	if got := storetest.View(t, s, storetest.AllJobs); len(got) != 0 {
		t.Errorf("jobs of a missing database: %v", storetest.IDs(got))
	}
	if _, ok := storetest.NextRun(t, s); ok {
		t.Error("a missing database has a next run time")
	}
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteJob("x") })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing from a missing database: %v", err)
	}
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.PutJob(storetest.Job("a", 0)) })
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("writing to a missing database without Create: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reading a missing database created %s", dir)
	}
}

func TestBoltReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	storetest.Put(t, openBolt(t, path, OpenOptions{Create: true}), storetest.Job("a", 0))
	ro := openBolt(t, path, OpenOptions{ReadOnly: true})
	if err := ro.Update(t.Context(), func(tx store.Tx) error { return nil }); err == nil {
		t.Error("Update on a read-only store succeeded")
	}
}

func TestBoltBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	s := openBolt(t, path, OpenOptions{Create: true, Timeout: 100 * time.Millisecond})
	storetest.Put(t, s, storetest.Job("a", 0))
	// bbolt's flock belongs to an open file description, so a second
	// bbolt.Open in this process holds the lock against the store.
	holder, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, op := range map[string]func() error{
		"Update": func() error { return s.Update(t.Context(), func(store.Tx) error { return nil }) },
		"View":   func() error { return s.View(t.Context(), func(store.Tx) error { return nil }) },
	} {
		err := op()
		if !errors.Is(err, store.ErrBusy) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s while another holds the lock: %v", name, err)
		}
	}
	holder.Close()
	storetest.Put(t, s, storetest.Job("b", 0))
}

// TestBoltConcurrent: two Store values on one file, as two processes would
// be, each used from several goroutines; every update lands.
func TestBoltConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	stores := []store.Store{openBolt(t, path, OpenOptions{Create: true}), openBolt(t, path, OpenOptions{Create: true})}
	storetest.ConcurrentAdds(t, stores...)
}

// damaged files, each made from a good database's bytes (or none).
var damages = []struct {
	name string
	make func(good []byte) []byte
	want string
}{
	{"empty", func([]byte) []byte { return nil }, "not a jobctl database: empty file"},
	{"text", func([]byte) []byte { return []byte("0 * * * * backup\n") }, "not a jobctl database"},
	{"zeroed", func(good []byte) []byte { return make([]byte, len(good)) }, "not a jobctl database"},
	{"random", func(good []byte) []byte { return randomBytes(len(good), 1) }, "not a jobctl database"},
	{"truncated to one page", func(good []byte) []byte { return good[:4096] }, "damaged database"},
	{"truncated to half", func(good []byte) []byte { return good[:len(good)/2] }, "damaged database"},
	{"pages scribbled", func(good []byte) []byte {
		// The meta pages stay good, so bbolt opens the file and meets
		// garbage only when it walks the tree.
		bad := bytes.Clone(good)
		copy(bad[2*4096:], randomBytes(len(bad)-2*4096, 2))
		return bad
	}, "damaged database"},
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// goodDB returns the bytes of a database with a few jobs and runs in it.
func goodDB(t testing.TB, jobs int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "good.db")
	s := openBolt(t, path, OpenOptions{Create: true})
	for i := range jobs {
		j := storetest.Job(fmt.Sprintf("job-%02d", i), time.Duration(i)*time.Minute)
		j.Command = strings.Repeat("x", 500)
		storetest.Put(t, s, j)
		storetest.AddRuns(t, s, storetest.RunOf(j.ID, 0, store.Success))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBoltDamagedFiles: every kind of bad file gets an error naming the
// path, from Open, View and Update alike, and is never changed.
func TestBoltDamagedFiles(t *testing.T) {
	good := goodDB(t, 40)
	cases := damages
	cases = append(cases, struct {
		name string
		make func([]byte) []byte
		want string
	}{"another program's bbolt file", func([]byte) []byte { return foreignDB(t) }, "not a jobctl database"},
		struct {
			name string
			make func([]byte) []byte
			want string
		}{"newer schema", func([]byte) []byte { return newerDB(t) }, fmt.Sprintf("newer jobctl (schema version %d, this one reads %d)", schemaVersion+1, schemaVersion)})
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jobs.db")
			bad := tt.make(good)
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			check := func(op string, err error) {
				t.Helper()
				var fe *FileError
				if !errors.As(err, &fe) || fe.Path != path || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: %v, want a FileError for %s saying %q", op, err, path, tt.want)
				}
			}
			_, err := Open(path, OpenOptions{Create: true})
			check("Open", err)
			s := &boltStore{path: path, opts: OpenOptions{Create: true, Timeout: time.Second}}
			s.watch.init()
			check("View", s.View(t.Context(), func(tx store.Tx) error { _, err := storetest.AllJobs(tx); return err }))
			check("Update", s.Update(t.Context(), func(tx store.Tx) error { return tx.PutJob(storetest.Job("new", 0)) }))
			if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, bad) {
				t.Errorf("the file was changed (err %v)", err)
			}
		})
	}
}

// foreignDB is a bbolt database of some other program.
func foreignDB(t *testing.T) []byte {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("widgets"))
		if err != nil {
			return err
		}
		return b.Put([]byte("w1"), []byte("blue"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	return b
}

// newerDB is a jobctl database from a future schema version.
func newerDB(t *testing.T) []byte {
	path := filepath.Join(t.TempDir(), "newer.db")
	storetest.Put(t, openBolt(t, path, OpenOptions{Create: true}), storetest.Job("a", 0))
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaSchema, binary.BigEndian.AppendUint64(nil, schemaVersion+1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	return b
}

func TestBoltDirectory(t *testing.T) {
	path := t.TempDir()
	_, err := Open(path, OpenOptions{Create: true})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Open of a directory: %v", err)
	}
}

// wait returns when ch signals, failing the test if it does not within a
// generous bound (a deadline for a hang, not a measure of speed).
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the channel closed", what)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no signal", what)
	}
}

func TestBoltWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	me := openBolt(t, path, OpenOptions{Create: true}).(*boltStore)
	other := openBolt(t, path, OpenOptions{Create: true})
	storetest.Put(t, me, storetest.Job("a", 0))
	ch, err := me.Watch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, other, storetest.Job("b", 0))
	wait(t, ch, "commit by another Store")

	// Its own commit signals once: as it is made, not again when the
	// watcher sees the file change.
	storetest.Put(t, me, storetest.Job("c", 0))
	wait(t, ch, "its own commit")
	me.poll()
	select {
	case <-ch:
		t.Fatal("its own commit signalled twice")
	default:
	}
	// A commit by another, then one of its own, before it looked.
	storetest.Put(t, other, storetest.Job("d", 0))
	storetest.Put(t, me, storetest.Job("e", 0))
	wait(t, ch, "commit by another followed by its own")

	// The file deleted and made anew.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	wait(t, ch, "file removed")
	storetest.Put(t, other, storetest.Job("f", 0))
	wait(t, ch, "file re-created")
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "jobs.db")
	unlock, _, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Lock(path)
	want := fmt.Sprintf("another scheduler is running on %s (pid %d)", path, os.Getpid())
	if !errors.Is(err, ErrLocked) || err.Error() != want {
		t.Errorf("second Lock: %v, want %q", err, want)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	unlock, _, err = Lock(path)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock()
	if fi, err := os.Stat(path + ".lock"); err != nil || fi.Mode() != 0o600 {
		t.Errorf("lock file: %v %v", fi.Mode(), err)
	}
}

func TestDefaultPath(t *testing.T) {
	for _, tt := range []struct{ db, xdg, home, want string }{
		{"/x/my.db", "/xdg", "/home/u", "/x/my.db"},
		{"", "/xdg", "/home/u", "/xdg/jobctl/jobs.db"},
		{"", "relative", "/home/u", "/home/u/.local/share/jobctl/jobs.db"},
		{"", "", "/home/u", "/home/u/.local/share/jobctl/jobs.db"},
	} {
		t.Setenv("JOBCTL_DB", tt.db)
		t.Setenv("XDG_DATA_HOME", tt.xdg)
		t.Setenv("HOME", tt.home)
		if got, err := DefaultPath(); err != nil || got != tt.want {
			t.Errorf("DefaultPath with JOBCTL_DB=%q XDG_DATA_HOME=%q HOME=%q = %q, %v; want %q",
				tt.db, tt.xdg, tt.home, got, err, tt.want)
		}
	}
	t.Setenv("JOBCTL_DB", "")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "")
	if _, err := DefaultPath(); err == nil || !strings.Contains(err.Error(), "JOBCTL_DB") {
		t.Errorf("DefaultPath with nothing set: %v", err)
	}
}

// TestLockHolderPID checks the message names whatever pid the file holds.
func TestLockHolderPID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	unlock, _, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := os.WriteFile(path+".lock", []byte("4242\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Lock(path); err == nil || !strings.Contains(err.Error(), "(pid "+strconv.Itoa(4242)+")") {
		t.Errorf("second Lock: %v", err)
	}
}
