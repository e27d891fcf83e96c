package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// These tests run real processes with the real clock; the jobs sleep only
// where the test is about a process that outlives something.

// live is a real scheduler on a memory store.
type live struct {
	t   *testing.T
	st  store.Store
	s   *Scheduler
	out syncBuffer
	// ended receives the runs as they are recorded.
	ended chan *store.Run
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startLive starts a scheduler with the jobs given, each due now.
func startLive(t *testing.T, cfg Config, jobs ...*store.Job) *live {
	t.Helper()
	l := &live{t: t, st: newMemory(t), ended: make(chan *store.Run, 100)}
	t.Cleanup(func() { l.st.Close() })
	now := time.Now()
	err := l.st.Update(t.Context(), func(tx store.Tx) error {
		for _, j := range jobs {
			j.Trigger = schedule.Spec{At: now.Format(time.RFC3339Nano)}
			j.Anchor, j.NextRun, j.State = now, now, store.Active
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Output = l.st, &l.out
	if cfg.KillGrace == 0 {
		cfg.KillGrace = 200 * time.Millisecond
	}
	hook := cfg.Events
	cfg.Events = func(e Event) {
		if e.Name == store.EventJobExecuted || e.Name == store.EventJobError || e.Name == store.EventJobMissed {
			l.ended <- e.Run
		}
		if hook != nil {
			hook(e)
		}
	}
	if l.s, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	if err := l.s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if l.s.running() {
			l.s.Close()
		}
	})
	return l
}

// next returns the next run recorded.
func (l *live) next() *store.Run {
	l.t.Helper()
	select {
	case r := <-l.ended:
		return r
	case <-time.After(20 * time.Second):
		l.t.Fatal("no run ended")
		return nil
	}
}

// waitOutput waits until the jobs' output holds s: a process has started.
func (l *live) waitOutput(s string) {
	l.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(l.out.String(), s); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			l.t.Fatalf("no %q in the output", s)
		}
	}
}

func (l *live) shutdown(wait bool) {
	l.t.Helper()
	shutdown := l.s.Close
	if wait {
		shutdown = func() error { return l.s.Shutdown(context.Background()) }
	}
	if err := shutdown(); err != nil {
		l.t.Fatal(err)
	}
}

func cmdJob(id, command string) *store.Job {
	j := job(id, schedule.Spec{})
	j.Command = command
	return j
}

// runOnce runs one job due now and returns its recorded run.
func runOnce(t *testing.T, cfg Config, j *store.Job) (*store.Run, string) {
	t.Helper()
	l := startLive(t, cfg, j)
	r := l.next()
	l.shutdown(true)
	return r, l.out.String()
}

func TestExitStatus(t *testing.T) {
	for _, tt := range []struct {
		command string
		outcome store.Outcome
		code    int // -1: none
		signal  string
		reason  string
		output  string
	}{
		{"echo out; echo err >&2", store.Success, 0, "", "", "out\nerr\n"},
		{"echo partial; exit 3", store.Failed, 3, "", "exit status 3", "partial\n"},
		{"no-such-command-jobctl", store.Failed, 127, "", "exit status 127", "not found"},
		{"kill -KILL $$", store.Failed, -1, "SIGKILL", "killed by SIGKILL", ""},
		{"printf 'no newline'", store.Success, 0, "", "", "no newline"},
	} {
		t.Run(tt.command, func(t *testing.T) {
			r, _ := runOnce(t, Config{}, cmdJob("a", tt.command))
			code := -1
			if r.ExitCode != nil {
				code = *r.ExitCode
			}
			if r.Outcome != tt.outcome || code != tt.code || r.Signal != tt.signal || r.Reason != tt.reason {
				t.Errorf("outcome %s, exit code %d, signal %q, reason %q; want %s, %d, %q, %q",
					r.Outcome, code, r.Signal, r.Reason, tt.outcome, tt.code, tt.signal, tt.reason)
			}
			if !strings.Contains(r.Output, tt.output) {
				t.Errorf("output %q, want it to contain %q", r.Output, tt.output)
			}
			if r.Started.IsZero() || r.Ended.Before(r.Started) {
				t.Errorf("started %v, ended %v", r.Started, r.Ended)
			}
		})
	}
}

