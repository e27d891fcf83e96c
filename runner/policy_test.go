package runner

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// runs describes job id's runs, oldest first, one per line: the fire
// time, the outcome, the attempt when later than the first, and what the
// run says of a retry or of having waited.
func (h *harness) runs(id string) string {
	h.t.Helper()
	h.settle()
	var b strings.Builder
	for _, r := range h.records(id) {
		fmt.Fprintf(&b, "%s %s", r.FireTime.UTC().Format(time.TimeOnly), r.Outcome)
		if r.Attempt > 1 {
			fmt.Fprintf(&b, " attempt %d", r.Attempt)
		}
		if !r.RetryAt.IsZero() {
			fmt.Fprintf(&b, " retry at %s", r.RetryAt.UTC().Format(time.TimeOnly))
		}
		if !r.Buffered.IsZero() {
			fmt.Fprintf(&b, " buffered at %s", r.Buffered.UTC().Format(time.TimeOnly))
		}
		if r.Outcome == store.Skipped || r.Outcome == store.Cancelled || r.Outcome == store.Missed {
			fmt.Fprintf(&b, ": %s", r.Reason)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// ended waits until no run of job id is recorded running.
func (h *harness) ended(id string) {
	h.t.Helper()
	h.waitFor("the runs of "+id+" to be recorded", func() bool {
		var running []*store.Run
		h.st.View(context.Background(), func(tx store.Tx) (err error) {
			running, err = tx.RunningRuns()
			return err
		})
		return !slices.ContainsFunc(running, func(r *store.Run) bool { return r.JobID == id })
	})
}

func (h *harness) wantRuns(id, want string) {
	h.t.Helper()
	if got := h.runs(id); got != want {
		h.t.Errorf("runs of %s:\n%s\nwant:\n%s", id, got, want)
	}
}

// hourly is a job firing at the top of each hour, with opts changed by
// set.
func hourly(id string, set func(*store.Options)) *store.Job {
	j := job(id, cron("0 * * * *"))
	set(&j.Options)
	return j
}

// A failed run is tried again for its fire time, each delay Backoff times
// the one before, until the attempts run out; each attempt is a run of its
// own, and knows which it is.
func TestRetryBackoff(t *testing.T) {
	h := newHarness(t, t0)
	h.fails["a"] = 10
	h.put(hourly("a", func(o *store.Options) {
		o.Retry = schedule.Retry{Max: 2, Delay: time.Minute, Backoff: 3}
	}))
	h.setup = func(s *Scheduler) { s.retryJitter = func() float64 { return 0 } }
	h.start(Config{})
	h.sync()
	h.wantRuns("a", "10:00:00 failed retry at 10:01:00\n")
	if r := h.getJob("a").Retry; r == nil || !r.At.Equal(t0.Add(time.Minute)) || r.Attempt != 2 {
		t.Fatalf("pending retry %+v, want attempt 2 at 10:01", r)
	}
	h.advance(59 * time.Second)
	h.wantRuns("a", "10:00:00 failed retry at 10:01:00\n")
	h.advance(time.Second)
	h.advance(3 * time.Minute)
	h.wantRuns("a", "10:00:00 failed retry at 10:01:00\n10:00:00 failed attempt 2 retry at 10:04:00\n10:00:00 failed attempt 3\n")
	if got := h.env("a", "JOBCTL_ATTEMPT"); got != "3" {
		t.Errorf("JOBCTL_ATTEMPT=%q, want 3", got)
	}
	if j := h.getJob("a"); j.Retry != nil || !j.NextRun.Equal(t0.Add(time.Hour)) {
		t.Errorf("after the last attempt: retry %+v, next run %v; want none, 11:00", j.Retry, j.NextRun)
	}
	// A success ends the retries.
	h.fails["a"] = 1
	h.advance(56 * time.Minute)
	h.advance(time.Minute)
	h.wantRuns("a", "10:00:00 failed retry at 10:01:00\n10:00:00 failed attempt 2 retry at 10:04:00\n10:00:00 failed attempt 3\n"+
		"11:00:00 failed retry at 11:01:00\n11:00:00 success attempt 2\n")
}

// The pending retry is in the store: a scheduler started after the one
// that scheduled it runs it, however late (a retry is not a fire time to
// miss).
func TestRetrySurvivesRestart(t *testing.T) {
	h := newHarness(t, t0)
	h.fails["a"] = 1
	h.put(hourly("a", func(o *store.Options) { o.Retry = schedule.Retry{Max: 1, Delay: time.Minute} }))
	h.setup = func(s *Scheduler) { s.retryJitter = func() float64 { return 1 } } // +10%
	s := h.start(Config{})
	h.sync()
	h.wantRuns("a", "10:00:00 failed retry at 10:01:06\n")
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(30 * time.Minute)
	h.start(Config{})
	h.sync()
	h.wantRuns("a", "10:00:00 failed retry at 10:01:06\n10:00:00 success attempt 2\n")
}

// A pending retry holds an instance: a fire time that comes meanwhile
// finds max instances taken, and the retry never runs beside it.
func TestRetryHoldsAnInstance(t *testing.T) {
	h := newHarness(t, t0)
	h.fails["a"] = 1
	j := job("a", cron("* * * * *"))
	j.Options.Retry = schedule.Retry{Max: 1, Delay: 90 * time.Second}
	h.put(j)
	h.setup = func(s *Scheduler) { s.retryJitter = func() float64 { return 0 } }
	h.start(Config{})
	h.sync()
	// The failed instance's count drops once its retry is recorded: only
	// the retry holds the instance then.
	h.waitFor("the failed run's instance to be freed", func() bool {
		h.s.mu.Lock()
		defer h.s.mu.Unlock()
		return h.s.instances["a"] == 0
	})
	h.advance(time.Minute)
	h.advance(30 * time.Second)
	h.wantRuns("a", "10:00:00 failed retry at 10:01:30\n"+
		"10:01:00 skipped: 0 of max 1 instances running, and a retry of the fire time 2026-06-01T10:00:00Z waiting to run at 2026-06-01T10:01:30Z\n"+
		"10:00:00 success attempt 2\n")
}

// heldJob stores a job that fires every minute with overlap policy o, and whose
// runs are held.
func (h *harness) heldJob(id string, o store.Overlap) {
	h.hold(id)
	j := job(id, cron("* * * * *"))
	j.Options.Overlap = o
	j.Options.MisfireGrace = schedule.Grace(5 * time.Minute)
	h.put(j)
}

func TestOverlapBufferOne(t *testing.T) {
	h := newHarness(t, t0)
	h.heldJob("a", store.OverlapBufferOne)
	h.start(Config{})
	h.sync()
	h.advance(time.Minute)
	if b := h.getJob("a").Buffered; len(b) != 1 || !b[0].FireTime.Equal(t0.Add(time.Minute)) {
		t.Fatalf("buffered %+v, want 10:01", b)
	}
	h.advance(time.Minute)
	h.advance(30 * time.Second)
	h.release("a")
	h.ended("a")
	h.sync()
	h.wantRuns("a", "10:00:00 success\n"+
		"10:01:00 skipped buffered at 10:01:00: replaced, as it waited for an instance to end, by the newer fire time 2026-06-01T10:02:00Z (overlap buffer_one)\n"+
		"10:02:00 success buffered at 10:02:00\n")
	if b := h.getJob("a").Buffered; len(b) != 0 {
		t.Errorf("buffered %+v after it ran, want none", b)
	}
}

func TestOverlapBufferAll(t *testing.T) {
	h := newHarness(t, t0)
	h.heldJob("a", store.OverlapBufferAll)
	h.start(Config{})
	h.sync()
	h.advance(time.Minute)
	h.advance(time.Minute)
	h.advance(30 * time.Second)
	h.release("a")
	// One at a time: each ends before the next starts.
	for range 2 {
		h.ended("a")
		h.sync()
	}
	h.wantRuns("a", "10:00:00 success\n10:01:00 success buffered at 10:01:00\n10:02:00 success buffered at 10:02:00\n")
}

// A buffered fire time is checked against the misfire grace when it
// finally starts.
func TestOverlapBufferMissed(t *testing.T) {
	h := newHarness(t, t0)
	h.hold("a")
	j := job("a", cron("0,1 10 * * *"))
	j.Options.Overlap = store.OverlapBufferOne
	h.put(j)
	h.start(Config{})
	h.sync()
	h.advance(time.Minute)
	h.advance(90 * time.Second)
	h.release("a")
	h.ended("a")
	h.sync()
	h.wantRuns("a", "10:00:00 success\n"+
		"10:01:00 missed buffered at 10:01:00: waited for an instance to end (overlap buffer_one), then was late by 1m30s, more than the misfire grace of 1m0s\n")
}

func TestOverlapCancelOther(t *testing.T) {
	for _, o := range []store.Overlap{store.OverlapCancelOther, store.OverlapTerminateOther} {
		t.Run(string(o), func(t *testing.T) {
			h := newHarness(t, t0)
			h.heldJob("a", o)
			h.start(Config{})
			h.sync()
			h.advance(time.Minute)
			h.waitFor("the run of 10:00 to end", func() bool { return strings.HasPrefix(h.runs("a"), "10:00:00 cancelled") })
			h.sync()
			verb := map[store.Overlap]string{store.OverlapCancelOther: "cancelled", store.OverlapTerminateOther: "terminated"}[o]
			h.wantRuns("a", fmt.Sprintf("10:00:00 cancelled: %s by the fire time 2026-06-01T10:01:00Z (overlap %s)\n10:01:00 running buffered at 10:01:00\n", verb, o))
		})
	}
}

func TestOverlapAllowAll(t *testing.T) {
	h := newHarness(t, t0)
	h.heldJob("a", store.OverlapAllowAll)
	h.start(Config{})
	h.sync()
	h.advance(time.Minute)
	h.advance(time.Minute)
	h.release("a")
	h.wantRuns("a", "10:00:00 success\n10:01:00 success\n10:02:00 success\n")
}

// In a fleet, the scheduler running a run a later fire time ends is told
// through the journal: the planner that decided marks the run and records
// the change, and the owner's planner finds it among the changes.
func TestPlannerStopsAnotherSchedulersRun(t *testing.T) {
	st := newMemory(t)
	defer st.Close()
	j := job("a", cron("* * * * *"))
	j.Options.Overlap = store.OverlapTerminateOther
	j.NextRun = t0.Add(time.Minute)
	putJobs(t, st, j)
	err := st.Update(t.Context(), func(tx store.Tx) error {
		return tx.AddRun(&store.Run{JobID: "a", FireTime: t0, Submitted: t0, Outcome: store.Running, Owner: "other"})
	})
	if err != nil {
		t.Fatal(err)
	}
	here := &planner{owner: "here"}
	d := decide(t, st, here, t0.Add(time.Minute), 0, map[string]int{"a": 1})
	if len(d.stops) != 0 || len(d.submit) != 0 {
		t.Fatalf("here: stops %v, submitted %v; want none (the run is another's, the fire time waits)", d.stops, d.submit)
	}
	other := &planner{owner: "other"}
	d = decide(t, st, other, t0.Add(time.Minute), 0, map[string]int{"a": 1})
	if len(d.stops) != 1 || d.stops[0].Seq != 1 || !d.stops[0].Stop.Kill {
		t.Fatalf("other: stops %+v, want run 1, killed", d.stops)
	}
	if got := journal(d.changes); !strings.Contains(got, "stop_run a 1") {
		t.Errorf("journal %s, want stop_run a 1", got)
	}
}

func journal(cs []store.Change) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s %s %d;", c.Kind, c.JobID, c.Run)
	}
	return b.String()
}

// A Stop ends a real process: cancel_other with SIGTERM (and the kill
// grace), terminate_other with SIGKILL at once; the run is cancelled.
func TestStopProcess(t *testing.T) {
	for _, kill := range []bool{false, true} {
		ctx, cancel := context.WithCancelCause(context.Background())
		p := &process{argv: []string{"/bin/sh", "-c", "echo started; exec sleep 30"}, clock: RealClock{}, killGrace: time.Minute,
			raw: io.Discard, line: func([]byte) {}, started: func(time.Time, error) {
				cancel(&stopCause{store.Stop{FireTime: t0, Kill: kill, Reason: "stopped for the test"}})
			}}
		e := p.run(ctx)
		want := map[bool]string{false: "SIGTERM", true: "SIGKILL"}[kill]
		if e.outcome != store.Cancelled || e.reason != "stopped for the test" || e.signal != want {
			t.Errorf("kill %v: outcome %s, reason %q, signal %q; want cancelled, the stop's reason, %s", kill, e.outcome, e.reason, e.signal, want)
		}
	}
}

// The planner's overlap decisions at their edges, over a memory store:
// buffer_all's bound, and cancel_other dropping a pending retry when no
// run of the job runs.
func TestPlannerOverlapEdges(t *testing.T) {
	st := newMemory(t)
	defer st.Close()
	full := job("full", cron("* * * * *"))
	full.Options.Overlap = store.OverlapBufferAll
	for i := range store.MaxBuffered {
		full.Buffered = append(full.Buffered, store.Waiting{FireTime: t0.Add(-time.Duration(store.MaxBuffered-i) * time.Minute)})
	}
	full.NextRun = t0
	retrying := job("retrying", cron("* * * * *"))
	retrying.Options.Overlap = store.OverlapCancelOther
	retrying.Retry = &store.PendingRetry{FireTime: t0.Add(-time.Minute), Attempt: 2, At: t0.Add(30 * time.Second), After: 1}
	retrying.NextRun = t0
	putJobs(t, st, full, retrying)

	d := decide(t, st, &planner{owner: "test"}, t0, 0, map[string]int{"full": 1})
	// With its retry dropped, nothing of retrying's runs: its fire time
	// starts at once rather than wait for an end that will not come.
	if len(d.submit) != 1 || d.submit[0].job.ID != "retrying" || !d.submit[0].runs[0].FireTime.Equal(t0) {
		t.Errorf("submitted %v, want retrying's 10:00", d.submit)
	}
	var skipped []string
	for _, e := range d.events {
		skipped = append(skipped, fmt.Sprintf("%s %s attempt %d: %s", e.JobID, e.Run.FireTime.Format(time.TimeOnly), e.Run.AttemptNumber(), e.Run.Reason))
	}
	want := []string{
		"full 10:00:00 attempt 1: 100 fire times already wait for an instance to end, the most overlap buffer_all keeps",
		"retrying 09:59:00 attempt 2: retry cancelled by the fire time 2026-06-01T10:00:00Z (overlap cancel_other)",
	}
	if !slices.Equal(skipped, want) {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(skipped, "\n"), strings.Join(want, "\n"))
	}
	err := st.View(t.Context(), func(tx store.Tx) error {
		f, err := tx.Job("full")
		if err != nil {
			return err
		}
		r, err := tx.Job("retrying")
		if err != nil {
			return err
		}
		if len(f.Buffered) != store.MaxBuffered || r.Retry != nil || len(r.Buffered) != 0 {
			t.Errorf("full: %d waiting, want %d; retrying: retry %+v, waiting %+v, want neither", len(f.Buffered), store.MaxBuffered, r.Retry, r.Buffered)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A job woken (Job.Wake, WakeBuffered) at the very instant of its last
// fire time plans its trigger from its NextFire, not from the wake: that
// fire time is not planned twice.
func TestPlannerWokenAtItsFireTime(t *testing.T) {
	st := newMemory(t)
	defer st.Close()
	j := job("a", cron("* * * * *"))
	j.Options.Overlap = store.OverlapBufferOne
	j.Buffered = []store.Waiting{{FireTime: t0, Since: t0}}
	j.NextRun, j.NextFire = t0, t0.Add(time.Minute)
	putJobs(t, st, j)
	d := decide(t, st, &planner{owner: "test"}, t0, 0, nil)
	if len(d.submit) != 1 || len(d.submit[0].runs) != 1 || !d.submit[0].runs[0].Buffered.Equal(t0) {
		t.Fatalf("submitted %v, want the buffered 10:00 alone", d.submit)
	}
	if got := storedJob(t, st, "a"); !got.NextRun.Equal(t0.Add(time.Minute)) || !got.NextFire.Equal(got.NextRun) || len(got.Buffered) != 0 {
		t.Errorf("next run %v, next fire %v, waiting %v; want 10:01 both, none waiting", got.NextRun, got.NextFire, got.Buffered)
	}
}

func storedJob(t *testing.T, st store.Store, id string) *store.Job {
	t.Helper()
	var j *store.Job
	if err := st.View(t.Context(), func(tx store.Tx) (err error) { j, err = tx.Job(id); return err }); err != nil {
		t.Fatal(err)
	}
	return j
}
