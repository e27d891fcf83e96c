package runner

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// A run whose job is removed while it runs is not recorded: not for the
// removed job, nor over the run of a job added again under its id; and no
// event is emitted for it.
func TestWriterDropsRunsOfRemovedJobs(t *testing.T) {
	h := newHarness(t, t0)
	for _, id := range []string{"gone", "again"} {
		h.put(job(id, schedule.Spec{At: t0.Format(time.RFC3339)}))
		h.hold(id)
	}
	h.start(Config{})
	h.waitFor("both runs to start", func() bool { return h.started() == 2 })
	// Meanwhile, jobctl remove gone; and again is removed, added again,
	// and has a run 1 of its own.
	theirs := &store.Run{JobID: "again", FireTime: t0, Submitted: t0.Add(-time.Hour), Outcome: store.Success, Owner: "other"}
	err := h.st.Update(t.Context(), func(tx store.Tx) error {
		for _, id := range []string{"gone", "again"} {
			if err := tx.DeleteJob(id); err != nil {
				return err
			}
		}
		j := job("again", schedule.Spec{At: t0.Add(time.Hour).Format(time.RFC3339)})
		j.State, j.NextRun = store.Active, t0.Add(time.Hour)
		if err := tx.PutJob(j); err != nil {
			return err
		}
		return tx.AddRun(theirs)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.release("gone")
	h.release("again")
	// Shutdown returns once the writer has handled every run.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := h.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := h.eventNames(), []string{store.EventSchedulerStarted, store.EventSchedulerShutdown}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q: none for the runs not recorded", got, want)
	}
	err = h.st.View(t.Context(), func(tx store.Tx) error {
		if runs, err := tx.Runs("gone", 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("removed job: runs %v, %v; want no such job", runs, err)
		}
		runs, err := tx.Runs("again", 0)
		if err != nil {
			return err
		}
		if len(runs) != 1 || runs[0].Owner != "other" || runs[0].Outcome != store.Success || !runs[0].Submitted.Equal(theirs.Submitted) {
			t.Errorf("the job added again has runs %+v, want only its own", runs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
