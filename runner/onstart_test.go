package runner

import (
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// restart shuts the harness's scheduler down, moves the clock by down and
// starts another on the same store.
func (h *harness) restart(down time.Duration) {
	h.t.Helper()
	h.settle()
	if err := h.s.Shutdown(h.t.Context()); err != nil {
		h.t.Fatal(err)
	}
	h.clock.Advance(down)
	h.start(Config{})
}

func TestOnStartFiresAtEachStart(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("boot", schedule.Spec{OnStart: "0s"}))
	h.put(job("later", schedule.Spec{OnStart: "30s"}))
	paused := job("paused", schedule.Spec{OnStart: "0s"})
	paused.State = store.Paused
	h.put(paused)
	h.start(Config{})
	h.wantHistory("boot", "10:00:00 success\n")
	h.wantHistory("later", "")
	h.advance(30 * time.Second)
	h.wantHistory("later", "10:00:30 success\n")
	// Between starts: active, with no next run, and nothing fires.
	for _, id := range []string{"boot", "later"} {
		if j := h.getJob(id); j.State != store.Active || !j.NextRun.IsZero() {
			t.Errorf("%s after its run: %s, next run %v; want active with none", id, j.State, j.NextRun)
		}
	}
	h.advance(24 * time.Hour)
	h.wantHistory("boot", "10:00:00 success\n")

	// Each start fires them once more; a paused job never.
	h.restart(time.Hour)
	h.advance(30 * time.Second)
	h.wantHistory("boot", "10:00:00 success\n11:00:30 success\n")
	h.wantHistory("later", "10:00:30 success\n11:01:00 success\n")
	h.wantHistory("paused", "")
	if j := h.getJob("paused"); j.State != store.Paused || !j.NextRun.IsZero() {
		t.Errorf("paused job: %s, next run %v", j.State, j.NextRun)
	}
}

// A scheduler that stops before a job's delay has passed fires nothing for
// that start: the next start fires it, once, and nothing is made up.
func TestOnStartStoppedBeforeDelay(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("later", schedule.Spec{OnStart: "5m"}))
	h.start(Config{})
	if got := h.getJob("later").NextRun; !got.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("next run %v, want %v", got, t0.Add(5*time.Minute))
	}
	h.advance(time.Minute)
	h.restart(time.Hour)
	if got, want := h.getJob("later").NextRun, t0.Add(time.Hour+6*time.Minute); !got.Equal(want) {
		t.Errorf("next run after the restart %v, want %v", got, want)
	}
	h.advance(5 * time.Minute)
	h.wantHistory("later", "11:06:00 success\n")
}

// The fire time of a start is a fire time like any: a scheduler started
// paused and resumed beyond the misfire grace records it missed.
func TestOnStartPausedScheduler(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("boot", schedule.Spec{OnStart: "0s"}))
	h.start(Config{StartPaused: true})
	h.advance(2 * time.Minute)
	h.wantHistory("boot", "")
	if err := h.st.Update(t.Context(), func(tx store.Tx) error {
		_, err := store.SetPaused(tx, false, h.clock.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	h.sync()
	h.wantHistory("boot", "10:00:00 missed\n")
	if j := h.getJob("boot"); j.State != store.Active || !j.NextRun.IsZero() {
		t.Errorf("after the miss: %s, next run %v; want active with none", j.State, j.NextRun)
	}
}

// run-now runs an on-start job between starts, and leaves it waiting for
// the next start.
func TestOnStartRunNow(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("boot", schedule.Spec{OnStart: "0s"}))
	h.start(Config{})
	h.advance(time.Hour)
	if err := h.st.Update(t.Context(), func(tx store.Tx) error {
		j, err := tx.Job("boot")
		if err != nil {
			return err
		}
		if err := j.RunNow(h.clock.Now()); err != nil {
			return err
		}
		return tx.PutJob(j)
	}); err != nil {
		t.Fatal(err)
	}
	h.sync()
	h.wantHistory("boot", "10:00:00 success\n11:00:00 success\n")
	if j := h.getJob("boot"); j.State != store.Active || !j.NextRun.IsZero() || !j.Requested.IsZero() {
		t.Errorf("after run-now: %s, next run %v, requested %v; want active, waiting for a start", j.State, j.NextRun, j.Requested)
	}
}
