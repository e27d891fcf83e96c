package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

func AddRuns(t testing.TB, s store.Store, runs ...*store.Run) {
	t.Helper()
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for _, r := range runs {
			if err := tx.AddRun(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func RunOf(id string, i int, o store.Outcome) *store.Run {
	at := T0.Add(time.Duration(i) * time.Minute)
	return &store.Run{JobID: id, FireTime: at, Submitted: at, Outcome: o}
}

func seqs(runs []*store.Run) []uint64 {
	var out []uint64
	for _, r := range runs {
		out = append(out, r.Seq)
	}
	return out
}

func testHistoryRetention(t *testing.T, s store.Store) {
	Put(t, s, Job("a", 0))
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutSettings(store.Settings{HistoryLimit: 3}) }); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		r := RunOf("a", i, store.Success)
		AddRuns(t, s, r)
		if r.Seq != uint64(i+1) {
			t.Fatalf("run %d got seq %d", i, r.Seq)
		}
	}
	got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("a", 0) })
	if !slices.Equal(seqs(got), []uint64{5, 4, 3}) {
		t.Fatalf("kept runs %v, want 5 4 3", seqs(got))
	}
	if got[0].JobID != "a" || !got[0].FireTime.Equal(T0.Add(4*time.Minute)) || got[0].Outcome != store.Success {
		t.Errorf("newest run = %+v", got[0])
	}
	if got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("a", 2) }); !slices.Equal(seqs(got), []uint64{5, 4}) {
		t.Errorf("Runs(a, 2) = %v", seqs(got))
	}
	// Runs recorded running and finished later count as they finish: the
	// limit holds between runs, not just after AddRun.
	for i := range 3 {
		r := RunOf("a", 10+i, store.Running)
		AddRuns(t, s, r)
		r.Outcome = store.Success
		if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutRun(r) }); err != nil {
			t.Fatal(err)
		}
		if got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("a", 0) }); len(got) != 3 {
			t.Fatalf("kept %d runs after run %d ended, want 3", len(got), r.Seq)
		}
	}
	// The default limit applies when the setting is 0.
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutSettings(store.Settings{}) }); err != nil {
		t.Fatal(err)
	}
	var more []*store.Run
	for i := range store.DefaultHistoryLimit + 5 {
		more = append(more, RunOf("a", 100+i, store.Failed))
	}
	AddRuns(t, s, more...)
	if got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("a", 0) }); len(got) != store.DefaultHistoryLimit {
		t.Errorf("kept %d runs with the default limit, want %d", len(got), store.DefaultHistoryLimit)
	}
}

func testHistoryKeepsRunning(t *testing.T, s store.Store) {
	Put(t, s, Job("a", 0))
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutSettings(store.Settings{HistoryLimit: 2}) }); err != nil {
		t.Fatal(err)
	}
	AddRuns(t, s, RunOf("a", 0, store.Running), RunOf("a", 1, store.Success), RunOf("a", 2, store.Running),
		RunOf("a", 3, store.Missed), RunOf("a", 4, store.Skipped))
	got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("a", 0) })
	if !slices.Equal(seqs(got), []uint64{5, 4, 3, 1}) {
		t.Fatalf("kept runs %v, want 5 4 3 1 (two finished, and the running)", seqs(got))
	}
	// Once run 1 ends it is an old finished run like any other.
	AddRuns(t, s, RunOf("a", 5, store.Success))
	r := RunOf("a", 0, store.Success)
	r.Seq = 1
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.PutRun(r); err != nil {
			return err
		}
		return tx.AddRun(RunOf("a", 6, store.Success))
	})
	if err != nil {
		t.Fatal(err)
	}
	got = View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("a", 0) })
	if !slices.Equal(seqs(got), []uint64{7, 6, 3}) {
		t.Fatalf("kept runs %v, want 7 6 3", seqs(got))
	}
}

