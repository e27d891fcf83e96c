package board

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// countingStore counts, by job, the reads of a job's window of runs
// (Runs(id, n)) and the run records read (decoded, outputs and all) by
// Runs and Run; and fails its Views while fail is set.
type countingStore struct {
	store.Store
	mu    sync.Mutex
	reads reads
	views int
	fail  error
}

// reads are what a refresh read, by job.
type reads struct {
	whole   map[string]int // Runs(id, n) calls
	records map[string]int // run records read, by any of Runs and Run
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
func (s *countingStore) reset() reads {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reads
	s.reads = reads{whole: map[string]int{}, records: map[string]int{}}
	return r
}

func (s *countingStore) count(id string, whole bool, runs ...*store.Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if whole {
		s.reads.whole[id]++
	}
	for _, r := range runs {
		s.reads.records[r.JobID]++
	}
}

type countingTx struct {
	store.Tx
	s *countingStore
}

func (tx countingTx) Runs(id string, n int) ([]*store.Run, error) {
	runs, err := tx.Tx.Runs(id, n)
	tx.s.count(id, id != "", runs...)
	return runs, err
}

func (tx countingTx) Run(id string, seq uint64) (*store.Run, error) {
	r, err := tx.Tx.Run(id, seq)
	if err == nil {
		tx.s.count(id, false, r)
	}
	return r, err
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
	f := &fixture{t: t, st: &countingStore{Store: mem}}
	f.st.reset()
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

// refresh refreshes the board once, as Run does, and returns what it read.
func (f *fixture) refresh() reads {
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

// wantReads checks that a refresh read the whole window of runs of the
// jobs whole, once each, and no other, and that many run records of each
// job (records: "a:2 b:1"; "" none).
func wantReads(t *testing.T, got reads, records string, whole ...string) {
	t.Helper()
	if len(got.whole) != len(whole) {
		t.Fatalf("whole windows read of %v, want of %v", got.whole, whole)
	}
	for _, id := range whole {
		if got.whole[id] != 1 {
			t.Fatalf("whole windows read of %v, want once of each of %v", got.whole, whole)
		}
	}
	var ids []string
	for id := range got.records {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var have []string
	for _, id := range ids {
		have = append(have, fmt.Sprintf("%s:%d", id, got.records[id]))
	}
	if h := strings.Join(have, " "); h != records {
		t.Fatalf("run records read %q, want %q", h, records)
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
	wantReads(t, f.refresh(), "a:2", "a", "b")
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

	wantReads(t, f.refresh(), "") // nothing happened
	if f.b.Snapshot().Seq != 2 || &f.b.Snapshot().Job("a").Runs[0] != &aRuns[0] {
		t.Error("an unchanged job's runs not shared with the last snapshot")
	}

	// A new run of b: that run is read, not b's window.
	f.addRun("b", 10, store.Missed)
	wantReads(t, f.refresh(), "b:1")
	if got := f.history("b"); got != "1:missed " {
		t.Errorf("runs of b: %s", got)
	}
	if got := f.history("a"); got != "5:success 4:success 3:success " {
		t.Errorf("runs of a: %s, want its newest 3", got)
	}

	// A run in progress, as the runs in progress give it: no record more
	// is read; then its end, which reads that run.
	r := f.addRun("c", 11, store.Running)
	wantReads(t, f.refresh(), "")
	if got := f.history("c"); got != "1:running " {
		t.Errorf("runs of c: %s", got)
	}
	r.Started = r.Started.Add(time.Second) // the process started after a wait for a worker
	f.update(func(tx store.Tx) error { return tx.PutRun(r) })
	wantReads(t, f.refresh(), "")
	if got := f.b.Snapshot().Job("c").Runs[0].Started; !got.Equal(r.Started) {
		t.Errorf("c started %v, want %v", got, r.Started)
	}
	r.Outcome, r.Ended = store.Success, r.Started.Add(time.Second)
	f.update(func(tx store.Tx) error { return tx.PutRun(r) })
	wantReads(t, f.refresh(), "c:1")
	if got := f.history("c"); got != "1:success " {
		t.Errorf("runs of c: %s", got)
	}

	f.update(func(tx store.Tx) error {
		return tx.RecordChange(store.Change{Time: t0, Kind: store.JobModified, JobID: "a"})
	})
	wantReads(t, f.refresh(), "a:3", "a")

	// New runs beyond the window push the oldest out.
	f.addRun("a", 20, store.Failed)
	f.addRun("a", 21, store.Success)
	wantReads(t, f.refresh(), "a:2")
	if got := f.history("a"); got != "7:success 6:failed 5:success " {
		t.Errorf("runs of a: %s, want its newest 3", got)
	}
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
	wantReads(t, f.refresh(), "a:2 c:1", "a", "b", "c")
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
	wantReads(t, f.refresh(), "", "new")
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
	f.b.Poke()
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
	f.addRun("a", 0, store.Success) // not read by the refresh that failed: read now
	wantReads(t, f.refresh(), "a:1")
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
	for {
		// The refresh may have come before the commit's signal. Updated
		// first: a refresh between the two would be missed.
		updated = f.b.Updated()
		if f.b.Snapshot().Job("a").Runs != nil {
			break
		}
		waitUpdate(t, updated)
	}

	seq := f.b.Snapshot().Seq
	updated = f.b.Updated()
	f.b.Poke()
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
	if reads := f.refresh(); len(reads.whole) != 250 {
		t.Fatalf("runs of %d jobs read, want 250", len(reads.whole))
	}
	if f.st.views != 4 {
		t.Errorf("%d read transactions, want 4: one for the jobs, three for their runs", f.st.views)
	}
	if n := len(f.b.Snapshot().Jobs); n != 250 {
		t.Errorf("%d jobs in the snapshot, want 250", n)
	}
}

func TestStoreNow(t *testing.T) {
	alone := &Snapshot{Taken: t0}
	if got := alone.StoreNow(t0.Add(time.Minute)); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("alone: StoreNow %v, want now", got)
	}
	fleet := &Snapshot{Taken: t0, StoreTime: t0.Add(time.Hour)} // the store's clock an hour ahead
	if got := fleet.StoreNow(t0.Add(time.Minute)); !got.Equal(t0.Add(time.Hour + time.Minute)) {
		t.Errorf("fleet: StoreNow %v, want an hour and a minute after t0", got)
	}
}
