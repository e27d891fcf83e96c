package board

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/memory"
)

var (
	t0       = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	cronSpec = schedule.Spec{Cron: "* * * * *", Timezone: "UTC"}
)

// countingStore counts the reads of each job's runs, and fails its Views
// while fail is set.
type countingStore struct {
	store.Store
	mu    sync.Mutex
	reads map[string]int // Runs(id, n) calls by id
	views int
	fail  error
}

func (s *countingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	s.mu.Lock()
	fail := s.fail
	s.views++
	s.mu.Unlock()
	if fail != nil {
		return fail
	}
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(countingTx{tx, s}) })
}

// reset returns the reads counted so far and starts counting again.
func (s *countingStore) reset() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reads
	s.reads = map[string]int{}
	return r
}

type countingTx struct {
	store.Tx
	s *countingStore
}

func (tx countingTx) Runs(id string, n int) ([]*store.Run, error) {
	if id != "" {
		tx.s.mu.Lock()
		tx.s.reads[id]++
		tx.s.mu.Unlock()
	}
	return tx.Tx.Runs(id, n)
}

type fixture struct {
	t  *testing.T
	st *countingStore
	b  *Board
}

func newFixture(t *testing.T, runs int, ids ...string) *fixture {
	t.Helper()
	mem, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	f := &fixture{t: t, st: &countingStore{Store: mem, reads: map[string]int{}}}
	f.b = New(Config{Store: f.st, Now: func() time.Time { return t0 }, Runs: runs})
	f.update(func(tx store.Tx) error {
		for _, id := range ids {
			j, err := store.NewJob(id, "echo "+id, schedule.Spec{Cron: "* * * * *", Timezone: "UTC"}, store.DefaultOptions(), t0)
			if err != nil {
				return err
			}
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	})
	return f
}

func (f *fixture) update(fn func(store.Tx) error) {
	f.t.Helper()
	if err := f.st.Update(f.t.Context(), fn); err != nil {
		f.t.Fatal(err)
	}
}

// addRun records a run of job id at fire time t0+minute, with outcome o.
func (f *fixture) addRun(id string, minute int, o store.Outcome) *store.Run {
	f.t.Helper()
	at := t0.Add(time.Duration(minute) * time.Minute)
	r := &store.Run{JobID: id, FireTime: at, Submitted: at, Outcome: o, Output: "output of " + id}
	if o != store.Missed && o != store.Skipped {
		r.Started = at
	}
	if o != store.Running {
		r.Ended = at.Add(time.Second)
	}
	f.update(func(tx store.Tx) error { return tx.AddRun(r) })
	return r
}

// refresh refreshes the board once, as Run does, and returns the jobs
// whose runs it read.
func (f *fixture) refresh() map[string]int {
	f.t.Helper()
	f.st.reset()
	f.b.refreshOnce(f.t.Context())
	if err := f.b.Err(); err != nil {
		f.t.Fatal(err)
	}
	return f.st.reset()
}

func (f *fixture) history(id string) string {
	f.t.Helper()
	j := f.b.Snapshot().Job(id)
	if j == nil {
		f.t.Fatalf("job %s not in the snapshot", id)
	}
	s := ""
	for _, r := range j.Runs {
		if r.Output != "" {
			f.t.Errorf("run %s/%d: output %q kept", id, r.Seq, r.Output)
		}
		s += fmt.Sprintf("%d:%s ", r.Seq, r.Outcome)
	}
	return s
}

func wantReads(t *testing.T, got map[string]int, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("runs read of %v, want of %v", got, want)
	}
	for _, id := range want {
		if got[id] != 1 {
			t.Fatalf("runs read of %v, want once of each of %v", got, want)
		}
	}
}

func TestFirstSnapshot(t *testing.T) {
	f := newFixture(t, 0, "b", "a")
	if f.b.Snapshot() != nil {
		t.Fatal("a snapshot before the first refresh")
	}
	f.addRun("a", 0, store.Success)
	f.addRun("a", 1, store.Failed)
	f.update(func(tx store.Tx) error { _, err := store.SetPaused(tx, true, t0); return err })
	wantReads(t, f.refresh(), "a", "b")
	s := f.b.Snapshot()
	if s.Seq != 1 || !s.Taken.Equal(t0) || !s.Paused || s.Members != nil {
		t.Errorf("snapshot seq %d, taken %v, paused %v, members %v; want 1, %v, true, nil", s.Seq, s.Taken, s.Paused, s.Members, t0)
	}
	if len(s.Jobs) != 2 || s.Jobs[0].ID != "a" || s.Jobs[1].ID != "b" {
		t.Fatalf("jobs %v, want a, b", s.Jobs)
	}
	if got := f.history("a"); got != "2:failed 1:success " {
		t.Errorf("runs of a: %s, want 2:failed 1:success", got)
	}
}