func TestCannotStart(t *testing.T) {
	j := cmdJob("a", "true")
	j.Options.Dir = filepath.Join(t.TempDir(), "missing")
	r, _ := runOnce(t, Config{}, j)
	if r.Outcome != store.Failed || !strings.Contains(r.Reason, "cannot start") || !strings.Contains(r.Reason, "missing") {
		t.Errorf("outcome %s, reason %q; want failed, cannot start, naming the directory", r.Outcome, r.Reason)
	}
}

func TestEnvironment(t *testing.T) {
	dir := t.TempDir()
	j := cmdJob("env-job", `echo "$JOBCTL_JOB_ID $JOBCTL_RUN_ID $JOBCTL_ATTEMPT $GREETING $BASE"; echo "$JOBCTL_FIRE_TIME"; pwd`)
	j.Options.Env = []string{"GREETING=hello", "BASE=overridden"}
	j.Options.Dir = dir
	r, out := runOnce(t, Config{Environ: []string{"BASE=base", "PATH=" + os.Getenv("PATH")}}, j)
	lines := strings.Split(strings.TrimSuffix(r.Output, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("output %q", r.Output)
	}
	if want := "env-job 1 1 hello overridden"; lines[0] != want {
		t.Errorf("got %q, want %q", lines[0], want)
	}
	if fire, err := time.Parse(time.RFC3339, lines[1]); err != nil || !fire.Equal(r.FireTime.Truncate(time.Second)) {
		t.Errorf("JOBCTL_FIRE_TIME %q (%v), want %v", lines[1], err, r.FireTime)
	}
	if real, _ := filepath.EvalSymlinks(dir); lines[2] != real && lines[2] != dir {
		t.Errorf("ran in %q, want %q", lines[2], dir)
	}
	// The output is streamed, each line tagged with the job's id.
	if !strings.HasPrefix(out, "[env-job] env-job 1 1 hello overridden\n") {
		t.Errorf("streamed output %q", out)
	}
}

func TestOutputTail(t *testing.T) {
	// About 1 MiB of lines, then a last one: the record keeps the end,
	// from a line's start.
	r, _ := runOnce(t, Config{}, cmdJob("a", `yes 0123456789 | head -n 100000; echo last`))
	if len(r.Output) > TailSize {
		t.Errorf("%d bytes of output kept, more than %d", len(r.Output), TailSize)
	}
	if !strings.HasSuffix(r.Output, "0123456789\nlast\n") || !strings.HasPrefix(r.Output, "0123456789\n") {
		t.Errorf("output tail starts %q and ends %q", r.Output[:20], r.Output[len(r.Output)-20:])
	}
	if len(r.Output) < TailSize-len("0123456789\n") {
		t.Errorf("only %d bytes kept", len(r.Output))
	}
}

func TestLongLines(t *testing.T) {
	r, out := runOnce(t, Config{}, cmdJob("a", `head -c 40000 /dev/zero | tr '\0' x; echo; echo short`))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// 40000 bytes in pieces of at most maxLine, then "short".
	want := (40000+maxLine-1)/maxLine + 1
	if len(lines) != want {
		t.Errorf("%d lines streamed, want %d", len(lines), want)
	}
	for _, l := range lines {
		if len(l) > len("[a] ")+maxLine {
			t.Errorf("a streamed line of %d bytes", len(l))
		}
	}
	if lines[len(lines)-1] != "[a] short" || !strings.HasSuffix(r.Output, "short\n") {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
}

// groupAlive lists the processes of group pgid that are alive (zombies,
// already dead, are not). A process killed a moment ago may still be on its
// way out, its files closed: it is given a few seconds to finish dying.
func groupAlive(t *testing.T, pgid int) []string {
	t.Helper()
	var alive []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if alive = groupMembers(t, pgid); len(alive) == 0 || time.Now().After(deadline) {
			return alive
		}
	}
}

// readProc lists /proc, the premise of the tests that look for processes
// left behind: without it they are skipped, saying why, but fail under CI,
// where it must be there.
func readProc(t *testing.T) []os.DirEntry {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err == nil && len(entries) == 0 {
		err = errors.New("empty")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot look for processes left behind: /proc: %v", err)
		}
		t.Skipf("cannot look for processes left behind: /proc: %v", err)
	}
	return entries
}

