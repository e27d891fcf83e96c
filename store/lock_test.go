//go:build unix

package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
				unlock, err := Lock(first[0])
				if err != nil {
					t.Fatal(err)
				}
				if _, err := Lock(first[1]); !errors.Is(err, ErrLocked) {
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
