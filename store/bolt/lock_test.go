//go:build unix

package bolt

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestLockThroughLinks: every path to one database takes one lock, whether
// a symbolic link names the file, a directory on the way, or a file not
// created yet; the lock file is beside the file itself.
func TestLockThroughLinks(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (db, other string)
	}{
		{"link to the file", func(t *testing.T, dir string) (string, string) {
			db := filepath.Join(dir, "jobs.db")
			mustWrite(t, db, 0o600)
			return db, mustLink(t, "jobs.db", filepath.Join(dir, "link.db"))
		}},
		{"link to its directory", func(t *testing.T, dir string) (string, string) {
			mustMkdir(t, filepath.Join(dir, "real"), 0o700)
			db := filepath.Join(dir, "real", "jobs.db")
			mustWrite(t, db, 0o600)
			return db, filepath.Join(mustLink(t, "real", filepath.Join(dir, "alias")), "jobs.db")
		}},
		{"not created, link to its directory", func(t *testing.T, dir string) (string, string) {
			mustMkdir(t, filepath.Join(dir, "real"), 0o700)
			return filepath.Join(dir, "real", "jobs.db"),
				filepath.Join(mustLink(t, "real", filepath.Join(dir, "alias")), "jobs.db")
		}},
		{"not created, in a directory not created, through a link", func(t *testing.T, dir string) (string, string) {
			mustMkdir(t, filepath.Join(dir, "real"), 0o700)
			return filepath.Join(dir, "real", "new", "jobs.db"),
				filepath.Join(mustLink(t, "real", filepath.Join(dir, "alias")), "new", "jobs.db")
		}},
		{"not created, dangling link to it", func(t *testing.T, dir string) (string, string) {
			return filepath.Join(dir, "jobs.db"), mustLink(t, "jobs.db", filepath.Join(dir, "link.db"))
		}},
		{"relative, through a link and ..", func(t *testing.T, dir string) (string, string) {
			if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o700); err != nil {
				t.Fatal(err)
			}
			mustLink(t, filepath.Join("a", "b"), filepath.Join(dir, "alias"))
			t.Chdir(dir)
			// As the kernel resolves it: a/b/.., not . as filepath.Clean says.
			return filepath.Join(dir, "a", "jobs.db"), "alias/../jobs.db"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := privateDir(t)
			db, other := tt.setup(t, dir)
			for _, first := range [][2]string{{db, other}, {other, db}} {
				unlock, _, err := Lock(first[0])
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := Lock(first[1]); !errors.Is(err, ErrLocked) {
					t.Errorf("Lock(%s) while Lock(%s) holds: %v, want ErrLocked", first[1], first[0], err)
				}
				if err := unlock(); err != nil {
					t.Fatal(err)
				}
			}
			// One lock file, beside the database file itself.
			var locks []string
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if strings.HasSuffix(p, ".lock") {
					locks = append(locks, p)
				}
				return err
			})
			if want := []string{db + ".lock"}; !slices.Equal(locks, want) {
				t.Errorf("lock files %q, want %q", locks, want)
			}
		})
	}
}

func mustLink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// TestLockHolderTakesNoLock: asking whether a scheduler runs (jobctl
// scheduler status) takes no lock, so a scheduler that starts while the
// question is being asked starts; it used to find the lock taken by the
// asker and refuse ("another scheduler is running ... (pid unknown)"). The
// asker's steps are interleaved with the scheduler's start at each point.
func TestLockHolderTakesNoLock(t *testing.T) {
	path := filepath.Join(privateDir(t), "jobs.db")
	name := path + ".lock"
	if held, pid, err := LockHolder(path); held || pid != 0 || err != nil {
		t.Fatalf("LockHolder before any scheduler ran: %v %v %v", held, pid, err)
	}
	if _, err := os.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LockHolder created the lock file: %v", err)
	}
	unlock, _, err := Lock(path) // a scheduler ran before: the file exists
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	os.WriteFile(name, []byte("4242\n"), 0o600) // and a stale pid, say

	// The asker has opened the lock file and asked; the scheduler starts.
	f, err := openLockFile(name, os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if held, err := lockHeld(f); held || err != nil {
		t.Fatalf("lockHeld with no scheduler: %v %v", held, err)
	}
	if b, _ := os.ReadFile(name); string(b) != "4242\n" {
		t.Errorf("asking changed the lock file to %q", b)
	}
	unlock, _, err = Lock(path)
	if err != nil {
		t.Fatalf("a scheduler starting while another process asks: %v", err)
	}
	defer unlock()
	// The asker, asking again or reading the pid, sees it.
	if held, err := lockHeld(f); !held || err != nil {
		t.Errorf("lockHeld with a scheduler: %v %v", held, err)
	}
	if held, pid, err := LockHolder(path); !held || pid != os.Getpid() || err != nil {
		t.Errorf("LockHolder with a scheduler: %v %v %v, want true %d", held, pid, err, os.Getpid())
	}
	if runtime.GOOS != "linux" {
		return // a classic fcntl lock belongs to the process: see lock_other.go
	}
	// The asker's descriptors closing leaves the scheduler's lock alone.
	f.Close()
	if _, _, err := Lock(path); !errors.Is(err, ErrLocked) {
		t.Errorf("Lock after the asker closed its descriptor: %v, want ErrLocked", err)
	}
	unlock()
	if held, pid, err := LockHolder(path); held || pid != 0 || err != nil {
		t.Errorf("LockHolder after the scheduler ended: %v %v %v", held, pid, err)
	}
}

// TestLockHolderRefusesPlantedFile: the question is asked following no link,
// and waits for no FIFO.
func TestLockHolderRefusesPlantedFile(t *testing.T) {
	dir := privateDir(t)
	db := filepath.Join(dir, "jobs.db")
	mustLink(t, filepath.Join(dir, "elsewhere"), db+".lock")
	if _, _, err := LockHolder(db); err == nil || !strings.Contains(err.Error(), db+".lock: is a symbolic link") {
		t.Errorf("LockHolder through a symbolic link: %v", err)
	}
	os.Remove(db + ".lock")
	if err := syscall.Mkfifo(db+".lock", 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LockHolder(db); err == nil || !strings.Contains(err.Error(), db+".lock: is not a regular file") {
		t.Errorf("LockHolder on a FIFO: %v", err)
	}
}
