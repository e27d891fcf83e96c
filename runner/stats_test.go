package runner

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

func TestJobStartedEvent(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("a", cron("* * * * *")))
	h.hold("a")
	h.start(Config{})
	h.waitFor("the run to start", func() bool { return h.started() == 1 })
	h.clock.Advance(3 * time.Second)
	h.release("a")
	h.waitFor("the run's record", func() bool { return h.history("a") == "10:00:00 success\n" })
	h.settle()
	var names []string
	var started *store.Run
	h.mu.Lock()
	for _, e := range h.events {
		if e.JobID == "a" {
			names = append(names, e.Name)
		}
		if e.Name == store.EventJobStarted {
			started = e.Run
		}
	}
	h.mu.Unlock()
	if want := []string{store.EventJobSubmitted, store.EventJobStarted, store.EventJobExecuted}; !slices.Equal(names, want) {
		t.Fatalf("events of a: %q, want %q", names, want)
	}
	if started.Outcome != store.Running || !started.Started.Equal(t0) || started.Seq != 1 {
		t.Errorf("job_started's run: outcome %s, started %v, seq %d; want running, started at %v, run 1", started.Outcome, started.Started, started.Seq, t0)
	}
}

func TestStats(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("a", cron("* * * * *")))
	h.hold("a")
	s := h.start(Config{Executors: map[string]int{store.DefaultExecutor: 3}})
	h.waitFor("the run to start", func() bool { return h.started() == 1 })
	h.waitFor("its worker to be counted busy", func() bool { return s.Stats().Executors[store.DefaultExecutor].Busy == 1 })
	st := s.Stats()
	if !st.Alive || st.Paused || st.Fleet || st.Owner != "test" || st.StoreError != nil {
		t.Errorf("stats %+v: want alive, not paused, alone, owner test, no store error", st)
	}
	if got := st.Instances; len(got) != 1 || got["a"] != 1 {
		t.Errorf("instances %v, want a: 1", got)
	}
	if got := st.Executors[store.DefaultExecutor]; got != (ExecutorStats{Workers: 3, Busy: 1}) {
		t.Errorf("default executor %+v, want 3 workers, 1 busy", got)
	}
	err := h.st.Update(t.Context(), func(tx store.Tx) error {
		_, err := store.SetPaused(tx, true, h.clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h.sync()
	if !s.Stats().Paused {
		t.Error("stats: not paused after a pause the loop has seen")
	}
	h.release("a")
	h.waitFor("the instance to end", func() bool { return len(s.Stats().Instances) == 0 })
	s.health.set(loopSource, errors.New("disk full"))
	if err := s.Stats().StoreError; err == nil || err.Error() != "disk full" {
		t.Errorf("store error %v, want disk full", err)
	}
	s.health.set(loopSource, nil)
	if err := h.s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s.Stats().Alive {
		t.Error("alive after Shutdown")
	}
}
