package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
)

// testStore is the conformance suite: every behaviour of the Store contract,
// run against each implementation so that they cannot drift apart.
func testStore(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"JobRoundTripCopies", testJobRoundTrip},
		{"NotFound", testNotFound},
		{"PutJobValidates", testPutJobValidates},
		{"JobsInIDOrder", testJobsInIDOrder},
		{"IndexFollowsChanges", testIndexFollowsChanges},
		{"DueOrderAndLimit", testDueOrderAndLimit},
		{"FarTimes", testFarTimes},
		{"HistoryRetention", testHistoryRetention},
		{"HistoryKeepsRunning", testHistoryKeepsRunning},
		{"RunsOfAllJobs", testRunsOfAllJobs},
		{"PutRunAndRunning", testPutRunAndRunning},
		{"DeleteJobRemovesHistory", testDeleteJobRemovesHistory},
		{"RollbackOnError", testRollbackOnError},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"ReadOnlyView", testReadOnlyView},
		{"BrokenJobs", testBrokenJobs},
		{"Journal", testJournal},
		{"Settings", testSettings},
		{"Claim", testClaim},
		{"WatchClosesOnCancel", testWatchClosesOnCancel},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

func TestMemory(t *testing.T) {
	testStore(t, func(*testing.T) Store { return NewMemory() })
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// job returns an active job firing every minute, next at t0+next.
func job(id string, next time.Duration) *Job {
	return &Job{
		ID:      id,
		Command: "echo " + id,
		Trigger: schedule.Spec{Every: "1m"},
		Anchor:  t0,
		Options: Options{MisfireGrace: schedule.Grace(time.Minute), Coalesce: true, MaxInstances: 1, Executor: "default"},
		State:   Active,
		NextRun: t0.Add(next),
		Created: t0,
		Updated: t0,
	}
}

func put(t testing.TB, s Store, jobs ...*Job) {
	t.Helper()
	err := s.Update(t.Context(), func(tx Tx) error {
		for _, j := range jobs {
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

func view[T any](t testing.TB, s Store, fn func(Tx) (T, error)) T {
	t.Helper()
	var v T
	if err := s.View(t.Context(), func(tx Tx) (err error) { v, err = fn(tx); return err }); err != nil {
		t.Fatal(err)
	}
	return v
}

func ids(jobs []*Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.ID)
	}
	return out
}

func dueIDs(t *testing.T, s Store, now time.Time, limit int) []string {
	t.Helper()
	return ids(view(t, s, func(tx Tx) ([]*Job, error) { return tx.Due(now, limit) }))
}

func nextRun(t *testing.T, s Store) (time.Time, bool) {
	t.Helper()
	var at time.Time
	var ok bool
	if err := s.View(t.Context(), func(tx Tx) (err error) { at, ok, err = tx.NextRunTime(); return err }); err != nil {
		t.Fatal(err)
	}
	return at, ok
}

func testJobRoundTrip(t *testing.T, s Store) {
	j := job("a", time.Minute)
	j.Name = "backup"
	j.Options.Env = []string{"A=1"}
	j.Trigger = schedule.Spec{Fields: &schedule.Fields{Hour: "2", Minute: "30"}, Timezone: "Europe/Berlin"}
	put(t, s, j)
	j.Options.Env[0] = "A=changed after put"
	j.Trigger.Fields.Hour = "3"

	got := view(t, s, func(tx Tx) (*Job, error) { return tx.Job("a") })
	if got.Name != "backup" || got.Options.Env[0] != "A=1" || got.Trigger.Fields.Hour != "2" ||
		!got.NextRun.Equal(t0.Add(time.Minute)) || got.Broken != "" || got.Options.MisfireGrace != schedule.Grace(time.Minute) {
		t.Fatalf("stored job came back as %+v", got)
	}
	got.Options.Env[0] = "A=changed after get"
	again := view(t, s, func(tx Tx) (*Job, error) { return tx.Job("a") })
	if again.Options.Env[0] != "A=1" {
		t.Fatalf("changing a returned job changed the store: %q", again.Options.Env[0])
	}
}

func testNotFound(t *testing.T, s Store) {
	err := s.View(t.Context(), func(tx Tx) error { _, err := tx.Job("nope"); return err })
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Job of a missing id: %v", err)
	}
	err = s.Update(t.Context(), func(tx Tx) error { return tx.DeleteJob("nope") })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteJob of a missing id: %v", err)
	}
	err = s.Update(t.Context(), func(tx Tx) error { return tx.AddRun(&Run{JobID: "nope", Outcome: Success}) })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("AddRun of a missing job: %v", err)
	}
	err = s.View(t.Context(), func(tx Tx) error { _, err := tx.Runs("nope", 5); return err })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Runs of a missing job: %v", err)
	}
	err = s.View(t.Context(), func(tx Tx) error { _, err := tx.Run("nope", 1); return err })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Run of a missing job: %v", err)
	}
	err = s.Update(t.Context(), func(tx Tx) error { return tx.PutRun(&Run{JobID: "nope", Seq: 1, Outcome: Success}) })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("PutRun of a missing run: %v", err)
	}
}

