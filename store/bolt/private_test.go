//go:build unix

package bolt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
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
		{"group-writable", file(0o660), "jobs.db", "writable by its group staff (mode -rw-rw----), whose members include bob"},
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
			etc := accounts(uint32(os.Getuid()), uint32(os.Getegid()), false)
			err := checkPrivate(path, etc)
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
			if err := checkPrivate(path, etc); err != nil {
				t.Errorf("after %q: %v", fix, err)
			}
		})
	}
}

// TestCheckPrivateGroup: a file writable by its group is refused, unless
// the group is its owner's private group (a umask of 002 on Debian, Ubuntu,
// Fedora: git checks jobfiles out so); other users' write access still is.
func TestCheckPrivateGroup(t *testing.T) {
	dir := privateDir(t)
	path := filepath.Join(dir, "jobs.toml")
	uid, gid := uint32(os.Getuid()), uint32(os.Getegid())
	for _, tt := range []struct {
		mode    fs.FileMode
		private bool
		problem string // "": accepted
	}{
		{0o664, true, ""},
		{0o660, true, ""},
		{0o664, false, "is writable by its group staff (mode -rw-rw-r--), whose members include bob, besides the file's owner me"},
		{0o666, true, "is writable by its group and everyone (mode -rw-rw-rw-)"},
		{0o646, true, "is writable by everyone (mode -rw-r--rw-)"},
	} {
		os.Remove(path)
		mustWrite(t, path, tt.mode)
		if fi, err := os.Stat(path); err != nil {
			t.Fatal(err)
		} else if st := fi.Sys().(*syscall.Stat_t); st.Gid != gid {
			t.Fatalf("%s has group %d, not the test's %d (a set-group-ID directory?)", path, st.Gid, gid)
		}
		err := checkPrivate(path, accounts(uid, gid, tt.private))
		var ie *InsecureError
		switch {
		case tt.problem == "" && err != nil:
			t.Errorf("mode %v, private group %v: %v", tt.mode, tt.private, err)
		case tt.problem != "" && (!errors.As(err, &ie) || ie.Problem != tt.problem):
			t.Errorf("mode %v, private group %v: %v, want %q", tt.mode, tt.private, err, tt.problem)
		}
	}
	// Without the files to tell, the group is not taken to be private.
	os.Chmod(path, 0o664)
	noGroup := accounts(uid, gid, true).(fstest.MapFS)
	delete(noGroup, "group")
	var ie *InsecureError
	if err := checkPrivate(path, noGroup); !errors.As(err, &ie) || !strings.Contains(ie.Problem, "whose members cannot be told (open group: file does not exist)") {
		t.Errorf("with no group file: %v", err)
	}
}

func TestPrivateGroupRule(t *testing.T) {
	const passwd = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
# a comment, a blank line and a malformed line

alice:x:1000
alice:x:1000:1000:Alice:/home/alice:/bin/bash
bob:x:1001:1001:Bob:/home/bob:/bin/bash
carol:x:1002:100::/home/carol:/bin/sh
dave:x:1003:1003::/home/dave:/bin/sh
erin:x:1004:1005::/home/erin:/bin/sh
frank:x:1006:1006::/home/frank:/bin/sh
`
	const group = `root:x:0:
daemon:x:1:
users:x:100:
alice:x:1000:
bob:x:1001:bob
dave:x:1003:
erin:x:1004:
shared:x:1005:
frank:x:1006:
frankalias:x:1006:alice
adm:x:4:alice,bob
`
	for _, tt := range []struct {
		uid, gid uint32
		name     string
		why      string // "": private
	}{
		{0, 0, "root", ""},        // root:root, as CI runs the tests
		{1000, 1000, "alice", ""}, // Debian's user private group
		{1001, 1001, "bob", ""},   // listing the owner as a member changes nothing
		{1002, 100, "users", "which is not the private group of the file's owner (a group named carol with no other member)"},
		{1000, 4, "adm", "whose members include bob, besides the file's owner alice"},
		{1004, 1004, "erin", ""}, // erin's primary group is another one; this one is still hers alone
		{1003, 1005, "shared", "whose members include erin, besides the file's owner dave"},
		{1006, 1006, "frank", "whose members include alice, besides the file's owner frank"}, // a second name for the gid
		{1000, 4242, "4242", "which is not in /etc/group"},
		{4242, 1000, "alice", "and the file's owner, uid 4242, is not in /etc/passwd"},
		{1000, 1001, "bob", "whose members include bob, besides the file's owner alice"},
	} {
		name, why := privateGroupRule(passwd, group, tt.uid, tt.gid)
		if name != tt.name || why != tt.why {
			t.Errorf("uid %d, gid %d: %q %q, want %q %q", tt.uid, tt.gid, name, why, tt.name, tt.why)
		}
	}
	for _, tt := range []struct{ passwd, group string }{
		{passwd + "+::::::\n", group},
		{passwd, group + "+:::\n"},
		{passwd, "-bob:::\n" + group},
	} {
		if _, why := privateGroupRule(tt.passwd, tt.group, 1000, 1000); !strings.Contains(why, "NIS") {
			t.Errorf("with NIS entries, alice's group: %q, want it not private", why)
		}
	}
}

// accounts returns an /etc where user me has uid and a private group gid,
// or where gid is staff, a group me shares with bob.
func accounts(uid, gid uint32, private bool) fs.FS {
	passwd := fmt.Sprintf("me:x:%d:%d::/home/me:/bin/sh\nbob:x:%d:%d::/home/bob:/bin/sh\n", uid, gid, uid+1, gid+1)
	group := fmt.Sprintf("me:x:%d:\nbob:x:%d:\n", gid, gid+1)
	if !private {
		group = fmt.Sprintf("staff:x:%d:me,bob\nbob:x:%d:\n", gid, gid+1)
	}
	return fstest.MapFS{"passwd": {Data: []byte(passwd)}, "group": {Data: []byte(group)}}
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
	if _, _, err := Lock(db); err == nil || !strings.Contains(err.Error(), db+".lock: is a symbolic link") {
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
	if _, _, err := Lock(db); !errors.As(err, &ie) || ie.Path != db+".lock" {
		t.Errorf("Lock with a lock file of another user: %v", err)
	}
}
