package migrate

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/memory"
	"github.com/jobctl/jobctl/store/storetest"
)

var t0 = storetest.T0

func newStore(t *testing.T) store.Store {
	t.Helper()
	s, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func setSettings(t *testing.T, s store.Store, set store.Settings) {
	t.Helper()
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutSettings(set) }); err != nil {
		t.Fatal(err)
	}
}

// source returns a store of three jobs: a with 5 finished runs and one
// running, kept under the default limit and then the limit lowered to 3,
// so that it holds more than a copy keeps; b paused, with 2 runs; c with
// none. Its scheduler is paused and has an executor.
func source(t *testing.T) store.Store {
	s := newStore(t)
	b := storetest.Job("b", time.Minute)
	b.Pause(storetest.T0)
	storetest.Put(t, s, storetest.Job("a", 0), b, storetest.Job("c", time.Hour))
	for i := range 5 {
		storetest.AddRuns(t, s, storetest.RunOf("a", i, store.Success))
	}
	storetest.AddRuns(t, s, storetest.RunOf("a", 5, store.Running), storetest.RunOf("b", 1, store.Failed), storetest.RunOf("b", 2, store.Missed))
	setSettings(t, s, store.Settings{Paused: true, HistoryLimit: 3, Executors: []store.Executor{{Name: "pool", MaxWorkers: 2}}})
	return s
}

func jobs(t *testing.T, s store.Store) []*store.Job { return storetest.View(t, s, storetest.AllJobs) }

func runs(t *testing.T, s store.Store, id string) []*store.Run {
	t.Helper()
	return storetest.View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs(id, 0) })
}

func changes(t *testing.T, s store.Store) []store.Change {
	t.Helper()
	return storetest.View(t, s, func(tx store.Tx) ([]store.Change, error) { return tx.ChangesSince(0) })
}

func seqs(runs []*store.Run) []uint64 {
	var out []uint64
	for _, r := range runs {
		out = append(out, r.Seq)
	}
	return out
}

// checkCopy checks that to holds from's jobs and settings, and each job's
// runs as from's history limit keeps them: want, by job, newest first.
func checkCopy(t *testing.T, from, to store.Store, want map[string][]uint64) {
	t.Helper()
	src, dst := jobs(t, from), jobs(t, to)
	if !slices.EqualFunc(src, dst, func(a, b *store.Job) bool { return a.Equal(b) }) {
		t.Errorf("target's jobs %v, want the source's %v", storetest.IDs(dst), storetest.IDs(src))
	}
	get := func(s store.Store) store.Settings {
		return storetest.View(t, s, func(tx store.Tx) (store.Settings, error) { return tx.Settings() })
	}
	if a, b := get(from), get(to); !a.Equal(b) {
		t.Errorf("target's settings %+v, want the source's %+v", b, a)
	}
	for id, seqsWant := range want {
		got := runs(t, to, id)
		if !slices.Equal(seqs(got), seqsWant) {
			t.Errorf("target's runs of %s: %v, want %v", id, seqs(got), seqsWant)
			continue
		}
		for _, r := range got {
			orig := storetest.View(t, from, func(tx store.Tx) (*store.Run, error) { return tx.Run(id, r.Seq) })
			if !r.Equal(orig) {
				t.Errorf("run %s/%d copied as %+v, from %+v", id, r.Seq, r, orig)
			}
		}
	}
}

var wantRuns = map[string][]uint64{"a": {6, 5, 4, 3}, "b": {2, 1}, "c": nil}