func groupMembers(t *testing.T, pgid int) []string {
	entries := readProc(t)
	var alive []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			alive = append(alive, s[:strings.LastIndexByte(s, ')')+3])
		}
	}
	return alive
}

// firstLinePID reads the shell's pid, the job's process group, from the
// first line of a run's output.
func firstLinePID(t *testing.T, output string) int {
	t.Helper()
	line, _, _ := strings.Cut(output, "\n")
	pid, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("output %q: no pid", output)
	}
	return pid
}

func TestTimeoutKillsTheGroup(t *testing.T) {
	// The shell and a child both ignore SIGTERM: SIGKILL after the grace
	// ends them both.
	j := cmdJob("stubborn", `trap '' TERM; echo $$; sh -c 'trap "" TERM; sleep 30' & sleep 30`)
	j.Options.Timeout = 200 * time.Millisecond
	r, _ := runOnce(t, Config{}, j)
	if r.Outcome != store.TimedOut || r.Reason != "timed out after 200ms" || r.Signal != "SIGKILL" {
		t.Errorf("outcome %s, reason %q, signal %q; want timeout after 200ms, SIGKILL", r.Outcome, r.Reason, r.Signal)
	}
	if alive := groupAlive(t, firstLinePID(t, r.Output)); len(alive) > 0 {
		t.Errorf("processes left behind: %q", alive)
	}
}

func TestTimeoutTerminates(t *testing.T) {
	j := cmdJob("polite", `echo $$; exec sleep 30`)
	j.Options.Timeout = 100 * time.Millisecond
	r, _ := runOnce(t, Config{KillGrace: time.Minute}, j)
	if r.Outcome != store.TimedOut || r.Signal != "SIGTERM" {
		t.Errorf("outcome %s, signal %q; want timeout, SIGTERM", r.Outcome, r.Signal)
	}
}

func TestLeftBehindChildrenEnd(t *testing.T) {
	// The command ends at once, leaving a child holding the output pipe:
	// the run ends, and so does the child.
	r, _ := runOnce(t, Config{}, cmdJob("a", `echo $$; sleep 30 & echo started`))
	if r.Outcome != store.Success || !strings.HasSuffix(r.Output, "started\n") {
		t.Errorf("outcome %s, output %q", r.Outcome, r.Output)
	}
	if alive := groupAlive(t, firstLinePID(t, r.Output)); len(alive) > 0 {
		t.Errorf("processes left behind: %q", alive)
	}
}

func TestShutdownWithoutWait(t *testing.T) {
	l := startLive(t, Config{}, cmdJob("long", `echo $$; sleep 30`))
	l.waitOutput("\n") // the first line of output says the process runs
	l.shutdown(false)
	r := l.next()
	if r.Outcome != store.Interrupted || r.Signal != "SIGTERM" {
		t.Errorf("outcome %s, signal %q; want interrupted by SIGTERM", r.Outcome, r.Signal)
	}
	if alive := groupAlive(t, firstLinePID(t, r.Output)); len(alive) > 0 {
		t.Errorf("processes left behind: %q", alive)
	}
	var stored *store.Run
	l.st.View(t.Context(), func(tx store.Tx) (err error) {
		stored, err = tx.Run("long", 1)
		return err
	})
	if stored.Outcome != store.Interrupted {
		t.Errorf("recorded %s", stored.Outcome)
	}
}

func TestShutdownWaits(t *testing.T) {
	l := startLive(t, Config{}, cmdJob("short", `echo started; sleep 0.2; echo done`))
	l.waitOutput("[short] started")
	l.shutdown(true)
	if r := l.next(); r.Outcome != store.Success || r.Output != "started\ndone\n" {
		t.Errorf("outcome %s, output %q; want success, done", r.Outcome, r.Output)
	}
}