func testPutJobValidates(t *testing.T, s Store) {
	for _, tt := range []struct {
		mutate func(*Job)
		want   string
	}{
		{func(j *Job) { j.ID = "" }, "no id"},
		{func(j *Job) { j.State = "sleeping" }, `unknown state "sleeping"`},
		{func(j *Job) { j.Trigger = schedule.Spec{Cron: "61 * * * *"} }, "61"},
		{func(j *Job) { j.Broken = "cannot decode" }, "broken"},
	} {
		j := job("v", 0)
		tt.mutate(j)
		err := s.Update(t.Context(), func(tx Tx) error { return tx.PutJob(j) })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("PutJob(%+v) = %v, want an error with %q", j, err, tt.want)
		}
	}
	if got := view(t, s, func(tx Tx) ([]*Job, error) { return allJobs(tx) }); len(got) != 0 {
		t.Errorf("rejected jobs were stored: %v", ids(got))
	}
}

func allJobs(tx Tx) ([]*Job, error) {
	var out []*Job
	err := tx.Jobs(func(j *Job) error { out = append(out, j); return nil })
	return out, err
}

func testJobsInIDOrder(t *testing.T, s Store) {
	put(t, s, job("b", 0), job("c", 0), job("a", 0))
	if got := ids(view(t, s, allJobs)); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Jobs = %v", got)
	}
	stop := errors.New("stop")
	var seen int
	err := s.View(t.Context(), func(tx Tx) error { return tx.Jobs(func(*Job) error { seen++; return stop }) })
	if err != stop || seen != 1 {
		t.Errorf("Jobs after fn failed: err %v, %d calls", err, seen)
	}
}

func testIndexFollowsChanges(t *testing.T, s Store) {
	a, b, c := job("a", 3*time.Minute), job("b", time.Minute), job("c", 2*time.Minute)
	paused, finished := job("p", 0), job("f", 0)
	paused.State = Paused
	finished.State, finished.NextRun = Finished, time.Time{}
	put(t, s, a, b, c, paused, finished)
	far := t0.Add(time.Hour)
	if got := dueIDs(t, s, far, 0); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Fatalf("Due = %v, want b c a", got)
	}
	if at, ok := nextRun(t, s); !ok || !at.Equal(t0.Add(time.Minute)) {
		t.Fatalf("NextRunTime = %v %v", at, ok)
	}

	// Modify b to run last: its old key must go.
	b.NextRun = t0.Add(5 * time.Minute)
	put(t, s, b)
	if got := dueIDs(t, s, far, 0); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Fatalf("after moving b: Due = %v, want c a b", got)
	}
	// Pause c, resume p, finish a.
	c.State = Paused
	paused.State, paused.NextRun = Active, t0.Add(4*time.Minute)
	a.State, a.NextRun = Finished, time.Time{}
	put(t, s, c, paused, a)
	if got := dueIDs(t, s, far, 0); !slices.Equal(got, []string{"p", "b"}) {
		t.Fatalf("after pause/resume/finish: Due = %v, want p b", got)
	}
	// Remove p.
	if err := s.Update(t.Context(), func(tx Tx) error { return tx.DeleteJob("p") }); err != nil {
		t.Fatal(err)
	}
	if got := dueIDs(t, s, far, 0); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("after removing p: Due = %v, want b", got)
	}
	if at, ok := nextRun(t, s); !ok || !at.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("NextRunTime = %v %v, want b's", at, ok)
	}
	b.State = Paused
	put(t, s, b)
	if at, ok := nextRun(t, s); ok {
		t.Fatalf("NextRunTime with no active job = %v", at)
	}
}