func TestCopy(t *testing.T) {
	from, to := source(t), newStore(t)
	rep, err := Copy(t.Context(), from, to, Options{Now: t0, Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Copied, []string{"a", "b", "c"}) || rep.Runs != 6 || !rep.Settings || len(rep.Unchanged)+len(rep.Replaced)+len(rep.Kept) > 0 {
		t.Errorf("report %+v, want a, b and c copied with 6 runs, and the settings", rep)
	}
	checkCopy(t, from, to, wantRuns)
	// A scheduler on the target hears of each job, and of the pause.
	got := changes(t, to)
	var kinds []store.ChangeKind
	for _, c := range got {
		kinds = append(kinds, c.Kind)
	}
	if want := []store.ChangeKind{store.SchedulerPaused, store.JobAdded, store.JobAdded, store.JobAdded}; !slices.Equal(kinds, want) {
		t.Errorf("target's journal %v, want %v", kinds, want)
	}

	// Again: nothing to copy, and nothing written.
	rep, err = Copy(t.Context(), from, to, Options{Now: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Copied) > 0 || rep.Runs > 0 || rep.Settings || !slices.Equal(rep.Unchanged, []string{"a", "b", "c"}) {
		t.Errorf("second copy's report %+v, want a, b and c unchanged", rep)
	}
	if n := len(changes(t, to)); n != len(got) {
		t.Errorf("second copy recorded %d changes", n-len(got))
	}
}

func TestCopyRefusesAnotherTarget(t *testing.T) {
	from := source(t)
	for name, prepare := range map[string]func(to store.Store){
		"a job the source lacks": func(to store.Store) { storetest.Put(t, to, storetest.Job("x", 0)) },
		"a job that differs": func(to store.Store) {
			j := storetest.Job("a", 0)
			j.Command = "echo other"
			storetest.Put(t, to, j)
		},
		"the job, but other runs": func(to store.Store) {
			storetest.Put(t, to, jobs(t, from)[0])
			storetest.AddRuns(t, to, storetest.RunOf("a", 0, store.Success))
		},
		"other settings": func(to store.Store) {
			if _, err := Copy(t.Context(), from, to, Options{Now: t0}); err != nil {
				t.Fatal(err)
			}
			setSettings(t, to, store.Settings{HistoryLimit: 7})
		},
	} {
		t.Run(name, func(t *testing.T) {
			to := newStore(t)
			prepare(to)
			before := changes(t, to)
			jobsBefore := storetest.IDs(jobs(t, to))
			_, err := Copy(t.Context(), from, to, Options{Now: t0})
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("Copy: %v, want a ConflictError", err)
			}
			if got := storetest.IDs(jobs(t, to)); !slices.Equal(got, jobsBefore) || len(changes(t, to)) != len(before) {
				t.Errorf("a refused copy wrote: jobs %v, were %v", got, jobsBefore)
			}
		})
	}
	// An empty target's settings are the source's to replace.
	to := newStore(t)
	setSettings(t, to, store.Settings{HistoryLimit: 7})
	if _, err := Copy(t.Context(), from, to, Options{Now: t0}); err != nil {
		t.Fatalf("copy into a target with no jobs and other settings: %v", err)
	}
	checkCopy(t, from, to, wantRuns)
}

func TestCopyForce(t *testing.T) {
	from, to := source(t), newStore(t)
	storetest.Put(t, to, storetest.Job("a", 5*time.Minute), storetest.Job("x", 0))
	for i := range 9 {
		storetest.AddRuns(t, to, storetest.RunOf("a", 100+i, store.Success), storetest.RunOf("x", i, store.Success))
	}
	_, err := Copy(t.Context(), from, to, Options{Now: t0})
	var ce *ConflictError
	if !errors.As(err, &ce) || !slices.Equal(ce.Foreign, []string{"x"}) || !slices.Equal(ce.Differ, []string{"a"}) {
		t.Fatalf("Copy without Force: %v, want x foreign and a differing", err)
	}
	rep, err := Copy(t.Context(), from, to, Options{Now: t0, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Replaced, []string{"a"}) || !slices.Equal(rep.Copied, []string{"b", "c"}) || !slices.Equal(rep.Kept, []string{"x"}) {
		t.Errorf("report %+v, want a replaced, b and c copied, x kept", rep)
	}
	// a's history is the source's alone; x is left as it was.
	if got := seqs(runs(t, to, "a")); !slices.Equal(got, wantRuns["a"]) {
		t.Errorf("runs of the replaced a: %v, want %v", got, wantRuns["a"])
	}
	if got := len(runs(t, to, "x")); got != 9 {
		t.Errorf("x kept %d runs, want its 9", got)
	}
	// Forced again: nothing to copy.
	rep, err = Copy(t.Context(), from, to, Options{Now: t0, Force: true})
	if err != nil || len(rep.Copied)+len(rep.Replaced) > 0 || !slices.Equal(rep.Unchanged, []string{"a", "b", "c"}) {
		t.Errorf("forced again: %+v, %v; want a, b and c unchanged", rep, err)
	}
}

func TestCopyDryRun(t *testing.T) {
	from, to := source(t), newStore(t)
	storetest.Put(t, to, storetest.Job("a", 0))
	rep, err := Copy(t.Context(), from, to, Options{Now: t0, DryRun: true, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Copied, []string{"b", "c"}) || !slices.Equal(rep.Replaced, []string{"a"}) || rep.Runs != 6 || !rep.Settings {
		t.Errorf("dry run's report %+v, want b and c copied, a replaced, 6 runs, the settings", rep)
	}
	if got := storetest.IDs(jobs(t, to)); !slices.Equal(got, []string{"a"}) || len(changes(t, to)) > 0 || len(runs(t, to, "a")) > 0 {
		t.Errorf("a dry run wrote: jobs %v", got)
	}
}

// failing fails its Update number fail, after fn has written.
type failing struct {
	store.Store
	updates, fail int
}

var errInjected = errors.New("injected failure")

func (s *failing) Update(ctx context.Context, fn func(store.Tx) error) error {
	s.updates++
	if s.updates != s.fail {
		return s.Store.Update(ctx, fn)
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errInjected
	})
}

// TestCopyBatches: whole jobs to a transaction, at least one whatever its
// history; a copy that fails part way leaves whole jobs, and copying again
// copies the rest.
func TestCopyBatches(t *testing.T) {
	from := newStore(t)
	storetest.Put(t, from, storetest.Job("a", 0), storetest.Job("b", 0), storetest.Job("c", 0), storetest.Job("d", 0))
	for i := range 5 {
		storetest.AddRuns(t, from, storetest.RunOf("a", i, store.Success))
	}
	storetest.AddRuns(t, from, storetest.RunOf("b", 0, store.Success), storetest.RunOf("c", 0, store.Success))
	// Batches of 3 jobs and runs: a (6), then b and c (2 each), then d.
	count := &failing{Store: newStore(t)}
	if _, err := Copy(t.Context(), from, count, Options{Now: t0, Batch: 3}); err != nil {
		t.Fatal(err)
	}
	if count.updates != 3 {
		t.Errorf("copied in %d transactions, want 3", count.updates)
	}

	to := &failing{Store: newStore(t), fail: 2}
	rep, err := Copy(t.Context(), from, to, Options{Now: t0, Batch: 3})
	if !errors.Is(err, errInjected) {
		t.Fatalf("Copy: %v, want the injected failure", err)
	}
	if !slices.Equal(rep.Copied, []string{"a"}) || rep.Runs != 5 {
		t.Errorf("report of the failed copy %+v, want a and its 5 runs", rep)
	}
	if got := storetest.IDs(jobs(t, to)); !slices.Equal(got, []string{"a"}) || len(runs(t, to, "a")) != 5 {
		t.Errorf("after a failed second batch the target holds %v, want a whole", got)
	}
	rep, err = Copy(t.Context(), from, to, Options{Now: t0, Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Unchanged, []string{"a"}) || !slices.Equal(rep.Copied, []string{"b", "c", "d"}) {
		t.Errorf("copying again: %+v, want a unchanged and b, c, d copied", rep)
	}
	checkCopy(t, from, to, map[string][]uint64{"a": {5, 4, 3, 2, 1}, "b": {1}, "c": {1}, "d": nil})
}

// withBroken is a store whose jobs include a broken one, as an engine
// returns a job it cannot decode.
type withBroken struct{ store.Store }

func (s withBroken) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(brokenTx{tx}) })
}

