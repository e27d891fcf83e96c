package cmd

// The reliability suite: the real jobctl binary, real processes and real
// files, put through what machines do to a scheduler. Each test runs in a few
// seconds by default; -long runs them at full size (minutes), as
// testdata/bench/reliability.sh does to produce the README's figures, which
// the tests log as "figure: NAME = VALUE" lines.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/bolt"
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
		{"CrashSafety", testCrashSafety},
		{"ConcurrentWriters", testConcurrentWriters},
		{"OutputFlood", testOutputFlood},
		{"ProcessHygiene", testProcessHygiene},
		{"InsecureFiles", testInsecureFiles},
		{"DamagedWhileRunning", testDamagedWhileRunning},
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
	cmd := c.command(args...)
	// A command that should fail at once but runs (jobctl run) is stopped,
	// failing the test rather than hanging it.
	stop := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer stop.Stop()
	return c.wait(cmd)
}

// wait runs cmd, set up by command, to its end.
func (c *cli) wait(cmd *exec.Cmd) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		// Not Fatal: wait may be called from goroutines of the test.
		c.t.Errorf("jobctl %s: %v", strings.Join(cmd.Args[1:], " "), err)
		return result{code: -1, err: err.Error()}
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
		{"reschedule", "a", "--every", "2m"}, {"run-now", "a"}, {"apply", "-f", jobfile}, {"run"},
		{"history"}, {"logs", "a"}, {"scheduler", "status"}, {"scheduler", "pause"},
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
	b, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bbolt.Tx) error {
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

// sched is a jobctl run process.
type sched struct {
	c   *cli
	cmd *exec.Cmd
	log string // its stderr, for the failure messages
}

// start starts jobctl run with args; its output goes to files in the
// test's directory.
func (c *cli) start(args ...string) *sched {
	c.t.Helper()
	cmd := c.command(append([]string{"run"}, args...)...)
	log, err := os.CreateTemp(c.dir, "run-*.log")
	if err != nil {
		c.t.Fatal(err)
	}
	defer log.Close()
	cmd.Stderr = log
	// Job output is not looked at, only the run records: it goes nowhere,
	// as fast as the scheduler can write it.
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	s := &sched{c: c, cmd: cmd, log: log.Name()}
	c.t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	return s
}

func (s *sched) pid() int { return s.cmd.Process.Pid }

// kill ends the scheduler with SIGKILL, as a crash or the OOM killer would.
func (s *sched) kill() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// stop ends the scheduler with SIGTERM, which it must obey with exit
// status 0.
func (s *sched) stop() {
	s.c.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		s.c.t.Fatalf("jobctl run, stopped with SIGTERM: %v\n%s", err, s.stderr())
	}
}

func (s *sched) stderr() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// view reads the database as a jobctl command would.
func (c *cli) view(fn func(store.Tx) error) {
	c.t.Helper()
	st, err := bolt.Open(c.db, bolt.OpenOptions{ReadOnly: true})
	if err != nil {
		c.t.Fatalf("the database does not open: %v", err)
	}
	defer st.Close()
	if err := st.View(context.Background(), fn); err != nil {
		c.t.Fatalf("reading the database: %v", err)
	}
}

// jobs returns the stored jobs by id.
func (c *cli) jobs() map[string]*store.Job {
	c.t.Helper()
	jobs := map[string]*store.Job{}
	c.view(func(tx store.Tx) error {
		return tx.Jobs(func(j *store.Job) error {
			jobs[j.ID] = j
			return nil
		})
	})
	return jobs
}

// runs returns job id's runs, oldest first.
func (c *cli) runs(id string) []*store.Run {
	c.t.Helper()
	var runs []*store.Run
	c.view(func(tx store.Tx) (err error) {
		runs, err = tx.Runs(id, 0)
		return err
	})
	slices.Reverse(runs)
	return runs
}