func TestRefreshReadsOnlyChangedJobs(t *testing.T) {
	f := newFixture(t, 3, "a", "b", "c")
	for i := range 5 {
		f.addRun("a", i, store.Success)
	}
	f.refresh()
	aRuns := f.b.Snapshot().Job("a").Runs

	wantReads(t, f.refresh()) // nothing happened
	if f.b.Snapshot().Seq != 2 || &f.b.Snapshot().Job("a").Runs[0] != &aRuns[0] {
		t.Error("an unchanged job's runs not shared with the last snapshot")
	}

	f.addRun("b", 10, store.Missed)
	wantReads(t, f.refresh(), "b")
	if got := f.history("b"); got != "1:missed " {
		t.Errorf("runs of b: %s", got)
	}
	if got := f.history("a"); got != "5:success 4:success 3:success " {
		t.Errorf("runs of a: %s, want its newest 3", got)
	}

	r := f.addRun("c", 11, store.Running)
	wantReads(t, f.refresh(), "c")
	r.Started = r.Started.Add(time.Second) // the process started after a wait for a worker
	f.update(func(tx store.Tx) error { return tx.PutRun(r) })
	wantReads(t, f.refresh(), "c")
	r.Outcome, r.Ended = store.Success, r.Started.Add(time.Second)
	f.update(func(tx store.Tx) error { return tx.PutRun(r) })
	wantReads(t, f.refresh(), "c")
	if got := f.history("c"); got != "1:success " {
		t.Errorf("runs of c: %s", got)
	}

	f.update(func(tx store.Tx) error {
		return tx.RecordChange(store.Change{Time: t0, Kind: store.JobModified, JobID: "a"})
	})
	wantReads(t, f.refresh(), "a")

	f.b.Poke("b")
	wantReads(t, f.refresh(), "b")
}

func TestRefreshAfterManyRuns(t *testing.T) {
	f := newFixture(t, 2, "a", "b", "c")
	f.refresh()
	// More new runs than a refresh reads of all jobs' newest (2 per job
	// kept + 2 per job: 8): it cannot tell which jobs the older ones belong
	// to, so it re-reads every job.
	f.addRun("c", 0, store.Missed)
	for i := range 8 {
		f.addRun("a", 1+i, store.Missed)
	}
	wantReads(t, f.refresh(), "a", "b", "c")
	if got := f.history("c"); got != "1:missed " {
		t.Errorf("runs of c: %s", got)
	}
}

func TestJobsComeAndGo(t *testing.T) {
	f := newFixture(t, 0, "a")
	f.refresh()
	f.update(func(tx store.Tx) error {
		j, err := store.NewJob("new", "true", schedule.Spec{Cron: "* * * * *", Timezone: "UTC"}, store.DefaultOptions(), t0)
		if err != nil {
			return err
		}
		if err := tx.PutJob(j); err != nil {
			return err
		}
		return tx.DeleteJob("a")
	})
	wantReads(t, f.refresh(), "new")
	if s := f.b.Snapshot(); len(s.Jobs) != 1 || s.Jobs[0].ID != "new" {
		t.Errorf("jobs %v, want new only", s.Jobs)
	}
}

func TestFailedRefreshKeepsTheLastSnapshot(t *testing.T) {
	f := newFixture(t, 0, "a")
	f.refresh()
	first := f.b.Snapshot()
	updated := f.b.Updated()
	f.st.fail = errors.New("disk on fire")
	f.b.Poke("a")
	f.b.refreshOnce(t.Context())
	if err := f.b.Err(); err == nil || err.Error() != "disk on fire" {
		t.Errorf("Err %v, want disk on fire", err)
	}
	if f.b.Snapshot() != first {
		t.Error("a failed refresh replaced the snapshot")
	}
	select {
	case <-updated:
	default:
		t.Error("Updated not closed by a failed refresh")
	}
	f.st.fail = nil
	f.addRun("a", 0, store.Success) // the journal says nothing, but a was poked: still to read
	wantReads(t, f.refresh(), "a")
	if f.b.Err() != nil || f.b.Snapshot().Seq != 2 {
		t.Errorf("after recovery: err %v, seq %d; want nil, 2", f.b.Err(), f.b.Snapshot().Seq)
	}
}

// TestRun runs a Board as jobctl run does: a commit and a Poke each bring
// a refresh.
func TestRun(t *testing.T) {
	f := newFixture(t, 0, "a")
	f.b.cfg.Interval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	updated := f.b.Updated()
	go func() { done <- f.b.Run(ctx) }()
	waitUpdate(t, updated)
	if f.b.Snapshot() == nil {
		t.Fatal("no snapshot after the first refresh")
	}

	updated = f.b.Updated()
	f.addRun("a", 0, store.Success) // a commit: the store's Watch signals
	waitUpdate(t, updated)
	for f.b.Snapshot().Job("a").Runs == nil {
		waitUpdate(t, f.b.Updated()) // the refresh may have come before the commit's signal
	}

	seq := f.b.Snapshot().Seq
	updated = f.b.Updated()
	f.b.Poke("")
	waitUpdate(t, updated)
	if got := f.b.Snapshot().Seq; got <= seq {
		t.Errorf("seq %d after a Poke, want more than %d", got, seq)
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return when its context was cancelled")
	}
}

func waitUpdate(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no refresh within 5s")
	}
}

// TestFirstRefreshInBatches: a store's histories are read a hundred jobs a
// transaction, none of them long.
func TestFirstRefreshInBatches(t *testing.T) {
	var ids []string
	for i := range 250 {
		ids = append(ids, fmt.Sprintf("j%03d", i))
	}
	f := newFixture(t, 0, ids...)
	f.st.views = 0
	if reads := f.refresh(); len(reads) != 250 {
		t.Fatalf("runs of %d jobs read, want 250", len(reads))
	}
	if f.st.views != 4 {
		t.Errorf("%d read transactions, want 4: one for the jobs, three for their runs", f.st.views)
	}
	if n := len(f.b.Snapshot().Jobs); n != 250 {
		t.Errorf("%d jobs in the snapshot, want 250", n)
	}
}
