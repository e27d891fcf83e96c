//go:build unix

package store

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckPrivate(t *testing.T) {
	type setup func(t *testing.T, dir string) (path string)
	file := func(mode fs.FileMode) setup {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "jobs.db")
			mustWrite(t, p, mode)
			return p
		}
	}
	inDir := func(mode fs.FileMode) setup {
		return func(t *testing.T, dir string) string {
			sub := filepath.Join(dir, "shared")
			mustMkdir(t, sub, mode)
			p := filepath.Join(sub, "jobs.db")
			mustWrite(t, p, 0o600)
			return p
		}
	}
	tests := []struct {
		name string
		setup
		bad     string // the path the error names, relative to the test's directory; "": none
		problem string
	}{
		{"private", file(0o600), "", ""},
		{"read by all", file(0o644), "", ""},
		{"group-writable", file(0o660), "jobs.db", "writable by its group (mode -rw-rw----)"},
		{"world-writable", file(0o602), "jobs.db", "writable by everyone"},
		{"writable by all", file(0o666), "jobs.db", "writable by its group and everyone"},
		{"world-writable dir", inDir(0o777), "shared", "directory writable by everyone, without the sticky bit"},
		{"sticky dir", inDir(0o777 | fs.ModeSticky), "", ""},
		{"group-writable dir", inDir(0o770), "", ""},
		{"missing in a private dir", func(t *testing.T, dir string) string { return filepath.Join(dir, "new", "jobs.db") }, "", ""},
		{"missing in a world-writable dir", func(t *testing.T, dir string) string {
			mustMkdir(t, filepath.Join(dir, "shared"), 0o777)
			return filepath.Join(dir, "shared", "new", "jobs.db")
		}, "shared", "writable by everyone"},
		{"link to a private file from a world-writable dir", func(t *testing.T, dir string) string {
			mustWrite(t, filepath.Join(dir, "jobs.db"), 0o600)
			mustMkdir(t, filepath.Join(dir, "shared"), 0o777)
			link := filepath.Join(dir, "shared", "link.db")
			if err := os.Symlink(filepath.Join(dir, "jobs.db"), link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "shared", "writable by everyone"},
		{"link to a writable file", func(t *testing.T, dir string) string {
			mustWrite(t, filepath.Join(dir, "jobs.db"), 0o666)
			link := filepath.Join(dir, "link.db")
			if err := os.Symlink("jobs.db", link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "jobs.db", "writable by its group and everyone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := privateDir(t)
			path := tt.setup(t, dir)
			err := CheckPrivate(path)
			if tt.bad == "" {
				if err != nil {
					t.Fatalf("CheckPrivate(%s): %v", path, err)
				}
				return
			}
			var ie *InsecureError
			if !errors.As(err, &ie) {
				t.Fatalf("CheckPrivate(%s) = %v, want an InsecureError", path, err)
			}
			if want := filepath.Join(dir, tt.bad); ie.Path != want || !strings.Contains(ie.Problem, tt.problem) {
				t.Fatalf("CheckPrivate(%s) = %v, want %s %s", path, err, want, tt.problem)
			}
			// The fix it suggests is a command that fixes it.
			fix, _, _ := strings.Cut(ie.Fix, " (")
			if out, err := exec.Command("/bin/sh", "-c", fix).CombinedOutput(); err != nil {
				t.Fatalf("the fix %q: %v %s", fix, err, out)
			}
			if err := CheckPrivate(path); err != nil {
				t.Errorf("after %q: %v", fix, err)
			}
		})
	}
}

func TestCheckPrivateOwner(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("giving a file to another user takes root")
	}
	dir := privateDir(t)
	path := filepath.Join(dir, "jobs.db")
	mustWrite(t, path, 0o600)
	if err := os.Chown(path, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	var ie *InsecureError
	if err := CheckPrivate(path); !errors.As(err, &ie) || ie.Path != path || !strings.Contains(ie.Problem, "owned by uid 65534") {
		t.Fatalf("a file of another user: %v", err)
	}
	os.Chown(path, 0, 0)
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if err := CheckPrivate(path); !errors.As(err, &ie) || ie.Path != dir {
		t.Fatalf("a file in a directory of another user: %v", err)
	}
}

// nobody is the user the tests give files to, as root.
const nobody = 65534

// privateDir returns a new directory, private to the test's user, whose
// parents are not writable by others (the test directory of go test
// normally lives under /tmp, which is sticky).
func privateDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPrivate(dir); err != nil {
		t.Skipf("the test directory is not private: %v", err)
	}
	return dir
}

func mustWrite(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func mustMkdir(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// TestLockRefusesPlantedFile: the lock file is opened by its name next to
// the database, which may be in a directory others can write to (/tmp): a
// symbolic link planted there is not followed (root would truncate the file
// it points to), and a file of another user is not used (its owner could
// hold the lock for ever).
func TestLockRefusesPlantedFile(t *testing.T) {
	dir := privateDir(t)
	target := filepath.Join(dir, "precious")
	mustWrite(t, target, 0o600)
	db := filepath.Join(dir, "jobs.db")
	if err := os.Symlink(target, db+".lock"); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(db); err == nil || !strings.Contains(err.Error(), db+".lock: is a symbolic link") {
		t.Errorf("Lock through a symbolic link: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "x" {
		t.Errorf("the link's target now holds %q", b)
	}
	if os.Getuid() != 0 {
		return // giving a file to another user takes root
	}
	os.Remove(db + ".lock")
	mustWrite(t, db+".lock", 0o600)
	if err := os.Chown(db+".lock", nobody, nobody); err != nil {
		t.Fatal(err)
	}
	var ie *InsecureError
	if _, err := Lock(db); !errors.As(err, &ie) || ie.Path != db+".lock" {
		t.Errorf("Lock with a lock file of another user: %v", err)
	}
}