// waitFor polls cond until it holds. The bound is a guard against a hang,
// not a measure of speed.
func (c *cli) waitFor(what string, cond func() bool) {
	c.t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			c.t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// writeJobfile writes a jobfile into the test's directory.
func (c *cli) writeJobfile(src string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, "jobs.toml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// record is a job command that appends what it was run for to a file: the
// side effect that tells whether a fire time ran, and how many times.
const record = `echo "$JOBCTL_JOB_ID $JOBCTL_FIRE_TIME $JOBCTL_RUN_ID" >>side-effects`

// testCrashSafety: jobctl run, killed with SIGKILL at random moments and
// started again (after a random downtime), never loses or duplicates a job,
// never runs a fire time twice, and accounts for every fire time of every
// job: run, missed, skipped, coalesced into a later run, or interrupted.
func testCrashSafety(t *testing.T, c *cli) {
	kills := size(3, 100)
	c.ok("apply", "-f", c.writeJobfile(`
[scheduler]
history_limit = 1000000

[[job]]
id = "coalesce"
command = '`+record+`'
cron = "* * * * * *"

[[job]]
id = "catch-up"
command = '`+record+`'
cron = "* * * * * *"
coalesce = false
misfire_grace_time = "none"

[[job]]
id = "strict"
command = '`+record+`'
cron = "* * * * * *"
coalesce = false
misfire_grace_time = "1s"

[[job]]
id = "slow"
command = 'sleep 1.5; `+record+`'
cron = "* * * * * *"
`))
	jobs := c.jobs()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 6))
	for i := range kills {
		s := c.start()
		time.Sleep(time.Duration(rng.Int64N(int64(1200 * time.Millisecond))))
		s.kill()
		if got := c.jobs(); len(got) != len(jobs) {
			t.Fatalf("after kill %d: %d jobs, want %d\n%s", i+1, len(got), len(jobs), s.stderr())
		}
		// Up to 1.5 s down: past the strict job's misfire grace, at times.
		time.Sleep(time.Duration(rng.Int64N(int64(1500 * time.Millisecond))))
	}
	restarted := time.Now()
	s := c.start()
	c.waitFor("a run after the last restart", func() bool {
		for _, r := range c.runs("coalesce") {
			if r.Outcome == store.Success && r.Submitted.After(restarted) {
				return true
			}
		}
		return false
	})
	s.stop()

	side := sideEffects(t, c)
	outcomes := map[store.Outcome]int{}
	fires := 0
	after := c.jobs()
	for id, j := range jobs {
		now := after[id]
		if now == nil || now.State != store.Active || now.Broken != "" {
			t.Errorf("job %s after the crashes: %+v", id, now)
			continue
		}
		trig, err := j.ParseTrigger()
		if err != nil {
			t.Fatal(err)
		}
		// The runs, in order, cover the fire times from the first to the
		// job's next run time, each once.
		next := j.NextRun
		for _, r := range c.runs(id) {
			outcomes[r.Outcome]++
			for range r.Coalesced {
				next = trig.Next(next)
				fires++
			}
			if !next.Equal(r.FireTime) {
				t.Fatalf("job %s: run %d (fire time %v, %d coalesced) does not follow the runs before it, which end before %v",
					id, r.Seq, r.FireTime, r.Coalesced, next)
			}
			fires++
			next = trig.Next(next)
			key := id + " " + r.FireTime.UTC().Format(time.RFC3339)
			ran := side[key]
			delete(side, key)
			switch r.Outcome {
			case store.Success:
				if len(ran) != 1 || ran[0] != r.Seq {
					t.Errorf("job %s: run %d succeeded; its fire time %v ran as runs %v", id, r.Seq, r.FireTime, ran)
				}
			case store.Interrupted:
				if len(ran) > 1 || len(ran) == 1 && ran[0] != r.Seq {
					t.Errorf("job %s: run %d was interrupted; its fire time %v ran as runs %v", id, r.Seq, r.FireTime, ran)
				}
			case store.Missed, store.Skipped:
				if len(ran) != 0 {
					t.Errorf("job %s: run %d was %s; its fire time %v ran as runs %v", id, r.Seq, r.Outcome, r.FireTime, ran)
				}
			default:
				t.Errorf("job %s: run %d: outcome %s (%s)", id, r.Seq, r.Outcome, r.Reason)
			}
		}
		if !next.Equal(now.NextRun) {
			t.Errorf("job %s: the runs end before %v, its next run time is %v", id, next, now.NextRun)
		}
	}
	for key, ran := range side {
		t.Errorf("%s ran as runs %v, of which there is no record", key, ran)
	}
	figure(t, "crash: SIGKILLs survived", "%d", kills)
	figure(t, "crash: fire times accounted for", "%d (%d success, %d interrupted, %d missed, %d skipped)",
		fires, outcomes[store.Success], outcomes[store.Interrupted], outcomes[store.Missed], outcomes[store.Skipped])
}