func testDueOrderAndLimit(t *testing.T, s Store) {
	// Ties in time are ordered by id; the bound is inclusive.
	put(t, s, job("z", 0), job("y", 0), job("x", time.Second), job("later", time.Hour), job("w", -time.Hour))
	if got := dueIDs(t, s, t0, 0); !slices.Equal(got, []string{"w", "y", "z"}) {
		t.Errorf("Due(t0) = %v, want w y z", got)
	}
	if got := dueIDs(t, s, t0, 2); !slices.Equal(got, []string{"w", "y"}) {
		t.Errorf("Due(t0, 2) = %v, want w y", got)
	}
	if got := dueIDs(t, s, t0.Add(-time.Hour-time.Nanosecond), 0); len(got) != 0 {
		t.Errorf("Due before everything = %v", got)
	}
	if got := dueIDs(t, s, t0.Add(time.Second), 0); !slices.Equal(got, []string{"w", "y", "z", "x"}) {
		t.Errorf("Due(t0+1s) = %v", got)
	}
}

func testFarTimes(t *testing.T, s Store) {
	// Times outside UnixNano's range still order correctly.
	old, future := job("old", 0), job("future", 0)
	old.NextRun = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
	future.NextRun = time.Date(2999, 1, 1, 0, 0, 0, 7, time.UTC)
	put(t, s, future, old, job("now", 0))
	if got := dueIDs(t, s, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0); !slices.Equal(got, []string{"old", "now", "future"}) {
		t.Errorf("Due = %v", got)
	}
	if at, _ := nextRun(t, s); !at.Equal(old.NextRun) {
		t.Errorf("NextRunTime = %v, want %v", at, old.NextRun)
	}
	got := view(t, s, func(tx Tx) ([]*Job, error) { return tx.Due(future.NextRun, 0) })
	if len(got) != 3 || !got[2].NextRun.Equal(future.NextRun) {
		t.Errorf("Due at the far time exactly = %v", ids(got))
	}
}