func testRunsOfAllJobs(t *testing.T, s store.Store) {
	Put(t, s, Job("a", 0), Job("b", 0), Job("c", 0))
	AddRuns(t, s, RunOf("a", 1, store.Success), RunOf("b", 2, store.Success), RunOf("a", 3, store.Failed),
		RunOf("c", 0, store.Missed), RunOf("b", 4, store.Success))
	refs := func(runs []*store.Run) []store.RunKey {
		var out []store.RunKey
		for _, r := range runs {
			out = append(out, store.RunKey{JobID: r.JobID, Seq: r.Seq})
		}
		return out
	}
	key := func(id string, seq uint64) store.RunKey { return store.RunKey{JobID: id, Seq: seq} }
	// RunKeys names the runs Runs("", n) returns, in its order.
	check := func(when string, n int, want []store.RunKey) {
		t.Helper()
		if got := refs(View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("", n) })); !slices.Equal(got, want) {
			t.Errorf("%sRuns(\"\", %d) = %v, want %v", when, n, got, want)
		}
		if got := View(t, s, func(tx store.Tx) ([]store.RunKey, error) { return tx.RunKeys(n) }); !slices.Equal(got, want) {
			t.Errorf("%sRunKeys(%d) = %v, want %v", when, n, got, want)
		}
	}
	want := []store.RunKey{key("b", 2), key("a", 2), key("b", 1), key("a", 1), key("c", 1)}
	check("", 0, want)
	check("", 3, want[:3])

	// Runs submitted at one instant are ordered by job id, then seq; a run
	// rewritten keeps its place, and may not move it; a removed job's runs
	// are gone from the runs of all jobs.
	tie := T0.Add(time.Hour)
	AddRuns(t, s, &store.Run{JobID: "c", FireTime: tie, Submitted: tie, Outcome: store.Running},
		&store.Run{JobID: "a", FireTime: tie, Submitted: tie, Outcome: store.Success},
		&store.Run{JobID: "a", FireTime: tie.Add(time.Second), Submitted: tie, Outcome: store.Success})
	err := s.Update(t.Context(), func(tx store.Tx) error {
		r, err := tx.Run("c", 2)
		if err != nil {
			return err
		}
		r.Outcome = store.Success
		if err := tx.PutRun(r); err != nil {
			return err
		}
		r.Submitted = T0
		if err := tx.PutRun(r); err == nil {
			t.Error("PutRun moved a run's submitted time")
		}
		return tx.DeleteJob("b")
	})
	if err != nil {
		t.Fatal(err)
	}
	check("after ties, a rewrite and a removal: ", 0, []store.RunKey{key("c", 2), key("a", 4), key("a", 3), key("a", 2), key("a", 1), key("c", 1)})
}

func testPutRunAndRunning(t *testing.T, s store.Store) {
	Put(t, s, Job("a", 0), Job("b", 0))
	ra, rb, done := RunOf("a", 0, store.Running), RunOf("b", 0, store.Running), RunOf("a", 1, store.Success)
	AddRuns(t, s, ra, rb, done)
	running := func() []string {
		var out []string
		for _, r := range View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.RunningRuns() }) {
			out = append(out, fmt.Sprintf("%s/%d", r.JobID, r.Seq))
		}
		slices.Sort(out)
		return out
	}
	if got := running(); !slices.Equal(got, []string{"a/1", "b/1"}) {
		t.Fatalf("RunningRuns = %v", got)
	}
	code := 3
	ra.Outcome, ra.ExitCode, ra.Ended, ra.Output, ra.Attempt = store.Failed, &code, T0.Add(time.Second), "boom\n", 2
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutRun(ra) }); err != nil {
		t.Fatal(err)
	}
	if got := running(); !slices.Equal(got, []string{"b/1"}) {
		t.Fatalf("RunningRuns after a/1 ended = %v", got)
	}
	got := View(t, s, func(tx store.Tx) (*store.Run, error) { return tx.Run("a", 1) })
	if got.Outcome != store.Failed || got.ExitCode == nil || *got.ExitCode != 3 || got.Output != "boom\n" || got.Attempt != 2 {
		t.Errorf("Run(a, 1) = %+v", got)
	}
	// Output is kept byte for byte, whether or not it is UTF-8.
	for _, out := range []string{"A\x00B\xff\xfe\xc3(Z\n", "caf\u00e9 \u2713\n", ""} {
		ra.Output = out
		if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutRun(ra) }); err != nil {
			t.Fatal(err)
		}
		if got := View(t, s, func(tx store.Tx) (*store.Run, error) { return tx.Run("a", 1) }); got.Output != out {
			t.Errorf("output %q read back as %q", out, got.Output)
		}
	}
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutRun(&store.Run{JobID: "a", Seq: 9, Outcome: store.Success}) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutRun of a run never added: %v", err)
	}
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.AddRun(&store.Run{JobID: "a", Outcome: "great"}) })
	if err == nil || !strings.Contains(err.Error(), `"great"`) {
		t.Errorf("AddRun with a bad outcome: %v", err)
	}
}

func testDeleteJobRemovesHistory(t *testing.T, s store.Store) {
	Put(t, s, Job("a", 0), Job("b", 0))
	AddRuns(t, s, RunOf("a", 0, store.Running), RunOf("a", 1, store.Success), RunOf("b", 0, store.Running))
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteJob("a") }); err != nil {
		t.Fatal(err)
	}
	err := s.View(t.Context(), func(tx store.Tx) error { _, err := tx.Run("a", 2); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("run of a removed job: %v", err)
	}
	if got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.RunningRuns() }); len(got) != 1 || got[0].JobID != "b" {
		t.Errorf("RunningRuns after removing a = %v", got)
	}
	if got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("", 0) }); len(got) != 1 {
		t.Errorf("Runs of all after removing a = %d runs", len(got))
	}
	if got := DueIDs(t, s, T0, 0); !slices.Equal(got, []string{"b"}) {
		t.Errorf("Due after removing a = %v", got)
	}
	// A Job added again under the same id starts a new history.
	Put(t, s, Job("a", 0))
	r := RunOf("a", 0, store.Success)
	AddRuns(t, s, r)
	if got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("a", 0) }); len(got) != 1 {
		t.Errorf("history of the new a = %d runs", len(got))
	}
}