type brokenTx struct{ store.Tx }

func (t brokenTx) Jobs(fn func(*store.Job) error) error {
	if err := fn(&store.Job{ID: "0bad", Broken: "cannot decode the stored job"}); err != nil {
		return err
	}
	return t.Tx.Jobs(fn)
}

func TestCopySkipsBroken(t *testing.T) {
	from, to := source(t), newStore(t)
	rep, err := Copy(t.Context(), withBroken{from}, to, Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Broken) != 1 || rep.Broken[0].ID != "0bad" || !slices.Equal(rep.Copied, []string{"a", "b", "c"}) {
		t.Errorf("report %+v, want 0bad broken and a, b, c copied", rep)
	}
	checkCopy(t, from, to, wantRuns)
}

// dupRefusing is a target that refuses a second run of one job, fire time
// and attempt in a transaction, as PostgreSQL does.
type dupRefusing struct{ store.Store }

func (s dupRefusing) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(&dupRefusingTx{Tx: tx, seen: map[string]bool{}}) })
}

type dupRefusingTx struct {
	store.Tx
	seen map[string]bool
}

func (t *dupRefusingTx) RestoreRun(r *store.Run) error {
	k := fmt.Sprint(r.JobID, r.FireTime.UnixMicro(), r.AttemptNumber())
	if t.seen[k] {
		return fmt.Errorf("job %q, fire time %s, attempt %d: %w", r.JobID, r.FireTime, r.AttemptNumber(), store.ErrDuplicateRun)
	}
	t.seen[k] = true
	return t.Tx.RestoreRun(r)
}

