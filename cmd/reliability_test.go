package cmd

// The reliability suite: the real jobctl binary, real processes and real
// files, put through what machines do to a scheduler. Each test runs in a few
// seconds by default; -long runs them at full size (minutes), as
// testdata/bench/reliability.sh does to produce the README's figures, which
// the tests log as "figure: NAME = VALUE" lines.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"
)

var long = flag.Bool("long", false, "run the reliability tests at full size (minutes): go test ./cmd -run Reliability -long")

// size is n by default and full with -long.
func size(n, full int) int {
	if *long {
		return full
	}
	return n
}

// figure logs a measured figure for testdata/bench/reliability.sh.
func figure(t *testing.T, name string, format string, args ...any) {
	t.Helper()
	t.Logf("figure: %s = %s", name, fmt.Sprintf(format, args...))
}

func TestReliability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the jobctl binary")
	}
	bin := buildJobctl(t)
	for _, tt := range []struct {
		name string
		test func(*testing.T, *cli)
	}{
		{"DamagedDatabase", testDamagedDatabase},
		{"HostileJobfile", testHostileJobfile},
		{"CreatedPrivate", testCreatedPrivate},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, newCLI(t, bin)) })
	}
}

// buildJobctl builds the jobctl binary into a temporary directory that
// other users may read and run it from (see runAs).
func buildJobctl(t *testing.T) string {
	t.Helper()
	dir := openDir(t)
	bin := filepath.Join(dir, "jobctl")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "build", "-o", bin, "..").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// openDir returns a new temporary directory that every user may enter.
func openDir(t *testing.T) string {
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // the test's, then this one
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// cli runs the jobctl binary on a database of its own.
type cli struct {
	t   *testing.T
	bin string
	dir string // the test's directory
	db  string
}

func newCLI(t *testing.T, bin string) *cli {
	dir := t.TempDir()
	return &cli{t: t, bin: bin, dir: dir, db: filepath.Join(dir, "jobs.db")}
}

// result is how a jobctl process ended.
type result struct {
	out, err string
	code     int
}

func (r result) String() string {
	return fmt.Sprintf("exit status %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
}

// command returns the command running jobctl with args, in the test's
// directory and environment.
func (c *cli) command(args ...string) *exec.Cmd {
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = c.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + c.dir, "JOBCTL_DB=" + c.db, "TZ=UTC", "NO_COLOR=1"}
	return cmd
}

// run runs jobctl with args and returns how it ended.
func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.wait(c.command(args...))
}

// wait runs cmd, set up by command, to its end.
func (c *cli) wait(cmd *exec.Cmd) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		c.t.Fatalf("jobctl %s: %v", strings.Join(cmd.Args[1:], " "), err)
	}
	return result{out: out.String(), err: errb.String(), code: cmd.ProcessState.ExitCode()}
}

// ok runs jobctl with args, which must succeed, and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("jobctl %s: %v", strings.Join(args, " "), r)
	}
	return r.out
}

// failsCleanly checks that r is a clean failure with exit status code: a
// message on stderr holding every one of want, and no panic.
func failsCleanly(t *testing.T, what string, r result, code int, want ...string) {
	t.Helper()
	if r.code != code || strings.Contains(r.err, "panic") || strings.Contains(r.err, "goroutine ") {
		t.Errorf("%s: want exit status %d and an error, got %v", what, code, r)
		return
	}
	for _, w := range want {
		if !strings.Contains(r.err, w) {
			t.Errorf("%s: stderr does not say %q:\n%s", what, w, r.err)
		}
	}
}

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
		{"list"}, {"show", "a"}, {"export"}, {"next", "--job", "a"},
		{"add", "--id", "new", "--every", "1m", "--", "true"},
		{"modify", "a", "--timeout", "1m"}, {"pause", "a"}, {"resume", "a"}, {"remove", "a"},
		{"reschedule", "a", "--every", "2m"}, {"run-now", "a"}, {"apply", "-f", jobfile},
	}
	for _, f := range files {
		if err := os.WriteFile(c.db, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range commands {
			if args[0] == "next" && !strings.Contains(c.run("next", "--help").out, "--job") {
				continue
			}
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
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), binary.BigEndian.AppendUint64(nil, 2))
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
	st := fi.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%x %d %v %d.%d %d blocks", h.Sum64(), fi.Size(), fi.Mode(), st.Mtim.Sec, st.Mtim.Nsec, st.Blocks)
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
