package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/runner/clocktest"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// t0 is when the fake clock starts, unless a test says otherwise.
var t0 = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

// harness runs a Scheduler on a memory store with a fake clock, and fake
// processes that succeed at once unless held.
type harness struct {
	t     *testing.T
	clock *clocktest.Clock
	st    store.Store
	s     *Scheduler

	mu     sync.Mutex
	events []Event
	held   map[string]chan struct{} // runs of these jobs wait until closed
	active map[string]int           // fake processes running, by job
	starts []string                 // "job@fire time" of each fake process started
	envs   map[string][]string      // the environment of each job's latest fake process
	fails  map[string]int           // the next runs of these jobs fail, one fewer each time

	setup func(*Scheduler) // if set, called by start before Start
}

func newHarness(t *testing.T, start time.Time) *harness {
	t.Helper()
	return &harness{t: t, clock: clocktest.New(start), st: newMemory(t), held: map[string]chan struct{}{}, active: map[string]int{}, envs: map[string][]string{}, fails: map[string]int{}}
}

// start starts a Scheduler configured by cfg (Store, Clock and Events are
// the harness's).
func (h *harness) start(cfg Config) *Scheduler {
	h.t.Helper()
	cfg.Store, cfg.Clock, cfg.Owner = h.st, h.clock, "test"
	cfg.Events = func(e Event) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.events = append(h.events, e)
	}
	s, err := New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	s.exec = h.exec
	if h.setup != nil {
		h.setup(s)
	}
	if err := s.Start(h.t.Context()); err != nil {
		h.t.Fatal(err)
	}
	h.s = s
	h.t.Cleanup(func() {
		if s.running() {
			h.releaseAll()
			// Cancelled: a failing store is not retried for ever.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			s.Shutdown(ctx)
		}
	})
	return s
}

func (h *harness) exec(p *process, ctx context.Context) exit {
	id, fire := envValue(p.env, "JOBCTL_JOB_ID"), envValue(p.env, "JOBCTL_FIRE_TIME")
	e := exit{started: p.clock.Now()}
	if p.started != nil {
		p.started(e.started, nil)
	}
	h.mu.Lock()
	h.starts = append(h.starts, id+"@"+fire)
	h.envs[id] = p.env
	hold := h.held[id]
	h.active[id]++
	fail := h.fails[id] > 0
	if fail {
		h.fails[id]--
	}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.active[id]--
		h.mu.Unlock()
	}()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			e.ended, e.outcome, e.reason = p.clock.Now(), store.Interrupted, "terminated"
			if stop, ok := stopped(ctx); ok {
				e.outcome, e.reason = store.Cancelled, stop.Reason
			}
			return e
		}
	}
	code := 0
	e.ended, e.outcome, e.code = p.clock.Now(), store.Success, &code
	if fail {
		code = 1
		e.outcome, e.reason = store.Failed, "exit status 1"
	}
	return e
}

// env is the value of key in the environment of job id's latest fake
// process.
func (h *harness) env(id, key string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return envValue(h.envs[id], key)
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// hold makes the runs of job id block until release.
func (h *harness) hold(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held[id] = make(chan struct{})
}

// release lets the held runs of job id end, and waits until their fake
// processes have returned.
func (h *harness) release(id string) {
	h.mu.Lock()
	close(h.held[id])
	delete(h.held, id)
	h.mu.Unlock()
	h.waitFor("the runs of "+id+" to end", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.active[id] == 0
	})
}

func (h *harness) releaseAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, ch := range h.held {
		close(ch)
		delete(h.held, id)
	}
}

// job is a job with the default options, active from t0 on its trigger.
func job(id string, spec schedule.Spec) *store.Job {
	return &store.Job{
		ID: id, Command: "true", Trigger: spec, Anchor: t0, Options: store.DefaultOptions(),
	}
}

func cron(expr string) schedule.Spec { return schedule.Spec{Cron: expr, Timezone: "UTC"} }