// sideEffects reads the file the record command writes: the run ids each
// "job fire-time" ran as.
func sideEffects(t *testing.T, c *cli) map[string][]uint64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, "side-effects"))
	if err != nil {
		t.Fatal(err)
	}
	side := map[string][]uint64{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Fields(line)
		seq, err := strconv.ParseUint(f[len(f)-1], 10, 64)
		if len(f) != 3 || err != nil {
			t.Fatalf("side effects: bad line %q", line)
		}
		side[f[0]+" "+f[1]] = append(side[f[0]+" "+f[1]], seq)
	}
	return side
}

// testConcurrentWriters: processes issuing add, modify, pause, resume and
// remove commands at once, while a scheduler runs every job every second:
// each command succeeds or fails cleanly as busy, and the database ends as
// the successful commands say. Each process works on jobs of its own, so
// that what its commands imply does not depend on the others'.
func testConcurrentWriters(t *testing.T, c *cli) {
	procs, cmds := size(4, 8), size(25, 200)
	s := c.start()
	type job struct {
		command string
		paused  bool
	}
	models := make([]map[string]*job, procs)
	var busy, done atomic.Int64
	var wg sync.WaitGroup
	for p := range procs {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(p), 8))
			m := map[string]*job{}
			for i := range cmds {
				id := fmt.Sprintf("w%d-%d", p, rng.IntN(5))
				cmd := fmt.Sprintf("true %d", i)
				j := m[id]
				var args []string
				var apply func()
				switch op := rng.IntN(4); {
				case j == nil:
					args = []string{"add", "--id", id, "--every", "1s", "--", cmd}
					apply = func() { m[id] = &job{command: cmd} }
				case op == 0:
					args = []string{"modify", id, "--command", cmd}
					apply = func() { j.command = cmd }
				case op == 1:
					args = []string{"pause", id}
					apply = func() { j.paused = true }
				case op == 2:
					args = []string{"resume", id}
					apply = func() { j.paused = false }
				default:
					args = []string{"remove", id}
					apply = func() { delete(m, id) }
				}
				switch r := c.run(args...); {
				case r.code == 0:
					apply()
					done.Add(1)
				case r.code == ExitFailure && strings.Contains(r.err, "database is busy"):
					busy.Add(1)
				default:
					t.Errorf("process %d: jobctl %s: %v", p, strings.Join(args, " "), r)
				}
			}
			models[p] = m
		})
	}
	wg.Wait()
	s.stop()
	want := map[string]*job{}
	for _, m := range models {
		maps.Copy(want, m)
	}
	got := c.jobs()
	for id, w := range want {
		g := got[id]
		switch {
		case g == nil:
			t.Errorf("job %s is missing", id)
		case g.Command != w.command || (g.State == store.Paused) != w.paused:
			t.Errorf("job %s: command %q, state %s; the commands say %q, paused %v", id, g.Command, g.State, w.command, w.paused)
		}
	}
	for id := range got {
		if want[id] == nil {
			t.Errorf("job %s should not be there", id)
		}
	}
	if *long {
		// None was busy, most likely: a command waits 5 s for the lock.
		// One that waits longer fails so, changing nothing.
		f, err := os.Open(c.db)
		if err != nil {
			t.Fatal(err)
		}
		syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		before := fingerprint(t, c.db)
		failsCleanly(t, "jobctl add, the database locked", c.run("add", "--every", "1s", "--", "true"), ExitFailure, "database is busy")
		if fingerprint(t, c.db) != before {
			t.Error("a busy command changed the database")
		}
		f.Close()
	}
	figure(t, "concurrency: commands", "%d from %d processes beside a scheduler: %d done, %d busy, %d failed otherwise",
		procs*cmds, procs, done.Load(), busy.Load(), int64(procs*cmds)-done.Load()-busy.Load())
}