func TestListener(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Listeners: []store.Listener{
		{Events: []string{store.EventJobError}, Command: `env | grep ^JOBCTL_ | sort > "$DIR/$JOBCTL_EVENT"`},
		{Events: []string{store.EventSchedulerShutdown}, Command: `echo "$JOBCTL_EVENT" > "$DIR/shutdown"`},
	}, Environ: append(os.Environ(), "DIR="+dir)}
	r, _ := runOnce(t, cfg, cmdJob("failing", "exit 4"))
	got, err := os.ReadFile(filepath.Join(dir, store.EventJobError))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"JOBCTL_ATTEMPT=1",
		"JOBCTL_EVENT=job_error",
		"JOBCTL_EXIT_CODE=4",
		"JOBCTL_FIRE_TIME=" + r.FireTime.Format(time.RFC3339),
		"JOBCTL_JOB_ID=failing",
		"JOBCTL_OUTCOME=failed",
		"JOBCTL_REASON=exit status 4",
		"JOBCTL_RUN_ID=1",
	}, "\n") + "\n"
	if string(got) != want {
		t.Errorf("listener saw\n%s\nwant\n%s", got, want)
	}
	// Shutdown waits for the listeners of scheduler_shutdown.
	if got, err := os.ReadFile(filepath.Join(dir, "shutdown")); string(got) != "scheduler_shutdown\n" {
		t.Errorf("shutdown listener: %q, %v", got, err)
	}
}

func TestLogDir(t *testing.T) {
	dir := t.TempDir()
	r, _ := runOnce(t, Config{LogDir: dir}, cmdJob("logged", "echo one; echo two"))
	got, err := os.ReadFile(filepath.Join(dir, "logged.log"))
	if err != nil {
		t.Fatal(err)
	}
	want := "--- run 1, fire time " + r.FireTime.Format(time.RFC3339) + "\none\ntwo\n"
	if string(got) != want {
		t.Errorf("log file %q, want %q", got, want)
	}
}

func TestNoZombies(t *testing.T) {
	readProc(t)
	var jobs []*store.Job
	for i := range 20 {
		jobs = append(jobs, cmdJob("j"+strconv.Itoa(i), "sleep 0.01 & true"))
	}
	l := startLive(t, Config{}, jobs...)
	for range jobs {
		if r := l.next(); r.Outcome != store.Success {
			t.Errorf("job %s: %s %s", r.JobID, r.Outcome, r.Reason)
		}
	}
	l.shutdown(true)
	entries := readProc(t)
	me := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == me {
			t.Errorf("a child left behind: %s", s[:strings.LastIndexByte(s, ')')+1])
		}
	}
}

// Run blocks until its context is done, then shuts down waiting for the
// running jobs: here, a run that is still going when ctx ends (its first
// line of output ends ctx).
func TestRun(t *testing.T) {
	st := newMemory(t)
	defer st.Close()
	now := time.Now()
	j := cmdJob("a", "echo started; sleep 0.2; echo done")
	j.Trigger = schedule.Spec{At: now.Format(time.RFC3339Nano)}
	j.Anchor, j.NextRun, j.State = now, now, store.Active
	if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.PutJob(j) }); err != nil {
		t.Fatal(err)
	}
	// Bounded, to fail rather than hang if no output comes.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out syncBuffer
	s, err := New(Config{Store: st, Output: writerFunc(func(p []byte) (int, error) {
		cancel()
		return out.Write(p)
	})})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() == context.DeadlineExceeded {
		t.Fatal("no output within 20s")
	}
	if got := out.String(); got != "[a] started\n[a] done\n" {
		t.Errorf("output %q", got)
	}
}

// Shutdown waits for the running process, and starts none of
// the runs waiting for a worker: they are recorded missed, with why.
func TestShutdownStartsNoQueued(t *testing.T) {
	a, b := cmdJob("a", "echo started; sleep 0.1; echo a"), cmdJob("b", "echo b")
	a.Options.Executor, b.Options.Executor = "one", "one"
	l := startLive(t, Config{Executors: map[string]int{"one": 1}}, a, b)
	l.waitOutput("[a] started")
	l.shutdown(true)
	got := map[string]*store.Run{}
	for range 2 {
		r := l.next()
		got[r.JobID] = r
	}
	if r := got["a"]; r.Outcome != store.Success {
		t.Errorf("job a: %s (%s)", r.Outcome, r.Reason)
	}
	if r := got["b"]; r.Outcome != store.Missed || r.Reason != "the scheduler shut down while it waited for a worker" {
		t.Errorf("job b: %s (%s)", r.Outcome, r.Reason)
	}
	if out := l.out.String(); out != "[a] started\n[a] a\n" {
		t.Errorf("output %q", out)
	}
}
