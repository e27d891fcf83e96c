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

func TestOnTime(t *testing.T) {
	h := newHarness(t, t0.Add(-time.Second))
	h.put(job("a", cron("* * * * *")))
	h.start(Config{})
	h.sync()
	h.wantHistory("a", "")
	// Woken ahead of the fire time, to have the run recorded by then.
	if at, ok := h.clock.NextAlarm(); !ok || !at.Equal(t0.Add(-lead)) {
		t.Fatalf("alarm at %v %v, want %v", at, ok, t0.Add(-lead))
	}
	h.advance(time.Second)
	h.advance(time.Minute)
	h.wantHistory("a", "10:00:00 success\n10:01:00 success\n")
	if got, want := h.getJob("a").NextRun, t0.Add(2*time.Minute); !got.Equal(want) {
		t.Errorf("next run %v, want %v", got, want)
	}
}

func TestDowntime(t *testing.T) {
	tests := []struct {
		name     string
		coalesce bool
		grace    schedule.Grace
		want     string
	}{
		{"coalesce", true, schedule.Grace(time.Minute), "10:05:00 success +5\n"},
		{"coalesce, grace exceeded", true, schedule.Grace(10 * time.Second), "10:05:00 missed +5\n"},
		{"no coalesce", false, schedule.Grace(2 * time.Minute),
			"10:03:00 missed +3\n10:04:00 success\n10:05:00 success\n"},
		{"no coalesce, no grace", false, schedule.NoGrace,
			"10:00:00 success\n10:01:00 success\n10:02:00 success\n10:03:00 success\n10:04:00 success\n10:05:00 success\n"},
		{"coalesce, no grace", true, schedule.NoGrace, "10:05:00 success +5\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The scheduler was down from before 10:00 until 10:05:30.
			h := newHarness(t, t0.Add(5*time.Minute+30*time.Second))
			j := job("a", cron("* * * * *"))
			j.Options.Coalesce, j.Options.MisfireGrace = tt.coalesce, tt.grace
			h.put(j)
			h.start(Config{})
			h.wantHistory("a", tt.want)
			if got, want := h.getJob("a").NextRun, t0.Add(6*time.Minute); !got.Equal(want) {
				t.Errorf("next run %v, want %v", got, want)
			}
			// The catch-up runs of one job run one after another.
			h.s.mu.Lock()
			n := h.s.instances["a"]
			h.s.mu.Unlock()
			if !tt.coalesce && n > 0 {
				t.Errorf("%d instances still counted", n)
			}
		})
	}
}

func TestGrace(t *testing.T) {
	for _, tt := range []struct {
		name string
		late time.Duration
		want string
	}{
		{"exactly the grace", time.Minute, "10:00:00 success\n"},
		{"beyond the grace", time.Minute + time.Nanosecond, "10:00:00 missed\n"},
		{"well within", time.Second, "10:00:00 success\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, t0.Add(tt.late))
			h.put(job("a", schedule.Spec{At: t0.Format(time.RFC3339)}))
			h.start(Config{})
			h.wantHistory("a", tt.want)
		})
	}
}

func TestGraceNone(t *testing.T) {
	h := newHarness(t, t0.Add(72*time.Hour))
	j := job("a", schedule.Spec{At: t0.Format(time.RFC3339)})
	j.Options.MisfireGrace = schedule.NoGrace
	h.put(j)
	h.start(Config{})
	h.wantHistory("a", "10:00:00 success\n")
}