// testOutputFlood: a job writing as fast as it can, 1 GiB in the long run:
// the scheduler's memory stays bounded, the run's record keeps the tail of
// the output, and a job firing every second meanwhile keeps its schedule.
func testOutputFlood(t *testing.T, c *cli) {
	total := size(64<<20, 1<<30)
	c.ok("apply", "-f", c.writeJobfile(fmt.Sprintf(`
[[job]]
id = "flood"
command = "yes 'a line of the flood, 0123456789' | head -c %d; echo; echo end of the flood"
at = "now"

# A quarter as much with no newline at all.
[[job]]
id = "no-newline"
command = "head -c %d /dev/zero | tr '\\0' x"
at = "now"

[[job]]
id = "heartbeat"
command = "true"
cron = "* * * * * *"
`, total, total/4)))
	s := c.start()
	ended := func(id string) *store.Run {
		var run *store.Run
		c.waitFor(id+" to end", func() bool {
			runs := c.runs(id)
			if len(runs) == 1 && runs[0].Outcome != store.Running {
				run = runs[0]
			}
			return run != nil
		})
		if run.Outcome != store.Success {
			t.Errorf("%s: %s (%s)", id, run.Outcome, run.Reason)
		}
		return run
	}
	flood, noNewline := ended("flood"), ended("no-newline")
	hwm := vmHWM(t, s.pid())
	s.stop()
	if n := len(flood.Output); n > 64<<10 || n < 60<<10 ||
		!strings.HasPrefix(flood.Output, "a line of the flood") || !strings.HasSuffix(flood.Output, "\nend of the flood\n") {
		t.Errorf("the flood's record keeps %d bytes: %.60q...%.60q", n, flood.Output, flood.Output[max(0, n-60):])
	}
	// Kept as it came: no newline added where the stream was cut in pieces.
	if out := noNewline.Output; out != strings.Repeat("x", 64<<10) {
		t.Errorf("the output with no newline: %d bytes kept, %d newlines", len(out), strings.Count(out, "\n"))
	}
	beats := 0
	for _, r := range c.runs("heartbeat") {
		if r.FireTime.Before(flood.Started) || r.FireTime.After(flood.Ended) {
			continue
		}
		beats++
		if r.Outcome != store.Success || r.Coalesced > 0 {
			t.Errorf("heartbeat at %v, during the flood: %s, %d coalesced (%s)", r.FireTime, r.Outcome, r.Coalesced, r.Reason)
		}
	}
	if hwm > 100<<20 {
		t.Errorf("peak RSS of the scheduler: %d MiB", hwm>>20)
	}
	figure(t, "flood: peak RSS of jobctl run", "%.1f MiB while a job wrote %d MiB in %v (%d heartbeats on time meanwhile)",
		float64(hwm)/(1<<20), total>>20, flood.Ended.Sub(flood.Started).Round(100*time.Millisecond), beats)
}

// vmHWM returns the peak resident set size of process pid.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM: %q", v)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// stubborn is a job command whose shell and its child both ignore SIGTERM
// and would run for ever.
const stubborn = `trap '' TERM; sh -c "trap '' TERM; sleep 1000" & sleep 1000`

