//go:build linux

package cmd

// The reliability suite's tests that watch processes through /proc: the
// scheduler's memory under an output flood, and the processes and zombies
// that jobs leave behind. /proc is their premise: where it cannot be read,
// they fail rather than skip.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

// platformReliabilityTests are the reliability tests that only Linux runs.
var platformReliabilityTests = []reliabilityTest{
	{"OutputFlood", testOutputFlood},
	{"ProcessHygiene", testProcessHygiene},
	{"DatabaseSwapped", testDatabaseSwapped},
	{"DiskFull", testDiskFull},
	{"DiskFullShutdown", testDiskFullShutdown},
	{"ReadOnlyStatus", testReadOnlyStatus},
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
		t.Fatalf("no /proc: %v", err)
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

	var r *store.Run
	c.waitFor("the timeout job to time out", func() bool {
		if runs := c.runs("timeout"); len(runs) == 1 && runs[0].Outcome != store.Running {
			r = runs[0]
		}
		return r != nil
	})
	if r.Outcome != store.TimedOut || r.Signal != "SIGKILL" {
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
		t.Fatalf("no /proc: %v", err)
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
