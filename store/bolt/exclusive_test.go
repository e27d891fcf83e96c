//go:build linux

package bolt

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// exclusive opens an Exclusive Store at a new path with one job, a.
func exclusive(t *testing.T) (store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jobs.db")
	s := openBolt(t, path, OpenOptions{Create: true, Exclusive: true})
	storetest.Put(t, s, storetest.Job("a", 0))
	return s, path
}

// ops checks that every kind of operation of s fails with an error
// saying want, and that none creates a file at path.
func ops(t *testing.T, s store.Store, path, want string) {
	t.Helper()
	view := s.View(t.Context(), func(store.Tx) error { return nil })
	update := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutJob(storetest.Job("b", 0)) })
	for name, err := range map[string]error{"View": view, "Update": update} {
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming %s and saying %q", name, err, path, want)
		}
	}
}

// hasJob checks that s reads its own database again.
func hasJob(t *testing.T, s store.Store, id string) {
	t.Helper()
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.Job(id)
		return err
	})
	if err != nil {
		t.Fatalf("the database is back, but: %v", err)
	}
}

// TestExclusiveGone: a scheduler's database moved away or deleted is not
// replaced by a new one; every operation says it is gone, until it is back.
func TestExclusiveGone(t *testing.T) {
	for _, how := range []string{"moved", "deleted"} {
		t.Run(how, func(t *testing.T) {
			s, path := exclusive(t)
			away := path + ".away"
			var err error
			if how == "moved" {
				err = os.Rename(path, away)
			} else { // a hard link keeps it, for putting back
				if err = os.Link(path, away); err == nil {
					err = os.Remove(path)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			ops(t, s, path, "is gone")
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a file was created in its place: %v", err)
			}
			if err := os.Rename(away, path); err != nil {
				t.Fatal(err)
			}
			hasJob(t, s, "a")
			storetest.Put(t, s, storetest.Job("b", 0))
		})
	}
}

// TestExclusiveReplaced: another database put at the path is refused; the
// scheduler's own, put back (or a copy of it), is taken again, with its
// lock.
func TestExclusiveReplaced(t *testing.T) {
	s, path := exclusive(t)
	other := filepath.Join(filepath.Dir(path), "other.db")
	storetest.Put(t, openBolt(t, other, OpenOptions{Create: true}), storetest.Job("x", 0))
	if err := os.Rename(path, path+".mine"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	ops(t, s, path, "is another database now")

	// A copy of its own: a file of its own, the same database.
	mine, err := os.ReadFile(path + ".mine")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".copy", mine, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".copy", path); err != nil {
		t.Fatal(err)
	}
	hasJob(t, s, "a")
	if _, err := Open(path, OpenOptions{Exclusive: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("a second scheduler on the copy: %v, want ErrLocked: the lock moved with the database", err)
	}
}

// TestExclusiveLock: one scheduler per database, even with its lock file
// removed: the database file is locked too, and LockHolder sees that.
func TestExclusiveLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	unlock, _, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	s := openBolt(t, path, OpenOptions{Create: true, Exclusive: true})
	storetest.Put(t, s, storetest.Job("a", 0))
	if err := os.Remove(path + ".lock"); err != nil {
		t.Fatal(err)
	}
	if held, _, err := LockHolder(path); err != nil || !held {
		t.Errorf("LockHolder with the lock file removed: held %v (%v), want held", held, err)
	}
	second, _, err := Lock(path) // a new lock file: taken
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, OpenOptions{Exclusive: true})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "lock file was removed") {
		t.Fatalf("a second scheduler, the lock file removed: %v, want ErrLocked saying why", err)
	}
	s.Close()
	second()
	if held, _, err := LockHolder(path); err != nil || held {
		t.Errorf("LockHolder after the scheduler closed its store: held %v (%v)", held, err)
	}
	s2, err := Open(path, OpenOptions{Exclusive: true})
	if err != nil {
		t.Fatalf("once the first let go: %v", err)
	}
	s2.Close()
}

// TestExclusiveInsecure: a database file made writable by others is
// refused at the next operation with CheckPrivate's message, until it is
// private again.
func TestExclusiveInsecure(t *testing.T) {
	s, path := exclusive(t)
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	ops(t, s, path, "is writable by its group and everyone (mode -rw-rw-rw-): fix it with: chmod go-w "+path)
	var ie *InsecureError
	if err := s.View(t.Context(), func(store.Tx) error { return nil }); !errors.As(err, &ie) {
		t.Errorf("%v, want an InsecureError", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	hasJob(t, s, "a")
}