// testProcessHygiene: jobs that fork children ignoring SIGTERM leave no
// process behind, when they time out and when the scheduler shuts down;
// and many runs of jobs forking children that outlive their shell leave no
// zombie and no process.
func testProcessHygiene(t *testing.T, c *cli) {
	runs := size(50, 1000)
	// Intervals are a second at least: enough jobs that the runs come in a
	// few seconds.
	forkers := size(25, 100)
	// Each job's processes carry a mark of their own in their environment.
	mark := func(id string) string { return fmt.Sprintf("JOBCTL_HYGIENE=%s-%d", id, os.Getpid()) }
	c.ok("apply", "-f", c.writeJobfile(fmt.Sprintf(`
[[job]]
id = "timeout"
command = %[1]q
at = "now"
timeout = "300ms"
env = { JOBCTL_HYGIENE = %[2]q }

[[job]]
id = "shutdown"
command = %[1]q
at = "now"
env = { JOBCTL_HYGIENE = %[3]q }
`, stubborn, strings.TrimPrefix(mark("timeout"), "JOBCTL_HYGIENE="), strings.TrimPrefix(mark("shutdown"), "JOBCTL_HYGIENE="))))
	// Every second, jobs whose shell starts a child and exits at once.
	var ids []string
	for i := range forkers {
		ids = append(ids, fmt.Sprintf("fork-%d", i))
		c.ok("add", "--id", ids[i], "--every", "1s", "--env", mark("fork"), "--", "sleep 5 & echo started")
	}
	s := c.start("--kill-grace", "300ms", "--shutdown-timeout", "300ms")

	c.waitFor("the timeout job to time out", func() bool {
		r := c.runs("timeout")
		return len(r) == 1 && r[0].Outcome != store.Running
	})
	if r := c.runs("timeout")[0]; r.Outcome != store.TimedOut || r.Signal != "SIGKILL" {
		t.Errorf("the run that timed out: %s, signal %q (%s)", r.Outcome, r.Signal, r.Reason)
	}
	if left := marked(t, mark("timeout")); len(left) > 0 {
		t.Errorf("processes the timeout left behind: %v", left)
	}

	most := 0
	c.waitFor(fmt.Sprintf("%d runs of the forking jobs", runs), func() bool {
		most = max(most, len(zombies(t, s.pid())))
		n := 0
		for _, id := range ids {
			n += len(c.runs(id))
		}
		return n >= runs
	})
	// Once no run of theirs is in progress, no zombie and no child of theirs
	// is left.
	c.ok(append([]string{"pause"}, ids...)...)
	c.waitFor("the forking jobs' runs to end", func() bool {
		running := false
		c.view(func(tx store.Tx) error {
			rs, err := tx.RunningRuns()
			for _, r := range rs {
				running = running || strings.HasPrefix(r.JobID, "fork-")
			}
			return err
		})
		return !running
	})
	if z := zombies(t, s.pid()); len(z) > 0 {
		t.Errorf("zombies: %v", z)
	}
	if left := marked(t, mark("fork")); len(left) > 0 {
		t.Errorf("processes the forking jobs left behind: %v", left)
	}
	for _, id := range ids {
		for _, r := range c.runs(id) {
			if r.Outcome != store.Success && r.Outcome != store.Skipped {
				t.Errorf("%s run %d: %s (%s)", id, r.Seq, r.Outcome, r.Reason)
			}
		}
	}

	s.stop()
	if r := c.runs("shutdown"); len(r) != 1 || r[0].Outcome != store.Interrupted {
		t.Errorf("the run the shutdown ended: %+v", r)
	}
	if left := marked(t, mark("shutdown")); len(left) > 0 {
		t.Errorf("processes the shutdown left behind: %v", left)
	}
	figure(t, "hygiene: runs of jobs leaving children", "%d, then no process and no zombie left (zombies at a time before reaping: at most %d)", runs, most)
}

// zombies returns the zombie children of process pid.
func zombies(t *testing.T, pid int) []proc {
	var z []proc
	for _, p := range processes(t) {
		if p.ppid == pid && p.state == 'Z' {
			z = append(z, p)
		}
	}
	return z
}

// proc is a process as /proc tells it.
type proc struct {
	pid, ppid int
	state     byte
	environ   string
}

func processes(t *testing.T) []proc {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var ps []proc
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue // gone
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		env, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "environ"))
		ps = append(ps, proc{pid: pid, ppid: ppid, state: f[0][0], environ: string(env)})
	}
	return ps
}

// marked returns the live processes whose environment holds mark.
func marked(t *testing.T, mark string) []proc {
	var ps []proc
	for _, p := range processes(t) {
		if p.state != 'Z' && slices.Contains(strings.Split(p.environ, "\x00"), mark) {
			ps = append(ps, p)
		}
	}
	return ps
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
		return len(c.runs("env")) == 1 && c.runs("env")[0].Outcome == store.Success &&
			len(c.runs("env2")) == 1 && c.runs("env2")[0].Outcome == store.Success
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
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil && !strings.Contains(s.stderr(), "could not be recorded") {
		t.Errorf("jobctl run, stopped with SIGTERM: %v\n%s", err, s.stderr())
	}
	if now, err := os.ReadFile(c.db); err != nil || !bytes.Equal(now, zeros) {
		t.Errorf("the scheduler wrote to the damaged file (%v)", err)
	}
}
