package runner

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/jobctl/jobctl/runner/clocktest"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// decide runs the planner in one transaction of st at now.
func decide(t *testing.T, st store.Store, p *planner, now time.Time, since uint64, inFlight map[string]int) *decisions {
	t.Helper()
	var d *decisions
	err := st.Update(context.Background(), func(tx store.Tx) (err error) {
		d, err = p.decide(tx, now, since, inFlight)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// putJobs stores jobs as they are, each with its NextRun.
func putJobs(t *testing.T, st store.Store, jobs ...*store.Job) {
	t.Helper()
	err := st.Update(context.Background(), func(tx store.Tx) error {
		for _, j := range jobs {
			j.State = store.Active
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The planner's decisions over a memory store's transaction, with no
// goroutine: a run submitted, one missed, one skipped at max instances,
// one planned ahead to start at its fire time, and the next run time.
func TestPlannerDecide(t *testing.T) {
	st := newMemory(t)
	defer st.Close()
	due := job("due", cron("* * * * *"))
	due.NextRun = t0
	late := job("late", schedule.Spec{At: t0.Add(-2 * time.Minute).Format(time.RFC3339)})
	late.NextRun = t0.Add(-2 * time.Minute)
	busy := job("busy", cron("* * * * *"))
	busy.NextRun = t0
	ahead := job("ahead", schedule.Spec{At: t0.Add(lead / 2).Format(time.RFC3339Nano)})
	ahead.NextRun = t0.Add(lead / 2)
	later := job("later", cron("0 * * * *"))
	later.NextRun = t0.Add(time.Hour)
	putJobs(t, st, due, late, busy, ahead, later)

	p := &planner{owner: "test", nextJob: true}
	inFlight := map[string]int{"busy": 1}
	d := decide(t, st, p, t0, 0, inFlight)

	var submitted []string
	for _, inst := range d.submit {
		submitted = append(submitted, fmt.Sprintf("%s@%s", inst.job.ID, inst.start.Sub(t0)))
	}
	if want := []string{"due@0s", "ahead@100ms"}; !slices.Equal(submitted, want) {
		t.Errorf("submitted %q, want %q", submitted, want)
	}
	var events []string
	for _, e := range d.events {
		events = append(events, e.Name+" "+e.JobID+" "+e.Run.Reason)
	}
	if want := []string{
		store.EventJobMissed + " late late by 2m0s, more than the misfire grace of 1m0s",
		store.EventJobMaxInstances + " busy 1 of max 1 instances running",
	}; !slices.Equal(events, want) {
		t.Errorf("events %q, want %q", events, want)
	}
	if want := []string{"late", "ahead"}; !slices.Equal(d.finished, want) {
		t.Errorf("finished %q, want %q", d.finished, want)
	}
	if !d.next.Equal(t0.Add(time.Minute)) || d.nextJob != "busy" || d.more || d.paused {
		t.Errorf("next %v (%s), more %v, paused %v; want 10:01 (busy), no more, not paused", d.next, d.nextJob, d.more, d.paused)
	}
	if at, more := d.wake(t0); !at.Equal(t0.Add(time.Minute-lead)) || more {
		t.Errorf("wake at %v (more %v), want lead ahead of 10:01", at, more)
	}
	if !maps.Equal(inFlight, map[string]int{"busy": 1}) {
		t.Errorf("inFlight changed to %v", inFlight)
	}
	// What it decided is in the store: the runs, their owner, the next
	// run times.
	err := st.View(context.Background(), func(tx store.Tx) error {
		for id, want := range map[string]store.Outcome{"due": store.Running, "late": store.Missed, "busy": store.Skipped, "ahead": store.Running} {
			r, err := tx.Run(id, 1)
			if err != nil {
				return err
			}
			if r.Outcome != want || r.Owner != "test" || !r.Submitted.Equal(t0) {
				t.Errorf("run of %s: %s by %q submitted %v; want %s by test at t0", id, r.Outcome, r.Owner, r.Submitted, want)
			}
		}
		j, err := tx.Job("due")
		if err == nil && !j.NextRun.Equal(t0.Add(time.Minute)) {
			t.Errorf("next run of due %v, want 10:01", j.NextRun)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// Paused, it decides nothing.
	err = st.Update(context.Background(), func(tx store.Tx) error {
		_, err := store.SetPaused(tx, true, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d = decide(t, st, p, t0.Add(time.Minute), 0, nil)
	if !d.paused || len(d.submit)+len(d.events) > 0 || len(d.changes) != 1 {
		t.Errorf("paused: %+v", d)
	}
	if at, _ := d.wake(t0); !at.IsZero() {
		t.Errorf("paused, wakes at %v, want only at a change", at)
	}
}

// More jobs due than one transaction takes (dueBatch): the planner says
// so, and the next one takes the rest.
func TestPlannerMore(t *testing.T) {
	st := newMemory(t)
	defer st.Close()
	var jobs []*store.Job
	for i := range dueBatch + 1 {
		j := job(fmt.Sprintf("j%04d", i), cron("* * * * *"))
		j.NextRun = t0
		jobs = append(jobs, j)
	}
	putJobs(t, st, jobs...)
	p := &planner{owner: "test"}
	d := decide(t, st, p, t0, 0, nil)
	if len(d.submit) != dueBatch || !d.more {
		t.Fatalf("%d submitted (more %v), want %d and more", len(d.submit), d.more, dueBatch)
	}
	if at, more := d.wake(t0); !at.Equal(t0) || !more {
		t.Errorf("wake at %v (more %v), want at once", at, more)
	}
	d = decide(t, st, p, t0, 0, nil)
	if len(d.submit) != 1 || d.submit[0].job.ID != jobs[dueBatch].ID || d.more {
		t.Errorf("then %d submitted (more %v), want the last job and no more", len(d.submit), d.more)
	}
}

// Start submits every job due before it returns, however many: more than
// one transaction takes. The loop is kept from looking at the store, so
// that it cannot make up for a Start that stopped at one batch.
func TestStartMoreThanABatch(t *testing.T) {
	h := newHarness(t, t0)
	jobs := make([]*store.Job, dueBatch+1)
	for i := range jobs {
		jobs[i] = job(fmt.Sprintf("j%04d", i), schedule.Spec{At: t0.Format(time.RFC3339)})
		jobs[i].NextRun = t0
	}
	putJobs(t, h.st, jobs...)
	gate := make(chan struct{})
	h.setup = func(s *Scheduler) { s.clock = gatedAlarms{h.clock, gate} }
	h.start(Config{})
	t.Cleanup(func() { close(gate) }) // before the harness's Shutdown, which waits for the loop
	submitted := 0
	h.mu.Lock()
	for _, e := range h.events {
		if e.Name == store.EventJobSubmitted {
			submitted++
		}
	}
	h.mu.Unlock()
	if submitted != len(jobs) {
		t.Errorf("%d runs submitted when Start returned, want %d", submitted, len(jobs))
	}
	h.settle()
	if n := h.started(); n != len(jobs) {
		t.Errorf("%d runs started, want %d", n, len(jobs))
	}
	h.wantHistory(jobs[dueBatch].ID, "10:00:00 success\n")
}

// gatedAlarms is a Clock whose NewAlarm waits until gate is closed: the
// loop, which makes an alarm before its first wait, is held there.
type gatedAlarms struct {
	*clocktest.Clock
	gate chan struct{}
}

func (c gatedAlarms) NewAlarm() Alarm {
	<-c.gate
	return c.Clock.NewAlarm()
}