func addRuns(t testing.TB, s Store, runs ...*Run) {
	t.Helper()
	err := s.Update(t.Context(), func(tx Tx) error {
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

func runOf(id string, i int, o Outcome) *Run {
	at := t0.Add(time.Duration(i) * time.Minute)
	return &Run{JobID: id, FireTime: at, Submitted: at, Outcome: o}
}

func seqs(runs []*Run) []uint64 {
	var out []uint64
	for _, r := range runs {
		out = append(out, r.Seq)
	}
	return out
}

func testHistoryRetention(t *testing.T, s Store) {
	put(t, s, job("a", 0))
	if err := s.Update(t.Context(), func(tx Tx) error { return tx.PutSettings(Settings{HistoryLimit: 3}) }); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		r := runOf("a", i, Success)
		addRuns(t, s, r)
		if r.Seq != uint64(i+1) {
			t.Fatalf("run %d got seq %d", i, r.Seq)
		}
	}
	got := view(t, s, func(tx Tx) ([]*Run, error) { return tx.Runs("a", 0) })
	if !slices.Equal(seqs(got), []uint64{5, 4, 3}) {
		t.Fatalf("kept runs %v, want 5 4 3", seqs(got))
	}
	if got[0].JobID != "a" || !got[0].FireTime.Equal(t0.Add(4*time.Minute)) || got[0].Outcome != Success {
		t.Errorf("newest run = %+v", got[0])
	}
	if got := view(t, s, func(tx Tx) ([]*Run, error) { return tx.Runs("a", 2) }); !slices.Equal(seqs(got), []uint64{5, 4}) {
		t.Errorf("Runs(a, 2) = %v", seqs(got))
	}
	// Runs recorded running and finished later count as they finish: the
	// limit holds between runs, not just after AddRun.
	for i := range 3 {
		r := runOf("a", 10+i, Running)
		addRuns(t, s, r)
		r.Outcome = Success
		if err := s.Update(t.Context(), func(tx Tx) error { return tx.PutRun(r) }); err != nil {
			t.Fatal(err)
		}
		if got := view(t, s, func(tx Tx) ([]*Run, error) { return tx.Runs("a", 0) }); len(got) != 3 {
			t.Fatalf("kept %d runs after run %d ended, want 3", len(got), r.Seq)
		}
	}
	// The default limit applies when the setting is 0.
	if err := s.Update(t.Context(), func(tx Tx) error { return tx.PutSettings(Settings{}) }); err != nil {
		t.Fatal(err)
	}
	var more []*Run
	for i := range DefaultHistoryLimit + 5 {
		more = append(more, runOf("a", 5+i, Failed))
	}
	addRuns(t, s, more...)
	if got := view(t, s, func(tx Tx) ([]*Run, error) { return tx.Runs("a", 0) }); len(got) != DefaultHistoryLimit {
		t.Errorf("kept %d runs with the default limit, want %d", len(got), DefaultHistoryLimit)
	}
}

func testHistoryKeepsRunning(t *testing.T, s Store) {
	put(t, s, job("a", 0))
	if err := s.Update(t.Context(), func(tx Tx) error { return tx.PutSettings(Settings{HistoryLimit: 2}) }); err != nil {
		t.Fatal(err)
	}
	addRuns(t, s, runOf("a", 0, Running), runOf("a", 1, Success), runOf("a", 2, Running),
		runOf("a", 3, Missed), runOf("a", 4, Skipped))
	got := view(t, s, func(tx Tx) ([]*Run, error) { return tx.Runs("a", 0) })
	if !slices.Equal(seqs(got), []uint64{5, 4, 3, 1}) {
		t.Fatalf("kept runs %v, want 5 4 3 1 (two finished, and the running)", seqs(got))
	}
	// Once run 1 ends it is an old finished run like any other.
	addRuns(t, s, runOf("a", 5, Success))
	r := runOf("a", 0, Success)
	r.Seq = 1
	err := s.Update(t.Context(), func(tx Tx) error {
		if err := tx.PutRun(r); err != nil {
			return err
		}
		return tx.AddRun(runOf("a", 6, Success))
	})
	if err != nil {
		t.Fatal(err)
	}
	got = view(t, s, func(tx Tx) ([]*Run, error) { return tx.Runs("a", 0) })
	if !slices.Equal(seqs(got), []uint64{7, 6, 3}) {
		t.Fatalf("kept runs %v, want 7 6 3", seqs(got))
	}
}

func testRunsOfAllJobs(t *testing.T, s Store) {
	put(t, s, job("a", 0), job("b", 0), job("c", 0))
	addRuns(t, s, runOf("a", 1, Success), runOf("b", 2, Success), runOf("a", 3, Failed),
		runOf("c", 0, Missed), runOf("b", 4, Success))
	type ref struct {
		id  string
		seq uint64
	}
	refs := func(runs []*Run) []ref {
		var out []ref
		for _, r := range runs {
			out = append(out, ref{r.JobID, r.Seq})
		}
		return out
	}
	got := refs(view(t, s, func(tx Tx) ([]*Run, error) { return tx.Runs("", 0) }))
	want := []ref{{"b", 2}, {"a", 2}, {"b", 1}, {"a", 1}, {"c", 1}}
	if !slices.Equal(got, want) {
		t.Errorf("Runs(\"\", 0) = %v, want %v", got, want)
	}
	got = refs(view(t, s, func(tx Tx) ([]*Run, error) { return tx.Runs("", 3) }))
	if !slices.Equal(got, want[:3]) {
		t.Errorf("Runs(\"\", 3) = %v, want %v", got, want[:3])
	}
}

func testPutRunAndRunning(t *testing.T, s Store) {
	put(t, s, job("a", 0), job("b", 0))
	ra, rb, done := runOf("a", 0, Running), runOf("b", 0, Running), runOf("a", 1, Success)
	addRuns(t, s, ra, rb, done)
	running := func() []string {
		var out []string
		for _, r := range view(t, s, func(tx Tx) ([]*Run, error) { return tx.RunningRuns() }) {
			out = append(out, fmt.Sprintf("%s/%d", r.JobID, r.Seq))
		}
		slices.Sort(out)
		return out
	}
	if got := running(); !slices.Equal(got, []string{"a/1", "b/1"}) {
		t.Fatalf("RunningRuns = %v", got)
	}
	code := 3
	ra.Outcome, ra.ExitCode, ra.Ended, ra.Output = Failed, &code, t0.Add(time.Second), "boom\n"
	if err := s.Update(t.Context(), func(tx Tx) error { return tx.PutRun(ra) }); err != nil {
		t.Fatal(err)
	}
	if got := running(); !slices.Equal(got, []string{"b/1"}) {
		t.Fatalf("RunningRuns after a/1 ended = %v", got)
	}
	got := view(t, s, func(tx Tx) (*Run, error) { return tx.Run("a", 1) })
	if got.Outcome != Failed || got.ExitCode == nil || *got.ExitCode != 3 || got.Output != "boom\n" {
		t.Errorf("Run(a, 1) = %+v", got)
	}
	// Output is kept byte for byte, whether or not it is UTF-8.
	for _, out := range []string{"A\x00B\xff\xfe\xc3(Z\n", "caf\u00e9 \u2713\n", ""} {
		ra.Output = out
		if err := s.Update(t.Context(), func(tx Tx) error { return tx.PutRun(ra) }); err != nil {
			t.Fatal(err)
		}
		if got := view(t, s, func(tx Tx) (*Run, error) { return tx.Run("a", 1) }); got.Output != out {
			t.Errorf("output %q read back as %q", out, got.Output)
		}
	}
	err := s.Update(t.Context(), func(tx Tx) error { return tx.PutRun(&Run{JobID: "a", Seq: 9, Outcome: Success}) })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("PutRun of a run never added: %v", err)
	}
	err = s.Update(t.Context(), func(tx Tx) error { return tx.AddRun(&Run{JobID: "a", Outcome: "great"}) })
	if err == nil || !strings.Contains(err.Error(), `"great"`) {
		t.Errorf("AddRun with a bad outcome: %v", err)
	}
}

func testDeleteJobRemovesHistory(t *testing.T, s Store) {
	put(t, s, job("a", 0), job("b", 0))
	addRuns(t, s, runOf("a", 0, Running), runOf("a", 1, Success), runOf("b", 0, Running))
	if err := s.Update(t.Context(), func(tx Tx) error { return tx.DeleteJob("a") }); err != nil {
		t.Fatal(err)
	}
	err := s.View(t.Context(), func(tx Tx) error { _, err := tx.Run("a", 2); return err })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("run of a removed job: %v", err)
	}
	if got := view(t, s, func(tx Tx) ([]*Run, error) { return tx.RunningRuns() }); len(got) != 1 || got[0].JobID != "b" {
		t.Errorf("RunningRuns after removing a = %v", got)
	}
	if got := view(t, s, func(tx Tx) ([]*Run, error) { return tx.Runs("", 0) }); len(got) != 1 {
		t.Errorf("Runs of all after removing a = %d runs", len(got))
	}
	if got := dueIDs(t, s, t0, 0); !slices.Equal(got, []string{"b"}) {
		t.Errorf("Due after removing a = %v", got)
	}
	// A job added again under the same id starts a new history.
	put(t, s, job("a", 0))
	r := runOf("a", 0, Success)
	addRuns(t, s, r)
	if got := view(t, s, func(tx Tx) ([]*Run, error) { return tx.Runs("a", 0) }); len(got) != 1 {
		t.Errorf("history of the new a = %d runs", len(got))
	}
}