// put stores j, scheduled from its Anchor unless NextRun is set, and
// records its addition as a jobctl command does.
func (h *harness) put(j *store.Job) {
	h.t.Helper()
	if j.NextRun.IsZero() {
		trig, err := j.ParseTrigger()
		if err != nil {
			h.t.Fatal(err)
		}
		j.NextRun = trig.Next(j.Anchor.Add(-time.Nanosecond))
	}
	if j.State == "" {
		j.State = store.Active
	}
	err := h.st.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.PutJob(j); err != nil {
			return err
		}
		return tx.RecordChange(store.Change{Time: h.clock.Now(), Kind: store.JobAdded, JobID: j.ID})
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// advance lets the scheduler finish what it does at the present time, then
// moves the clock and has the scheduler look at the store.
func (h *harness) advance(d time.Duration) {
	h.settle()
	h.clock.Advance(d)
	h.sync()
}

// sync has the scheduler look at the store now (see Scheduler.sync).
func (h *harness) sync() {
	h.t.Helper()
	done := make(chan struct{})
	go func() {
		h.s.sync()
		close(done)
	}()
	recv(h.t, done, "the loop to look at the store")
}

// recv returns what ch yields, failing t if that takes more than 10s: a
// test fails rather than hangs.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("gave up waiting for %s", what)
		panic("unreachable")
	}
}

// history describes job id's runs, oldest first, one per line:
// "10:05:00 success +5" (the fire time, the outcome, how many earlier fire
// times were coalesced into it).
func (h *harness) history(id string) string {
	h.t.Helper()
	var b strings.Builder
	for _, r := range h.records(id) {
		fmt.Fprintf(&b, "%s %s", r.FireTime.UTC().Format(time.TimeOnly), r.Outcome)
		if r.Coalesced > 0 {
			fmt.Fprintf(&b, " +%d", r.Coalesced)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// records are job id's runs, oldest first.
func (h *harness) records(id string) []*store.Run {
	h.t.Helper()
	var runs []*store.Run
	err := h.st.View(context.Background(), func(tx store.Tx) (err error) {
		runs, err = tx.Runs(id, 0)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	slices.Reverse(runs)
	return runs
}

// settle waits until the scheduler has done all it can at the clock's
// present reading: every run recorded running has a held process, waits
// for a worker, or for its fire time (planned ahead). The wait is bounded
// only to fail rather than hang.
func (h *harness) settle() {
	h.t.Helper()
	h.waitFor("runs to be recorded", func() bool {
		var running []*store.Run
		h.st.View(context.Background(), func(tx store.Tx) (err error) {
			running, err = tx.RunningRuns()
			return err
		})
		queued := map[*store.Run]bool{}
		h.s.mu.Lock()
		for _, p := range h.s.pools {
			for _, inst := range p.queue {
				for _, r := range inst.runs {
					queued[r] = true
				}
			}
		}
		h.s.mu.Unlock()
		h.mu.Lock()
		defer h.mu.Unlock()
		now := h.clock.Now()
	runs:
		for _, r := range running {
			if r.FireTime.After(now) {
				continue
			}
			started := slices.Contains(h.starts, r.JobID+"@"+r.FireTime.Format(time.RFC3339))
			if started && h.held[r.JobID] != nil {
				continue
			}
			for q := range queued {
				if q.JobID == r.JobID && q.Seq == r.Seq {
					continue runs
				}
			}
			return false
		}
		return true
	})
}

func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			h.t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) wantHistory(id, want string) {
	h.t.Helper()
	h.settle()
	if got := h.history(id); got != want {
		h.t.Errorf("history of %s:\n%s\nwant:\n%s", id, got, want)
	}
}

func (h *harness) getJob(id string) *store.Job {
	h.t.Helper()
	var j *store.Job
	err := h.st.View(context.Background(), func(tx store.Tx) (err error) {
		j, err = tx.Job(id)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return j
}

// eventNames lists the events seen, "name job", in order, but for
// job_submitted and job_started, which every run made has.
func (h *harness) eventNames() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		if e.Name != store.EventJobSubmitted && e.Name != store.EventJobStarted {
			out = append(out, strings.TrimSpace(e.Name+" "+e.JobID))
		}
	}
	return out
}
