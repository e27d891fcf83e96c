package cmd

// The reliability suite's tests of files: damaged databases, hostile
// jobfiles, and the modes of what jobctl creates and accepts.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/jobctl/jobctl/store"
)

// testDamagedDatabase: every command, given a database file it cannot use,
// exits 1 with a message naming the file and what is wrong with it, and
// leaves the file as it was (the store's own tests cover the kinds of damage
// in depth; this is what a user sees).
func testDamagedDatabase(t *testing.T, c *cli) {
	c.ok("add", "--id", "a", "--every", "1m", "--", "true")
	c.ok("add", "--id", "b", "--cron", "0 3 * * *", "--", "echo b")
	good, err := os.ReadFile(c.db)
	if err != nil {
		t.Fatal(err)
	}
	jobfile := filepath.Join(c.dir, "jobs.toml")
	if err := os.WriteFile(jobfile, []byte("[[job]]\nid = \"c\"\ncommand = \"true\"\nevery = \"1h\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	crontab := filepath.Join(c.dir, "crontab")
	if err := os.WriteFile(crontab, []byte("@daily true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, len(good))
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	files := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)/2], "damaged database: truncated"},
		{"zeroed", make([]byte, len(good)), "not a jobctl database"},
		{"random bytes", random, "not a jobctl database"},
		{"empty", nil, "not a jobctl database: empty file"},
		{"newer schema", newerSchema(t, good), "newer jobctl"},
	}
	commands := [][]string{
		{"list"}, {"show", "a"}, {"export"},
		{"add", "--id", "new", "--every", "1m", "--", "true"},
		{"modify", "a", "--timeout", "1m"}, {"pause", "a"}, {"resume", "a"}, {"remove", "a"},
		{"reschedule", "a", "--every", "2m"}, {"run-now", "a"}, {"apply", "-f", jobfile}, {"import", "--crontab", crontab}, {"run"},
		{"history"}, {"logs", "a"}, {"scheduler", "status"}, {"scheduler", "pause"},
	}
	for _, f := range files {
		if err := os.WriteFile(c.db, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range commands {
			failsCleanly(t, f.name+": jobctl "+strings.Join(args, " "), c.run(args...), ExitFailure, c.db+": ", f.want)
			if now, err := os.ReadFile(c.db); err != nil || !bytes.Equal(now, f.data) {
				t.Fatalf("%s: jobctl %s changed the file (%v)", f.name, strings.Join(args, " "), err)
			}
		}
	}
	// A directory where the database should be.
	os.Remove(c.db)
	if err := os.Mkdir(c.db, 0o700); err != nil {
		t.Fatal(err)
	}
	failsCleanly(t, "a directory", c.run("add", "--every", "1m", "--", "true"), ExitFailure, c.db+": not a jobctl database: is a directory")
}

// newerSchema returns the database db with a schema version from the future.
func newerSchema(t *testing.T, db []byte) []byte {
	path := filepath.Join(t.TempDir(), "newer.db")
	if err := os.WriteFile(path, db, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		return meta.Put([]byte("schema"), binary.BigEndian.AppendUint64(nil, binary.BigEndian.Uint64(meta.Get([]byte("schema")))+1))
	})
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	newer, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return newer
}

// testHostileJobfile: lint and apply, given a jobfile that is a directory,
// unreadable, huge or not UTF-8, exit 2 with a message naming it, at once and
// in bounded memory, and change nothing.
func testHostileJobfile(t *testing.T, c *cli) {
	// Open to all, for the unreadable file to be read by another user.
	dir := openDir(t)
	write := func(name string, data []byte, mode fs.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	huge := write("huge.toml", nil, 0o644)
	// Sparse: 100 MiB that take no disk and no time to make.
	if err := os.Truncate(huge, 100<<20); err != nil {
		t.Fatal(err)
	}
	latin1 := write("latin1.toml", []byte("[[job]]\nid = \"caf\xe9\"\ncommand = \"true\"\nevery = \"1m\"\n"), 0o644)
	unreadable := write("unreadable.toml", []byte("[[job]]\nid = \"a\"\ncommand = \"true\"\nevery = \"1m\"\n"), 0)
	subdir := filepath.Join(dir, "dir.toml")
	if err := os.Mkdir(subdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path, want string
		asOther    bool // root reads any file: run as another user
	}{
		{subdir, subdir + ": is a directory, not a jobfile", false},
		{huge, huge + ": larger than a jobfile may be (32 MiB)", false},
		{latin1, latin1 + ":2:7: invalid UTF-8 byte: 0xe9", false},
		{unreadable, unreadable + ": permission denied", true},
	} {
		before := fingerprint(t, f.path)
		for _, args := range [][]string{{"lint", f.path}, {"apply", "-f", f.path}} {
			cmd := c.command(args...)
			if f.asOther && os.Getuid() == 0 {
				runAs(cmd, nobody)
			}
			r := c.wait(cmd)
			failsCleanly(t, "jobctl "+strings.Join(args, " "), r, ExitUsage, f.want)
		}
		if after := fingerprint(t, f.path); after != before {
			t.Errorf("%s was changed: %s, was %s", f.path, after, before)
		}
	}
	if _, err := os.Stat(c.db); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed apply left a database: %v", err)
	}
}

// fingerprint describes a file's contents, mode and times, for telling
// whether it changed, without reading a huge file into memory.
func fingerprint(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	h := fnv.New64a()
	if f, err := os.Open(path); err == nil {
		io.Copy(h, f)
		f.Close()
	}
	// ModTime, not Stat_t's field, which each system names its own way.
	st := fi.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%x %d %v %d %d blocks", h.Sum64(), fi.Size(), fi.Mode(), fi.ModTime().UnixNano(), st.Blocks)
}

