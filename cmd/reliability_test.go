package cmd

// The reliability suite: the real jobctl binary, real processes and real
// files, put through what machines do to a scheduler. Each test runs in a few
// seconds by default; -long runs them at full size (minutes), as
// testdata/bench/reliability.sh does to produce the README's figures, which
// the tests log as "figure: NAME = VALUE" lines.
//
// This file is the harness; the tests are in the files named for their
// concern, those that need Linux's /proc in reliability_linux_test.go.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
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
	tests := []reliabilityTest{
		{"DamagedDatabase", testDamagedDatabase},
		{"HostileJobfile", testHostileJobfile},
		{"CreatedPrivate", testCreatedPrivate},
		{"CrashSafety", testCrashSafety},
		{"ConcurrentWriters", testConcurrentWriters},
		{"InsecureFiles", testInsecureFiles},
		{"DamagedWhileRunning", testDamagedWhileRunning},
	}
	for _, tt := range append(tests, platformReliabilityTests...) {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, newCLI(t, bin)) })
	}
}

// reliabilityTest is a test of the suite, run with a cli of its own.
type reliabilityTest struct {
	name string
	test func(*testing.T, *cli)
}

// bound is how long any jobctl process of the suite may take before it is
// killed and the test fails: a guard against a hang, not a measure of speed.
const bound = time.Minute

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
	// Wait, even after a kill, waits for the output pipes to close too, which
	// a job the process started could hold open for ever.
	cmd.WaitDelay = bound
	return cmd
}

// run runs jobctl with args and returns how it ended.
func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.wait(c.command(args...))
}

// wait runs cmd, set up by command, to its end. A command that runs past
// bound (one that should fail at once but runs, as jobctl run) is killed,
// failing the test rather than hanging it.
func (c *cli) wait(cmd *exec.Cmd) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		c.t.Errorf("jobctl %s: %v", strings.Join(cmd.Args[1:], " "), err)
		return result{code: -1, err: err.Error()}
	}
	err, timedOut := waitBounded(cmd)
	var ee *exec.ExitError
	switch {
	case timedOut:
		// Not Fatal: wait may be called from goroutines of the test.
		c.t.Errorf("jobctl %s: still running after %v: killed\nstderr:\n%s", strings.Join(cmd.Args[1:], " "), bound, errb.String())
		return result{code: -1, err: "killed after " + bound.String()}
	case err != nil && !errors.As(err, &ee):
		c.t.Errorf("jobctl %s: %v", strings.Join(cmd.Args[1:], " "), err)
		return result{code: -1, err: err.Error()}
	}
	return result{out: out.String(), err: errb.String(), code: cmd.ProcessState.ExitCode()}
}

// waitBounded waits for the started cmd to exit, killing it if it runs
// past bound, and says whether it did.
func waitBounded(cmd *exec.Cmd) (err error, timedOut bool) {
	var killed atomic.Bool
	timer := time.AfterFunc(bound, func() {
		killed.Store(true)
		cmd.Process.Kill()
	})
	err = cmd.Wait()
	timer.Stop()
	return err, killed.Load()
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
// status 0, within bound.
func (s *sched) stop() {
	s.c.t.Helper()
	if err := s.terminate(); err != nil {
		s.c.t.Fatalf("jobctl run, stopped with SIGTERM: %v\n%s", err, s.stderr())
	}
}

// terminate sends the scheduler SIGTERM and waits for it to exit, killing
// it if it has not within bound.
func (s *sched) terminate() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	err, timedOut := waitBounded(s.cmd)
	if timedOut {
		return fmt.Errorf("still running %v after SIGTERM: killed", bound)
	}
	return err
}

func (s *sched) stderr() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// view reads the database as a jobctl command would.
func (c *cli) view(fn func(store.Tx) error) {
	c.t.Helper()
	st, err := (&database{path: c.db}).Open(forReading)
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
	for deadline := time.Now().Add(bound); !cond(); time.Sleep(20 * time.Millisecond) {
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
