package cmd

// The reliability suite's tests of crashes and contention: SIGKILLs at
// random moments, and many writers beside a running scheduler.

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

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
		if len(f) != 3 {
			t.Fatalf("side effects: bad line %q", line)
		}
		seq, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
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