func testRollbackOnError(t *testing.T, s Store) {
	put(t, s, job("a", time.Minute), job("b", 2*time.Minute))
	addRuns(t, s, runOf("a", 0, Success))
	fail := errors.New("changed my mind")
	err := s.Update(t.Context(), func(tx Tx) error {
		moved := job("a", time.Hour)
		if err := tx.PutJob(moved); err != nil {
			return err
		}
		if err := tx.PutJob(job("new", 0)); err != nil {
			return err
		}
		if err := tx.DeleteJob("b"); err != nil {
			return err
		}
		if err := tx.AddRun(runOf("a", 1, Running)); err != nil {
			return err
		}
		if err := tx.PutSettings(Settings{Paused: true}); err != nil {
			return err
		}
		if err := tx.RecordChange(Change{Kind: JobAdded, JobID: "new"}); err != nil {
			return err
		}
		return fail
	})
	if err != fail {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	assertUntouched(t, s)
}

func testRollbackOnPanic(t *testing.T, s Store) {
	put(t, s, job("a", time.Minute), job("b", 2*time.Minute))
	addRuns(t, s, runOf("a", 0, Success))
	func() {
		defer func() {
			if r := recover(); r != "bug" {
				t.Errorf("recovered %v, want the caller's panic", r)
			}
		}()
		s.Update(t.Context(), func(tx Tx) error {
			tx.DeleteJob("b")
			tx.AddRun(runOf("a", 1, Running))
			tx.PutJob(job("new", 0))
			panic("bug")
		})
	}()
	assertUntouched(t, s)
	// The store is usable afterwards: no lock is left held.
	put(t, s, job("c", 0))
}

// assertUntouched checks the state left by the rollback tests.
func assertUntouched(t *testing.T, s Store) {
	t.Helper()
	if got := ids(view(t, s, allJobs)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("jobs after rollback = %v", got)
	}
	if got := dueIDs(t, s, t0.Add(time.Hour), 0); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Due after rollback = %v", got)
	}
	if got := view(t, s, func(tx Tx) ([]*Run, error) { return tx.Runs("", 0) }); len(got) != 1 {
		t.Errorf("runs after rollback = %d", len(got))
	}
	if got := view(t, s, func(tx Tx) ([]*Run, error) { return tx.RunningRuns() }); len(got) != 0 {
		t.Errorf("running runs after rollback = %d", len(got))
	}
	if got := view(t, s, func(tx Tx) (Settings, error) { return tx.Settings() }); got.Paused {
		t.Errorf("settings after rollback = %+v", got)
	}
	if got := view(t, s, func(tx Tx) ([]Change, error) { return tx.ChangesSince(0) }); len(got) != 0 {
		t.Errorf("journal after rollback = %v", got)
	}
	// The sequence is rolled back too: the next run of a is seq 2.
	r := runOf("a", 1, Success)
	addRuns(t, s, r)
	if r.Seq != 2 {
		t.Errorf("next run after rollback got seq %d, want 2", r.Seq)
	}
}

