package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

// restoredRun is run seq of job id as another store recorded it, submitted
// seq minutes after T0.
func restoredRun(id string, seq uint64, o store.Outcome) *store.Run {
	r := RunOf(id, int(seq), o)
	r.Seq = seq
	return r
}

func restore(t *testing.T, s store.Store, runs ...*store.Run) error {
	t.Helper()
	return s.Update(t.Context(), func(tx store.Tx) error {
		for _, r := range runs {
			if err := tx.RestoreRun(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// testRestoreRun: RestoreRun keeps a run's seq and every field, in any
// order; refuses a seq the job has and a job that is not there; keeps the
// history limit; places restored runs among the runs of all jobs by their
// Submitted time; and AddRun numbers after the highest seq restored, until
// the job is deleted.
func testRestoreRun(t *testing.T, s store.Store) {
	Put(t, s, Job("a", 0), Job("b", 0))
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutSettings(store.Settings{HistoryLimit: 3}) }); err != nil {
		t.Fatal(err)
	}
	code := 2
	full := &store.Run{JobID: "a", Seq: 4, FireTime: T0.Add(4 * time.Minute), Coalesced: 2, Requested: true,
		Submitted: T0.Add(4*time.Minute + time.Second), Started: T0.Add(4*time.Minute + 2*time.Second),
		Ended: T0.Add(5 * time.Minute), Outcome: store.Failed, ExitCode: &code, Signal: "SIGTERM", Reason: "exit status 2",
		Output: "A\x00\xff\n", Owner: "host:1", Attempt: 2}
	if err := restore(t, s, full, restoredRun("a", 2, store.Success), restoredRun("a", 5, store.TimedOut)); err != nil {
		t.Fatal(err)
	}
	runsOf := func(id string) []uint64 {
		return seqs(View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs(id, 0) }))
	}
	if got := runsOf("a"); !slices.Equal(got, []uint64{5, 4, 2}) {
		t.Fatalf("runs of a after restoring 4, 2 and 5: %v", got)
	}
	stored := func() *store.Run { return View(t, s, func(tx store.Tx) (*store.Run, error) { return tx.Run("a", 4) }) }
	if got := stored(); !got.Equal(full) {
		t.Errorf("restored %+v, read back %+v", full, got)
	}

	// A seq the job has is refused, and the run stays; so is a job that is
	// not there, and seq 0.
	if err := restore(t, s, restoredRun("a", 4, store.Success)); !errors.Is(err, store.ErrExists) {
		t.Errorf("restoring a/4 twice: %v, want ErrExists", err)
	}
	if got := stored(); !got.Equal(full) {
		t.Errorf("a/4 after a refused restore: %+v", got)
	}
	if err := restore(t, s, restoredRun("nope", 1, store.Success)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("restoring a run of no job: %v, want ErrNotFound", err)
	}
	if err := restore(t, s, RunOf("a", 9, store.Success)); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("restoring a run of seq 0: %v, want an error other than ErrNotFound", err)
	}

	// The limit of 3 finished runs holds: a running run is kept, a finished
	// run below the newest 3 is dropped at once.
	if err := restore(t, s, restoredRun("a", 3, store.Running), restoredRun("a", 1, store.Success)); err != nil {
		t.Fatal(err)
	}
	if got := runsOf("a"); !slices.Equal(got, []uint64{5, 4, 3, 2}) {
		t.Errorf("runs of a after restoring a running 3 and a finished 1: %v, want 5 4 3 2", got)
	}
	if got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.RunningRuns() }); len(got) != 1 || got[0].Seq != 3 {
		t.Errorf("RunningRuns = %v, want a/3", got)
	}

	// AddRun numbers after the highest seq restored, in the restoring
	// transaction too.
	added := RunOf("a", 10, store.Success)
	AddRuns(t, s, added)
	if added.Seq != 6 {
		t.Errorf("AddRun after restoring up to 5 gave seq %d, want 6", added.Seq)
	}
	if got := runsOf("a"); !slices.Equal(got, []uint64{6, 5, 4, 3}) {
		t.Errorf("runs of a after one more: %v, want 6 5 4 3", got)
	}
	addedB := RunOf("b", 20, store.Success)
	err := s.Update(t.Context(), func(tx store.Tx) error {
		r := restoredRun("b", 7, store.Success)
		r.Submitted = T0.Add(4*time.Minute + 30*time.Second)
		if err := tx.RestoreRun(r); err != nil {
			return err
		}
		return tx.AddRun(addedB)
	})
	if err != nil {
		t.Fatal(err)
	}
	if addedB.Seq != 8 {
		t.Errorf("AddRun after restoring b/7 in the same transaction gave seq %d, want 8", addedB.Seq)
	}

	// The runs of all jobs are ordered by Submitted, restored or not.
	var all []string
	for _, r := range View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("", 0) }) {
		all = append(all, fmt.Sprintf("%s/%d", r.JobID, r.Seq))
	}
	if want := []string{"b/8", "a/6", "a/5", "b/7", "a/4", "a/3"}; !slices.Equal(all, want) {
		t.Errorf("Runs(\"\", 0) = %v, want %v", all, want)
	}

	// A job deleted and added again numbers from 1.
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteJob("b") }); err != nil {
		t.Fatal(err)
	}
	Put(t, s, Job("b", 0))
	again := RunOf("b", 30, store.Success)
	AddRuns(t, s, again)
	if again.Seq != 1 {
		t.Errorf("first run of b added again got seq %d, want 1", again.Seq)
	}
}