// TestCopyDuplicateRun: two runs of one fire time and attempt, which a
// bbolt source may hold and a PostgreSQL target refuses, fail the copy with
// the job, the run and its fire time named.
func TestCopyDuplicateRun(t *testing.T) {
	from := newStore(t)
	storetest.Put(t, from, storetest.Job("a", 0))
	storetest.AddRuns(t, from, storetest.RunOf("a", 0, store.Success), storetest.RunOf("a", 0, store.Failed))
	_, err := Copy(t.Context(), from, dupRefusing{newStore(t)}, Options{})
	if !errors.Is(err, store.ErrDuplicateRun) {
		t.Fatalf("Copy: %v, want ErrDuplicateRun", err)
	}
	if !regexp.MustCompile(`job "a": run [12], fire time 2026-03-01T12:00:00Z, attempt 1,`).MatchString(err.Error()) {
		t.Errorf("Copy: %v, want the job, the run and its fire time named", err)
	}
}

// racing is a target to which another writer adds job before the copy's
// first write.
type racing struct {
	store.Store
	job *store.Job
}

func (s *racing) Update(ctx context.Context, fn func(store.Tx) error) error {
	if j := s.job; j != nil {
		s.job = nil
		if err := s.Store.Update(ctx, func(tx store.Tx) error { return tx.PutJob(j) }); err != nil {
			return err
		}
	}
	return s.Store.Update(ctx, fn)
}

// TestCopyTargetGainsJob: a job of the source's added to the target after
// the copy looked is a conflict, and the batch it is in is not written.
func TestCopyTargetGainsJob(t *testing.T) {
	from := newStore(t)
	storetest.Put(t, from, storetest.Job("a", 0), storetest.Job("b", 0))
	theirs := storetest.Job("b", time.Hour)
	to := &racing{Store: newStore(t), job: theirs}
	_, err := Copy(t.Context(), from, to, Options{Now: t0})
	var ce *ConflictError
	if !errors.As(err, &ce) || !slices.Equal(ce.Differ, []string{"b"}) {
		t.Fatalf("Copy: %v, want a ConflictError for b", err)
	}
	if got := jobs(t, to); len(got) != 1 || !got[0].Equal(theirs) {
		t.Errorf("the target holds %+v, want only the b added meanwhile", got)
	}
}

// breaking is a source whose job id reads as broken once listed, as a job
// broken between the copy's first read and its batch's.
type breaking struct {
	store.Store
	id string
}

func (s breaking) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(breakingTx{tx, s.id}) })
}

type breakingTx struct {
	store.Tx
	id string
}

func (t breakingTx) Job(id string) (*store.Job, error) {
	if id == t.id {
		return &store.Job{ID: id, Broken: "cannot decode the stored job"}, nil
	}
	return t.Tx.Job(id)
}

func TestCopyBrokenSinceListed(t *testing.T) {
	from, to := newStore(t), newStore(t)
	storetest.Put(t, from, storetest.Job("a", 0), storetest.Job("b", 0))
	rep, err := Copy(t.Context(), breaking{from, "b"}, to, Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Broken) != 1 || rep.Broken[0].ID != "b" || !slices.Equal(rep.Copied, []string{"a"}) {
		t.Errorf("report %+v, want b broken and a copied", rep)
	}
	if got := storetest.IDs(jobs(t, to)); !slices.Equal(got, []string{"a"}) {
		t.Errorf("the target holds %v, want a", got)
	}
}

// bulky is a source whose runs each hold output, a quarter of batchBytes
// (shared, not copied, so the test stays small).
type bulky struct{ store.Store }

var bulk = strings.Repeat("x", batchBytes/4)

func (s bulky) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(bulkyTx{tx}) })
}

type bulkyTx struct{ store.Tx }

func (t bulkyTx) Runs(id string, n int) ([]*store.Run, error) {
	runs, err := t.Tx.Runs(id, n)
	for _, r := range runs {
		r.Output = bulk
	}
	return runs, err
}

// TestCopyBatchBytes: a batch ends once its runs hold batchBytes of
// output, however few jobs and runs it has.
func TestCopyBatchBytes(t *testing.T) {
	from := newStore(t)
	storetest.Put(t, from, storetest.Job("a", 0), storetest.Job("b", 0), storetest.Job("c", 0))
	for _, id := range []string{"a", "b", "c"} {
		storetest.AddRuns(t, from, storetest.RunOf(id, 0, store.Success), storetest.RunOf(id, 1, store.Success))
	}
	// a and b hold batchBytes of output: c is in a batch of its own.
	to := &failing{Store: newStore(t)}
	rep, err := Copy(t.Context(), bulky{from}, to, Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if to.updates != 2 || rep.Runs != 6 {
		t.Errorf("copied %d runs in %d transactions, want 6 in 2", rep.Runs, to.updates)
	}
}