// nobody is the user id tests run commands as to be denied what root is not.
const nobody = 65534

// runAs makes cmd run as the user uid.
func runAs(cmd *exec.Cmd, uid uint32) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
}

// testCreatedPrivate: whatever the umask, the database is created readable
// by its owner only, in a directory only its owner can enter.
func testCreatedPrivate(t *testing.T, c *cli) {
	c.db = filepath.Join(c.dir, "data", "jobctl", "jobs.db")
	cmd := c.command()
	cmd.Path, cmd.Args = "/bin/sh", []string{"sh", "-c", "umask 0 && exec " + c.bin + " add --id a --every 1m -- true"}
	if r := c.wait(cmd); r.code != 0 {
		t.Fatalf("jobctl add with umask 0: %v", r)
	}
	for p, want := range map[string]fs.FileMode{
		c.db:                             0o600,
		filepath.Dir(c.db):               0o700 | fs.ModeDir,
		filepath.Dir(filepath.Dir(c.db)): 0o700 | fs.ModeDir,
	} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode(), err, want)
		}
	}
}

// testInsecureFiles: jobctl run refuses a database or a jobfile that other
// users could change, saying how to fix it; and a job's environment is the
// scheduler's and its own, never that of whoever added it.
func testInsecureFiles(t *testing.T, c *cli) {
	c.ok("add", "--id", "env", "--at", "now", "--env", "FROM_JOB=1", "--", "env >env.out")
	jobfile := c.writeJobfile("[[job]]\nid = \"a\"\ncommand = \"true\"\nevery = \"1h\"\n")
	for _, tt := range []struct {
		file string
		mode fs.FileMode
		gid  int // the file's group, if not -1: one shared with other users
		args []string
		fix  string
	}{
		{c.db, 0o666, -1, nil, "chmod go-w " + c.db},
		// nogroup (Debian), nobody (Fedora): the primary group of nobody,
		// or not in /etc/group; either way not root's private group.
		{c.db, 0o620, 65534, nil, "chmod go-w " + c.db},
		{jobfile, 0o602, -1, []string{"-f", jobfile}, "chmod go-w " + jobfile},
		{c.dir, 0o777, -1, nil, "chmod o-w " + c.dir},
	} {
		fi, err := os.Stat(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if tt.gid != -1 {
			if os.Getuid() != 0 {
				continue // giving a file to another group takes root
			}
			os.Chown(tt.file, -1, tt.gid)
		}
		os.Chmod(tt.file, tt.mode)
		before := fingerprint(t, c.db)
		failsCleanly(t, fmt.Sprintf("jobctl run %s, with %s mode %v", strings.Join(tt.args, " "), tt.file, tt.mode),
			c.run(append([]string{"run"}, tt.args...)...), ExitFailure, tt.fix)
		if after := fingerprint(t, c.db); after != before {
			t.Errorf("the refused run changed the database")
		}
		os.Chmod(tt.file, fi.Mode())
		os.Chown(tt.file, -1, int(fi.Sys().(*syscall.Stat_t).Gid))
	}

	add := c.command("add", "--id", "env2", "--at", "now", "--", "env >env2.out")
	add.Env = append(add.Env, "FROM_ADD=1")
	if r := c.wait(add); r.code != 0 {
		t.Fatal(r)
	}
	s := c.start()
	c.waitFor("the env jobs to run", func() bool {
		env, env2 := c.runs("env"), c.runs("env2")
		return len(env) == 1 && env[0].Outcome == store.Success && len(env2) == 1 && env2[0].Outcome == store.Success
	})
	s.stop()
	for _, f := range []string{"env.out", "env2.out"} {
		b, err := os.ReadFile(filepath.Join(c.dir, f))
		if err != nil {
			t.Fatal(err)
		}
		env := strings.Split(strings.TrimSpace(string(b)), "\n")
		if slices.Contains(env, "FROM_ADD=1") {
			t.Errorf("%s: a job runs with the environment of the command that added it:\n%s", f, b)
		}
		if f == "env.out" && !slices.Contains(env, "FROM_JOB=1") {
			t.Errorf("%s: the job's own environment is missing:\n%s", f, b)
		}
	}
}

// testDamagedWhileRunning: the database file zeroed under a running
// scheduler: it says so and keeps trying, writes nothing to the file, and
// still stops when told to.
func testDamagedWhileRunning(t *testing.T, c *cli) {
	c.ok("add", "--id", "tick", "--cron", "* * * * * *", "--", "true")
	s := c.start("--shutdown-timeout", "1s")
	c.waitFor("a run", func() bool { return len(c.runs("tick")) > 0 })
	f, err := os.OpenFile(c.db, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	zeros := make([]byte, fi.Size())
	// In place, as a failing disk would: no moment with a short file.
	if _, err := f.WriteAt(zeros, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c.waitFor("the scheduler to report the damage twice", func() bool {
		return strings.Count(s.stderr(), c.db+": not a jobctl database") >= 2
	})
	// It stops within its shutdown timeout, and fails if runs that ended
	// could not be recorded (the next start records them interrupted).
	if err := s.terminate(); err != nil && !strings.Contains(s.stderr(), "could not be recorded") {
		t.Errorf("jobctl run, stopped with SIGTERM: %v\n%s", err, s.stderr())
	}
	if now, err := os.ReadFile(c.db); err != nil || !bytes.Equal(now, zeros) {
		t.Errorf("the scheduler wrote to the damaged file (%v)", err)
	}
}