func TestMissedReason(t *testing.T) {
	h := newHarness(t, t0.Add(90*time.Second))
	h.put(job("a", schedule.Spec{At: t0.Format(time.RFC3339)}))
	h.start(Config{})
	h.settle()
	var r *store.Run
	h.st.View(t.Context(), func(tx store.Tx) (err error) {
		r, err = tx.Run("a", 1)
		return err
	})
	if want := "late by 1m30s, more than the misfire grace of 1m0s"; r.Reason != want {
		t.Errorf("reason %q, want %q", r.Reason, want)
	}
	if got, want := h.eventNames(), []string{store.EventSchedulerStarted, store.EventJobMissed + " a"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestMaxInstances(t *testing.T) {
	h := newHarness(t, t0)
	h.hold("a")
	h.put(job("a", cron("* * * * *")))
	j := job("b", cron("* * * * *"))
	j.Options.MaxInstances = 2
	h.put(j)
	h.hold("b")
	h.start(Config{})
	h.advance(time.Minute)
	h.advance(time.Minute)
	h.release("a")
	h.release("b")
	h.wantHistory("a", "10:00:00 success\n10:01:00 skipped\n10:02:00 skipped\n")
	h.wantHistory("b", "10:00:00 success\n10:01:00 success\n10:02:00 skipped\n")
	var r *store.Run
	h.st.View(t.Context(), func(tx store.Tx) (err error) {
		r, err = tx.Run("b", 3)
		return err
	})
	if want := "2 of max 2 instances running"; r.Reason != want {
		t.Errorf("reason %q, want %q", r.Reason, want)
	}
	// The instances are free again.
	h.advance(time.Minute)
	h.wantHistory("a", "10:00:00 success\n10:01:00 skipped\n10:02:00 skipped\n10:03:00 success\n")
	n := 0
	for _, e := range h.eventNames() {
		if e == store.EventJobMaxInstances+" a" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d job_max_instances events for a, want 2", n)
	}
}

func TestPoolSaturation(t *testing.T) {
	h := newHarness(t, t0)
	// One worker: a holds it, and b and c wait for it.
	for _, id := range []string{"a", "b", "c"} {
		j := job(id, schedule.Spec{At: t0.Format(time.RFC3339)})
		j.Options.Executor = "one"
		if id == "c" {
			j.Options.MisfireGrace = schedule.Grace(5 * time.Minute)
		}
		h.put(j)
	}
	h.hold("a")
	h.start(Config{Executors: map[string]int{"one": 1}})
	h.advance(2 * time.Minute) // a runs for two minutes
	h.release("a")
	h.wantHistory("a", "10:00:00 success\n")
	h.wantHistory("b", "10:00:00 missed\n") // 2m late by the time it got a worker
	h.wantHistory("c", "10:00:00 success\n")
	var r *store.Run
	h.st.View(t.Context(), func(tx store.Tx) (err error) {
		r, err = tx.Run("b", 1)
		return err
	})
	if want := "started late by 2m0s, more than the misfire grace of 1m0s (waited for a worker)"; r.Reason != want {
		t.Errorf("reason %q, want %q", r.Reason, want)
	}
}

func TestFinished(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("once", schedule.Spec{At: t0.Format(time.RFC3339)}))
	j := job("bounded", schedule.Spec{Every: "1m", Start: t0.Format(time.RFC3339), End: t0.Add(time.Minute).Format(time.RFC3339)})
	h.put(j)
	h.start(Config{})
	h.advance(time.Minute)
	h.advance(time.Hour)
	h.wantHistory("once", "10:00:00 success\n")
	h.wantHistory("bounded", "10:00:00 success\n10:01:00 success\n")
	for _, id := range []string{"once", "bounded"} {
		if j := h.getJob(id); j.State != store.Finished || !j.NextRun.IsZero() {
			t.Errorf("job %s: state %s, next run %v; want finished with none", id, j.State, j.NextRun)
		}
	}
	if _, ok := h.clock.NextAlarm(); ok {
		t.Error("an alarm is set with no job scheduled")
	}
}

func TestDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	// Berlin: 2026-03-29 02:00 -> 03:00 and 2026-10-25 03:00 -> 02:00.
	for _, tt := range []struct {
		name  string
		start time.Time
		cron  string
		want  []string // fire times in Berlin time, one a day for three days
	}{
		{"spring, in the gap", time.Date(2026, 3, 28, 0, 0, 0, 0, berlin), "30 2 * * *",
			[]string{"03-28 02:30 +0100", "03-29 03:00 +0200", "03-30 02:30 +0200"}},
		{"autumn, in the repeated hour", time.Date(2026, 10, 24, 0, 0, 0, 0, berlin), "30 2 * * *",
			[]string{"10-24 02:30 +0200", "10-25 02:30 +0200", "10-26 02:30 +0100"}},
		{"spring, hourly", time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), "0 * * * *", nil},
		{"autumn, hourly", time.Date(2026, 10, 25, 0, 0, 0, 0, berlin), "0 * * * *", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.start)
			j := job("a", schedule.Spec{Cron: tt.cron, Timezone: "Europe/Berlin"})
			j.Anchor = tt.start
			h.put(j)
			h.start(Config{})
			// Step through three days a quarter hour at a time, as
			// the alarm would wake the scheduler, up to the last
			// quarter before the fourth day.
			end := tt.start.AddDate(0, 0, 3)
			for h.clock.Now().Add(15 * time.Minute).Before(end) {
				h.advance(15 * time.Minute)
			}
			h.settle()
			var runs []*store.Run
			h.st.View(t.Context(), func(tx store.Tx) (err error) {
				runs, err = tx.Runs("a", 0)
				return err
			})
			var got []string
			seen := map[time.Time]bool{}
			for _, r := range slices.Backward(runs) {
				if r.Outcome != store.Success {
					t.Errorf("run %d: %s", r.Seq, r.Outcome)
				}
				if seen[r.FireTime] {
					t.Errorf("fire time %v ran twice", r.FireTime)
				}
				seen[r.FireTime] = true
				got = append(got, r.FireTime.In(berlin).Format("01-02 15:04 -0700"))
			}
			if tt.want == nil {
				// Every hour of real time, 71 or 73 of them in three
				// days with one of 23 or 25 hours, no more, no fewer.
				hours := int(end.Sub(tt.start) / time.Hour)
				if len(got) != hours {
					t.Errorf("%d hourly runs in three days, want %d:\n%s", len(got), hours, strings.Join(got, "\n"))
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("fire times\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestWakeOnStoreChange(t *testing.T) {
	h := newHarness(t, t0)
	h.start(Config{})
	if _, ok := h.clock.NextAlarm(); ok {
		t.Fatal("an alarm is set with no job")
	}
	// Another command adds a job due now: the store's watch wakes the
	// scheduler, with no sync and no clock change.
	h.put(job("a", schedule.Spec{At: t0.Format(time.RFC3339)}))
	h.waitFor("the run", func() bool { return h.history("a") == "10:00:00 success\n" })
	// A job due later sets the alarm.
	h.put(job("b", schedule.Spec{At: t0.Add(time.Hour).Format(time.RFC3339)}))
	h.waitFor("the alarm", func() bool {
		at, ok := h.clock.NextAlarm()
		return ok && at.Equal(t0.Add(time.Hour-lead))
	})
	h.settle()
	if got, want := h.eventNames(), []string{store.EventSchedulerStarted, store.EventJobAdded + " a", store.EventJobExecuted + " a", store.EventJobAdded + " b"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestPauseResume(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("a", cron("* * * * *")))
	h.hold("a")
	h.start(Config{})
	setPaused := func(p bool) {
		err := h.st.Update(t.Context(), func(tx store.Tx) error {
			_, err := store.SetPaused(tx, p, h.clock.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setPaused(true)
	h.sync()
	if _, ok := h.clock.NextAlarm(); ok {
		t.Error("paused, and an alarm is set")
	}
	h.release("a") // the run in progress goes on, and ends
	h.advance(5 * time.Minute)
	h.wantHistory("a", "10:00:00 success\n")
	// Resumed five minutes later: the fire times of the pause are
	// coalesced into one run, within the grace.
	h.clock.Advance(30 * time.Second)
	setPaused(false)
	h.waitFor("the run after resuming", func() bool { return h.history("a") == "10:00:00 success\n10:05:00 success +4\n" })
	h.settle()
	want := []string{store.EventSchedulerStarted, store.EventSchedulerPaused, store.EventJobExecuted + " a", store.EventSchedulerResumed, store.EventJobExecuted + " a"}
	if got := h.eventNames(); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestStartPaused(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("a", cron("* * * * *")))
	h.start(Config{StartPaused: true})
	h.advance(time.Minute)
	h.wantHistory("a", "")
	var set store.Settings
	h.st.View(t.Context(), func(tx store.Tx) (err error) {
		set, err = tx.Settings()
		return err
	})
	if !set.Paused {
		t.Error("the store does not say paused")
	}
}

func TestInterruptedAtStart(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("a", cron("0 * * * *")))
	// A scheduler claimed a run and died.
	err := h.st.Update(t.Context(), func(tx store.Tx) error {
		return tx.AddRun(&store.Run{JobID: "a", FireTime: t0.Add(-time.Hour), Submitted: t0.Add(-time.Hour), Outcome: store.Running, Owner: "dead:1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	h.start(Config{})
	h.wantHistory("a", "09:00:00 interrupted\n10:00:00 success\n")
	if got, want := h.eventNames(), []string{store.EventJobError + " a", store.EventSchedulerStarted, store.EventJobExecuted + " a"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// At most once: the run is recorded and the next run time advanced, in the
// store, before its process starts; a scheduler that dies while it runs
// leaves it to be recorded interrupted, never run again.
func TestAtMostOnce(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("a", cron("* * * * *")))
	var seen string
	cfg := Config{Store: h.st, Clock: h.clock, Owner: "first"}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	s.exec = func(p *process, ctx context.Context) exit {
		h.st.View(t.Context(), func(tx store.Tx) error {
			j, _ := tx.Job("a")
			r, _ := tx.Run("a", 1)
			seen = fmt.Sprintf("next %s, run %s by %s", j.NextRun.Format(time.TimeOnly), r.Outcome, r.Owner)
			return nil
		})
		close(started)
		<-ctx.Done() // runs until the end
		return exit{outcome: store.Interrupted}
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	recv(t, started, "the process to start")
	if want := "next 10:01:00, run running by first"; seen != want {
		t.Errorf("when the process started, the store said %q, want %q", seen, want)
	}
	// The first scheduler "dies": it stops, writing nothing more.
	s.stopLoop()
	recv(t, s.loopDone, "the loop to stop")
	h.start(Config{})
	h.wantHistory("a", "10:00:00 interrupted\n")
	if n := h.started(); n != 0 {
		t.Errorf("started again, %d times", n)
	}
	s.kill()
}

// A wall clock set back an hour does not repeat fire times; set forward an
// hour, it coalesces them as a downtime would.
func TestClockSet(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("a", cron("*/10 * * * *")))
	h.start(Config{})
	h.settle()
	h.clock.Set(t0.Add(-time.Hour))
	h.sync()
	h.clock.Set(t0.Add(5 * time.Minute))
	h.sync()
	h.wantHistory("a", "10:00:00 success\n")
	h.clock.Set(t0.Add(70*time.Minute + 30*time.Second))
	h.sync()
	h.wantHistory("a", "10:00:00 success\n11:10:00 success +6\n")
}

// flaky is a store whose updates fail while failing is set, with err
// (nil: store.ErrBusy).
type flaky struct {
	store.Store
	mu      sync.Mutex
	err     error
	failing bool
	fails   int
}

func (f *flaky) Update(ctx context.Context, fn func(store.Tx) error) error {
	f.mu.Lock()
	if f.failing {
		f.fails++
		err := f.err
		f.mu.Unlock()
		if err != nil {
			return err
		}
		return store.ErrBusy
	}
	f.mu.Unlock()
	return f.Store.Update(ctx, fn)
}

func (f *flaky) setFailing(b bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = b
}

func TestStoreErrors(t *testing.T) {
	h := newHarness(t, t0)
	fl := &flaky{Store: h.st}
	h.st = fl
	h.put(job("a", cron("* * * * *")))
	h.put(job("b", cron("* * * * *")))
	h.hold("a")
	h.start(Config{})
	h.settle()
	// The store becomes busy while a runs, and b's fire time comes: the
	// loop cannot plan b, a ends and its result cannot be written.
	fl.setFailing(true)
	h.advance(time.Minute)
	h.release("a")
	// Both try again after a second: each has its delay's timer set, and
	// the timer of a retry brought forward (see retry.go).
	h.waitFor("both to fail and wait", func() bool {
		fl.mu.Lock()
		defer fl.mu.Unlock()
		return fl.fails >= 2 && h.clock.Waiters() >= 4
	})
	fl.setFailing(false)
	h.clock.Advance(minBackoff)
	h.waitFor("the loop to plan b's 10:01 fire time", func() bool {
		return strings.Count(h.history("b"), "\n") == 2
	})
	h.wantHistory("a", "10:00:00 success\n10:01:00 success\n")
	h.wantHistory("b", "10:00:00 success\n10:01:00 success\n")
}

// breaking marks a job broken as the store does when it can no longer
// parse a stored trigger (say, after an upgrade): PutJob refuses to store
// one, so it is done on the way out of Due.
type breaking struct {
	store.Store
	id string
}

func (b breaking) Update(ctx context.Context, fn func(store.Tx) error) error {
	return b.Store.Update(ctx, func(tx store.Tx) error { return fn(breakingTx{tx, b.id}) })
}

type breakingTx struct {
	store.Tx
	id string
}

func (t breakingTx) Due(now time.Time, limit int) ([]*store.Job, error) {
	due, err := t.Tx.Due(now, limit)
	for _, j := range due {
		if j.ID == t.id {
			j.Broken = "trigger: cron: minute field: 61 is out of range 0-59"
		}
	}
	return due, err
}

func TestBrokenJob(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("bad", cron("* * * * *")))
	h.put(job("good", cron("* * * * *")))
	h.st = breaking{h.st, "bad"}
	h.start(Config{})
	h.advance(time.Minute)
	h.wantHistory("good", "10:00:00 success\n10:01:00 success\n")
	h.wantHistory("bad", "")
}

// A run starts its jitter's delay after its fire time: the delay drawn
// (here, always 17s) from [0, jitter).
func TestJitter(t *testing.T) {
	h := newHarness(t, t0)
	j := job("a", schedule.Spec{At: t0.Format(time.RFC3339)})
	j.Options.Jitter = 30 * time.Second
	h.put(j)
	var drawnFrom time.Duration
	h.setup = func(s *Scheduler) {
		s.jitter = func(max time.Duration) time.Duration {
			drawnFrom = max
			return 17 * time.Second
		}
	}
	h.start(Config{})
	if drawnFrom != 30*time.Second {
		t.Errorf("delay drawn from [0, %s), want [0, 30s)", drawnFrom)
	}
	if got := h.history("a"); got != "10:00:00 running\n" {
		t.Errorf("history before the jitter: %q", got)
	}
	h.waitFor("the jitter's timer", func() bool { return h.clock.Waiters() == 1 })
	h.clock.Advance(17*time.Second - time.Nanosecond)
	if n := h.clock.Waiters(); n != 1 || h.started() != 0 {
		t.Fatalf("before the delay is over: %d timers, %d processes started; want the jitter's timer, none", n, h.started())
	}
	h.clock.Advance(time.Nanosecond)
	h.wantHistory("a", "10:00:00 success\n")
	if r := h.run("a", 1); !r.Started.Equal(t0.Add(17 * time.Second)) {
		t.Errorf("started %s after its fire time, want 17s", r.Started.Sub(t0))
	}
}

func TestShutdownQueued(t *testing.T) {
	h := newHarness(t, t0)
	for _, id := range []string{"a", "b"} {
		j := job(id, schedule.Spec{At: t0.Format(time.RFC3339)})
		j.Options.Executor = "one"
		h.put(j)
	}
	h.hold("a")
	s := h.start(Config{Executors: map[string]int{"one": 1}})
	h.waitFor("a to start", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.starts) == 1
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // do not wait
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := h.history("a")+h.history("b"), "10:00:00 interrupted\n10:00:00 missed\n"; got != want {
		t.Errorf("history:\n%s\nwant:\n%s", got, want)
	}
	if got := h.eventNames(); got[len(got)-1] != store.EventSchedulerShutdown {
		t.Errorf("last event %q, want %s", got[len(got)-1], store.EventSchedulerShutdown)
	}
}

func TestNewErrors(t *testing.T) {
	st := newMemory(t)
	defer st.Close()
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "runner: no store"},
		{Config{Store: st, Executors: map[string]int{"x": 0}}, `runner: executor "x": max workers 0 is less than 1`},
		{Config{Store: st, Listeners: []store.Listener{{Events: []string{"job_done"}}}}, `runner: listener 1: unknown event "job_done"`},
		{Config{Store: st, Shell: []string{}}, "runner: empty shell"},
		{Config{Store: st, Funcs: map[string]Func{"f": nil}}, `runner: func "f" is nil`},
	} {
		if _, err := New(tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("New: %v, want %s", err, tt.want)
		}
	}
	s, _ := New(Config{Store: st})
	if err := s.Shutdown(context.Background()); err == nil {
		t.Error("Shutdown before Start: no error")
	}
}

// A job is planned lead ahead of its fire time, and its process started at
// the fire time; a job at max instances is left to be decided then.
func TestPlannedAhead(t *testing.T) {
	h := newHarness(t, t0.Add(-lead))
	h.put(job("a", cron("* * * * *")))
	h.hold("b")
	h.put(job("b", cron("* * * * *")))
	h.start(Config{})
	h.sync()
	// Recorded and rescheduled, not started.
	if got := h.history("a"); got != "10:00:00 running\n" {
		t.Errorf("history of a ahead of its fire time: %q", got)
	}
	if next := h.getJob("a").NextRun; !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("next run of a %v, want 10:01", next)
	}
	if len(h.starts) != 0 {
		t.Errorf("started ahead of the fire time: %q", h.starts)
	}
	h.advance(lead)
	h.wantHistory("a", "10:00:00 success\n")
	// b still runs lead before 10:01: it is not skipped ahead of time,
	// and ends before its fire time.
	h.advance(time.Minute - lead)
	if at, ok := h.clock.NextAlarm(); !ok || !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("alarm %v (%v), want at b's fire time", at, ok)
	}
	h.release("b")
	h.advance(lead)
	h.wantHistory("b", "10:00:00 success\n10:01:00 success\n")
	h.wantHistory("a", "10:00:00 success\n10:01:00 success\n")
}

// A job stored without a zone (by an older jobctl) keeps the zone it has
// fired in, the scheduler's local zone, once it is planned: from then on
// every process reads it as the same instants.
func TestZonelessJobGetsLocalZone(t *testing.T) {
	zone, err := store.LocalZone()
	if err != nil {
		t.Skipf("this machine's local zone has no name: %v", err)
	}
	h := newHarness(t, t0)
	h.put(job("a", schedule.Spec{Every: "1m"}))
	h.start(Config{})
	h.advance(time.Minute)
	h.wantHistory("a", "10:01:00 success\n")
	if got := h.getJob("a").Trigger.Timezone; got != zone {
		t.Errorf("stored zone %q, want %q", got, zone)
	}
}

// A run asked for with run-now is not a fire time: it runs however late
// the next scheduler starts, even past a full executor, and the job then
// follows its trigger again, its missed fire times still recorded.
func TestRunNowRunsHoweverLate(t *testing.T) {
	h := newHarness(t, t0)
	j := job("a", cron("0 * * * *")) // hourly, 1m grace
	j.NextRun = t0.Add(time.Hour)
	h.put(j)
	h.runNow("a", t0.Add(30*time.Minute))
	// The scheduler starts three days later, the last fire time 10m ago.
	h.clock.Set(t0.Add(72*time.Hour + 10*time.Minute))
	h.start(Config{})
	h.wantHistory("a", "10:30:00 success\n10:00:00 missed +71\n")
	r := h.run("a", 1)
	if !r.Requested || r.Reason != "" {
		t.Errorf("requested run recorded %+v", r)
	}
	got := h.getJob("a")
	if !got.Requested.IsZero() || !got.NextRun.Equal(t0.Add(73*time.Hour)) || got.State != store.Active {
		t.Errorf("after the requested run: requested %v, next run %v, state %s", got.Requested, got.NextRun, got.State)
	}
}

// A requested run that waits for a worker beyond the misfire grace still
// runs, where a fire time would be missed.
func TestRunNowWaitsForAWorker(t *testing.T) {
	h := newHarness(t, t0)
	for _, id := range []string{"a", "b", "c"} {
		j := job(id, schedule.Spec{At: t0.Add(time.Hour).Format(time.RFC3339)})
		j.Options.Executor = "one"
		if id == "a" {
			j.Trigger.At = t0.Format(time.RFC3339)
		}
		h.put(j)
	}
	h.runNow("b", t0)
	h.hold("a")
	h.start(Config{Executors: map[string]int{"one": 1}})
	h.advance(2 * time.Minute) // a runs for two minutes
	h.release("a")
	h.wantHistory("b", "10:00:00 success\n")
	if r := h.run("b", 1); !r.Requested || r.Reason != "" || r.Started.Sub(r.FireTime) != 2*time.Minute {
		t.Errorf("requested run recorded %+v", r)
	}
	h.wantHistory("c", "")
}

// runNow requests a run of job id at req, as jobctl run-now does.
func (h *harness) runNow(id string, req time.Time) {
	h.t.Helper()
	err := h.st.Update(context.Background(), func(tx store.Tx) error {
		j, err := tx.Job(id)
		if err != nil {
			return err
		}
		if err := j.RunNow(req); err != nil {
			return err
		}
		return tx.PutJob(j)
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// run returns run seq of job id.
func (h *harness) run(id string, seq uint64) *store.Run {
	h.t.Helper()
	var r *store.Run
	err := h.st.View(context.Background(), func(tx store.Tx) (err error) {
		r, err = tx.Run(id, seq)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// Once shutting down, the scheduler starts no process: a run waiting for a
// worker, or in its jitter delay, is recorded missed with why; the running
// one is waited for.
func TestShutdownStartsNothingNew(t *testing.T) {
	h := newHarness(t, t0)
	h.putWaiting()
	h.hold("a")
	s := h.start(Config{Executors: map[string]int{"one": 1}})
	h.waitFor("a to start", func() bool { return h.started() == 1 })
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	h.waitFor("b and c to be recorded", func() bool {
		return h.history("b") == "10:00:00 missed\n" && h.history("c") == "10:00:00 missed\n"
	})
	h.clock.Advance(time.Hour) // past c's jitter
	h.release("a")
	if err := recv(t, done, "Shutdown or Drain to return"); err != nil {
		t.Fatal(err)
	}
	h.wantHistory("a", "10:00:00 success\n")
	for id, want := range map[string]string{
		"b": "the scheduler shut down while it waited for a worker",
		"c": "the scheduler shut down before it started",
	} {
		if r := h.run(id, 1); r.Reason != want {
			t.Errorf("%s: reason %q, want %q", id, r.Reason, want)
		}
	}
	if n := h.started(); n != 1 {
		t.Errorf("%d processes started, want only a's", n)
	}
}

// Drain (run --once) runs what was submitted, those waiting for a worker or
// their jitter too, and plans no more.
func TestDrain(t *testing.T) {
	h := newHarness(t, t0)
	h.putWaiting()
	later := job("later", cron("* * * * *"))
	later.NextRun = t0.Add(time.Minute)
	h.put(later)
	h.hold("a")
	s := h.start(Config{Executors: map[string]int{"one": 1}})
	h.waitFor("a to start", func() bool { return h.started() == 1 })
	done := make(chan error, 1)
	go func() { done <- s.Drain(context.Background()) }()
	// Once the loop has ended (Drain ends it first), no fire time is
	// planned: not later's, whose fire times the clock then passes.
	recv(t, (<-chan struct{})(s.loopDone), "the loop to end")
	h.release("a")
	h.clock.Advance(time.Hour) // past c's jitter, and later's fire times
	if err := recv(t, done, "Shutdown or Drain to return"); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		h.wantHistory(id, "10:00:00 success\n")
	}
	h.wantHistory("later", "")
}

// putWaiting stores three jobs due at t0: a and b in executor "one" of one
// worker (b waits for a), c with a minute of jitter.
func (h *harness) putWaiting() {
	for _, id := range []string{"a", "b", "c"} {
		j := job(id, schedule.Spec{At: t0.Format(time.RFC3339)})
		j.Options.MisfireGrace = schedule.NoGrace
		if id == "c" {
			j.Options.Jitter = time.Minute
		} else {
			j.Options.Executor = "one"
		}
		h.put(j)
	}
}

// started is how many fake processes have started.
func (h *harness) started() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.starts)
}

// The fake clock is a Clock: runner.Timer and runner.Alarm are the same
// types as clocktest's.
var _ Clock = (*clocktest.Clock)(nil)

// Close ends the wait of a Shutdown under way, as http.Server's does: the
// running run is terminated, and both return.
func TestCloseDuringShutdown(t *testing.T) {
	h, done := shutdownWaiting(t, context.Background())
	s := h.s
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, done, "Shutdown to return"); err != nil {
		t.Fatal(err)
	}
	if got := h.history("a"); got != "10:00:00 interrupted\n" {
		t.Errorf("history %q, want interrupted", got)
	}
	if err := s.Close(); err == nil {
		t.Error("Close after Shutdown: no error")
	}
}

// Shutdown waits for the running runs until its ctx is done, then
// terminates them, records them interrupted and returns.
func TestShutdownContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, done := shutdownWaiting(t, ctx)
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while a ran and its ctx was not done", err)
	case <-time.After(10 * time.Millisecond):
	}
	cancel()
	if err := recv(t, done, "Shutdown to return once its ctx is done"); err != nil {
		t.Fatal(err)
	}
	if got := h.history("a"); got != "10:00:00 interrupted\n" {
		t.Errorf("history %q, want interrupted", got)
	}
}

// shutdownWaiting starts a scheduler whose job a runs, held, and a
// Shutdown(ctx) that waits for it; done yields what the Shutdown returns.
func shutdownWaiting(t *testing.T, ctx context.Context) (h *harness, done <-chan error) {
	t.Helper()
	h = newHarness(t, t0)
	h.put(job("a", schedule.Spec{At: t0.Format(time.RFC3339)}))
	h.hold("a")
	s := h.start(Config{})
	h.waitFor("a to start", func() bool { return h.started() == 1 })
	ch := make(chan error, 1)
	go func() { ch <- s.Shutdown(ctx) }()
	h.waitFor("Shutdown to wait", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.state == stateStopping
	})
	return h, ch
}