func testReadOnlyView(t *testing.T, s Store) {
	put(t, s, job("a", 0))
	for name, write := range map[string]func(Tx) error{
		"PutJob":       func(tx Tx) error { return tx.PutJob(job("b", 0)) },
		"DeleteJob":    func(tx Tx) error { return tx.DeleteJob("a") },
		"AddRun":       func(tx Tx) error { return tx.AddRun(runOf("a", 0, Success)) },
		"PutRun":       func(tx Tx) error { return tx.PutRun(runOf("a", 0, Success)) },
		"RecordChange": func(tx Tx) error { return tx.RecordChange(Change{Kind: JobAdded}) },
		"PutSettings":  func(tx Tx) error { return tx.PutSettings(Settings{Paused: true}) },
	} {
		if err := s.View(t.Context(), write); err == nil {
			t.Errorf("%s in a View succeeded", name)
		}
	}
	if got := ids(view(t, s, allJobs)); !slices.Equal(got, []string{"a"}) {
		t.Errorf("jobs after writes in a View = %v", got)
	}
}

// putRaw stores bytes as a job, bypassing PutJob's checks, as an older or
// newer jobctl, or a damaged disk, might have left them.
func putRaw(t *testing.T, s Store, id, v string, indexAt time.Time) {
	t.Helper()
	err := s.Update(t.Context(), func(x Tx) error {
		tx := x.(*tx)
		tx.dirty = true
		if err := tx.bucket(bucketJobs).Put([]byte(id), []byte(v)); err != nil {
			return err
		}
		if indexAt.IsZero() {
			return nil
		}
		return tx.bucket(bucketIndex).Put(append(timeKey(indexAt), id...), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func rawJob(t *testing.T, s Store, id string) string {
	t.Helper()
	return view(t, s, func(x Tx) (string, error) { return string(x.(*tx).bucket(bucketJobs).Get([]byte(id))), nil })
}

func testBrokenJobs(t *testing.T, s Store) {
	put(t, s, job("good", time.Second))
	const garbage = `{"id": "junk", "trig`
	putRaw(t, s, "junk", garbage, t0)
	badTrigger := strings.Replace(mustJSON(t, job("cron", 0)), `"every":"1m"`, `"cron":"* * 99 * *"`, 1)
	putRaw(t, s, "cron", badTrigger, t0)

	all := view(t, s, allJobs)
	if got := ids(all); !slices.Equal(got, []string{"cron", "good", "junk"}) {
		t.Fatalf("Jobs = %v: broken jobs must be listed", got)
	}
	for _, j := range all {
		want := map[string]string{"cron": "trigger: ", "junk": "cannot decode", "good": ""}[j.ID]
		if (want == "") != (j.Broken == "") || !strings.Contains(j.Broken, want) {
			t.Errorf("job %s: Broken = %q, want %q", j.ID, j.Broken, want)
		}
	}
	if j := view(t, s, func(tx Tx) (*Job, error) { return tx.Job("cron") }); !strings.Contains(j.Broken, "99") {
		t.Errorf("Job(cron).Broken = %q, want the bad value named", j.Broken)
	}

	// A View reports broken due jobs without changing anything.
	if got := dueIDs(t, s, t0.Add(time.Hour), 0); !slices.Equal(got, []string{"cron", "junk", "good"}) {
		t.Fatalf("Due in a View = %v", got)
	}
	// An Update reports them once and drops them from the index.
	var due []*Job
	if err := s.Update(t.Context(), func(tx Tx) (err error) { due, err = tx.Due(t0.Add(time.Hour), 0); return err }); err != nil {
		t.Fatal(err)
	}
	if got := ids(due); !slices.Equal(got, []string{"cron", "junk", "good"}) || due[0].Broken == "" || due[2].Broken != "" {
		t.Fatalf("Due in an Update = %v", got)
	}
	if got := dueIDs(t, s, t0.Add(time.Hour), 0); !slices.Equal(got, []string{"good"}) {
		t.Errorf("Due after broken jobs were reported = %v", got)
	}
	if at, _ := nextRun(t, s); !at.Equal(t0.Add(time.Second)) {
		t.Errorf("NextRunTime = %v, want good's", at)
	}

	// Putting a job read as broken is refused, and the stored bytes stay.
	broken := all[2]
	err := s.Update(t.Context(), func(tx Tx) error { return tx.PutJob(broken) })
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("PutJob of a broken job: %v", err)
	}
	if got := rawJob(t, s, "junk"); got != garbage {
		t.Errorf("stored bytes of a broken job changed to %q", got)
	}
	// A good job may replace a broken one, which is how a user repairs it.
	put(t, s, job("junk", 0))
	if j := view(t, s, func(tx Tx) (*Job, error) { return tx.Job("junk") }); j.Broken != "" {
		t.Errorf("replaced job is still broken: %s", j.Broken)
	}
	if err := s.Update(t.Context(), func(tx Tx) error { return tx.DeleteJob("cron") }); err != nil {
		t.Errorf("removing a broken job: %v", err)
	}
}

func mustJSON(t *testing.T, j *Job) string {
	t.Helper()
	var s string
	st := NewMemory()
	defer st.Close()
	put(t, st, j)
	s = rawJob(t, st, j.ID)
	return s
}

func testJournal(t *testing.T, s Store) {
	err := s.Update(t.Context(), func(tx Tx) error {
		if err := tx.RecordChange(Change{Time: t0, Kind: JobAdded, JobID: "a"}); err != nil {
			return err
		}
		return tx.RecordChange(Change{Time: t0, Kind: SchedulerPaused})
	})
	if err != nil {
		t.Fatal(err)
	}
	got := view(t, s, func(tx Tx) ([]Change, error) { return tx.ChangesSince(0) })
	want := []Change{{Seq: 1, Time: t0, Kind: JobAdded, JobID: "a"}, {Seq: 2, Time: t0, Kind: SchedulerPaused}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ChangesSince(0) = %+v", got)
	}
	if got := view(t, s, func(tx Tx) ([]Change, error) { return tx.ChangesSince(1) }); len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("ChangesSince(1) = %+v", got)
	}
	if got := view(t, s, func(tx Tx) ([]Change, error) { return tx.ChangesSince(2) }); len(got) != 0 {
		t.Errorf("ChangesSince(2) = %+v", got)
	}
	err = s.Update(t.Context(), func(tx Tx) error {
		for range journalLimit + 3 {
			if err := tx.RecordChange(Change{Kind: JobModified, JobID: "a"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got = view(t, s, func(tx Tx) ([]Change, error) { return tx.ChangesSince(0) })
	if len(got) != journalLimit || got[0].Seq != 6 || got[len(got)-1].Seq != journalLimit+5 {
		t.Errorf("journal keeps %d entries, %d..%d", len(got), got[0].Seq, got[len(got)-1].Seq)
	}
}

func testSettings(t *testing.T, s Store) {
	if got := view(t, s, func(tx Tx) (Settings, error) { return tx.Settings() }); !reflect.DeepEqual(got, Settings{}) {
		t.Errorf("settings of a new store = %+v", got)
	}
	want := Settings{Paused: true, HistoryLimit: 7,
		Executors: []Executor{{Name: "heavy", MaxWorkers: 2}},
		Listeners: []Listener{{Events: []string{"job_error", "job_missed"}, Command: "notify"}}}
	if err := s.Update(t.Context(), func(tx Tx) error { return tx.PutSettings(want) }); err != nil {
		t.Fatal(err)
	}
	if got := view(t, s, func(tx Tx) (Settings, error) { return tx.Settings() }); !reflect.DeepEqual(got, want) {
		t.Errorf("Settings = %+v, want %+v", got, want)
	}
	err := s.Update(t.Context(), func(tx Tx) error { return tx.PutSettings(Settings{HistoryLimit: -1}) })
	if err == nil || !strings.Contains(err.Error(), "-1") {
		t.Errorf("negative history limit: %v", err)
	}
	err = s.Update(t.Context(), func(tx Tx) error { return tx.PutSettings(Settings{Executors: []Executor{{Name: "x"}}}) })
	if err == nil || !strings.Contains(err.Error(), `executor "x": max workers 0 is less than 1`) {
		t.Errorf("an executor of no workers: %v", err)
	}
}

// testClaim is the runner's at-most-once pattern: in one Update, read the due
// jobs, record their runs and advance them.
func testClaim(t *testing.T, s Store) {
	put(t, s, job("a", 0), job("b", 0), job("later", time.Hour))
	err := s.Update(t.Context(), func(tx Tx) error {
		due, err := tx.Due(t0, 100)
		if err != nil {
			return err
		}
		for _, j := range due {
			if err := tx.AddRun(&Run{JobID: j.ID, FireTime: j.NextRun, Submitted: t0, Outcome: Running, Owner: "me"}); err != nil {
				return err
			}
			j.NextRun = j.NextRun.Add(time.Minute)
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := dueIDs(t, s, t0, 0); len(got) != 0 {
		t.Errorf("still due after the claim: %v", got)
	}
	if got := view(t, s, func(tx Tx) ([]*Run, error) { return tx.RunningRuns() }); len(got) != 2 || got[0].Owner != "me" {
		t.Errorf("running after the claim = %v", got)
	}
	if at, _ := nextRun(t, s); !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("NextRunTime after the claim = %v", at)
	}
}

func testWatchClosesOnCancel(t *testing.T, s Store) {
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for range ch {
	}
	ch, err = s.Watch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for range ch {
	}
}

// testConcurrent runs updates and views from several goroutines: every
// update lands.
func testConcurrent(t *testing.T, s Store) { concurrentAdds(t, s) }

// concurrentAdds adds 4 jobs from each of 4 goroutines per handle, spread
// over the handles (several Store values on one file stand for several
// processes), with views in between, and checks every add landed.
func concurrentAdds(t *testing.T, handles ...Store) {
	var wg sync.WaitGroup
	n := 4 * len(handles)
	for g := range n {
		s := handles[g%len(handles)]
		wg.Go(func() {
			for i := range 4 {
				j := job(fmt.Sprintf("g%d-%d", g, i), time.Duration(i)*time.Second)
				if err := s.Update(t.Context(), func(tx Tx) error { return tx.PutJob(j) }); err != nil {
					t.Error(err)
				}
				if err := s.View(t.Context(), func(tx Tx) error { _, err := tx.Due(t0, 5); return err }); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := view(t, handles[0], allJobs); len(got) != 4*n {
		t.Errorf("%d jobs after %d concurrent adds", len(got), 4*n)
	}
}

// TestMemoryWatch: a memory store signals its commits that change something.
func TestMemoryWatch(t *testing.T) {
	s := NewMemory()
	defer s.Close()
	ch, err := s.Watch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, job("a", 0))
	put(t, s, job("b", 0))
	<-ch // two commits, one pending signal
	select {
	case <-ch:
		t.Fatal("a burst of commits left more than one signal")
	default:
	}
	if err := s.Update(t.Context(), func(tx Tx) error { _, err := tx.Due(t0, 10); return err }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatal("an update that wrote nothing signalled")
	default:
	}
}

func TestMemoryClosed(t *testing.T) {
	s := NewMemory()
	s.Close()
	if err := s.View(t.Context(), func(Tx) error { return nil }); err == nil {
		t.Error("View on a closed store succeeded")
	}
	if err := s.Update(t.Context(), func(Tx) error { return nil }); err == nil {
		t.Error("Update on a closed store succeeded")
	}
	if _, err := s.Watch(t.Context()); err == nil {
		t.Error("Watch on a closed store succeeded")
	}
}

// TestTreap checks the memory store's ordered map against a sorted slice.
func TestTreap(t *testing.T) {
	b := newMemBucket()
	kv := &memTx{b: b}
	var want []string
	for i := range 2000 {
		k := fmt.Sprintf("%04d", (i*7919)%1000)
		if i%3 == 2 {
			kv.Delete([]byte(k))
			if at, ok := slices.BinarySearch(want, k); ok {
				want = slices.Delete(want, at, at+1)
			}
			continue
		}
		kv.Put([]byte(k), []byte(k))
		if at, ok := slices.BinarySearch(want, k); !ok {
			want = slices.Insert(want, at, k)
		}
	}
	var fwd, back []string
	c := kv.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if string(v) != string(k) {
			t.Fatalf("key %s has value %s", k, v)
		}
		fwd = append(fwd, string(k))
	}
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		back = append(back, string(k))
	}
	slices.Reverse(back)
	if !slices.Equal(fwd, want) || !slices.Equal(back, want) {
		t.Fatalf("cursor walked %d keys forward, %d back; want %d", len(fwd), len(back), len(want))
	}
	for _, seek := range []string{"", "0500", "05005", "0999", "1"} {
		at, _ := slices.BinarySearch(want, seek)
		k, _ := c.Seek([]byte(seek))
		if (at == len(want)) != (k == nil) || (k != nil && string(k) != want[at]) {
			t.Errorf("Seek(%q) = %q", seek, k)
		}
	}
}
