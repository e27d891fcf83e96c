package storetest

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

	"github.com/jobctl/jobctl/store"
)

func testRollbackOnError(t *testing.T, s store.Store) {
	Put(t, s, Job("a", time.Minute), Job("b", 2*time.Minute))
	AddRuns(t, s, RunOf("a", 0, store.Success))
	fail := errors.New("changed my mind")
	err := s.Update(t.Context(), func(tx store.Tx) error {
		moved := Job("a", time.Hour)
		if err := tx.PutJob(moved); err != nil {
			return err
		}
		if err := tx.PutJob(Job("new", 0)); err != nil {
			return err
		}
		if err := tx.DeleteJob("b"); err != nil {
			return err
		}
		if err := tx.AddRun(RunOf("a", 1, store.Running)); err != nil {
			return err
		}
		if err := tx.PutSettings(store.Settings{Paused: true}); err != nil {
			return err
		}
		if err := tx.RecordChange(store.Change{Kind: store.JobAdded, JobID: "new"}); err != nil {
			return err
		}
		return fail
	})
	if err != fail {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	assertUntouched(t, s)
}

func testRollbackOnPanic(t *testing.T, s store.Store) {
	Put(t, s, Job("a", time.Minute), Job("b", 2*time.Minute))
	AddRuns(t, s, RunOf("a", 0, store.Success))
	func() {
		defer func() {
			if r := recover(); r != "bug" {
				t.Errorf("recovered %v, want the caller's panic", r)
			}
		}()
		s.Update(t.Context(), func(tx store.Tx) error {
			tx.DeleteJob("b")
			tx.AddRun(RunOf("a", 1, store.Running))
			tx.PutJob(Job("new", 0))
			panic("bug")
		})
	}()
	assertUntouched(t, s)
	// The store is usable afterwards: no lock is left held.
	Put(t, s, Job("c", 0))
}

// assertUntouched checks the state left by the rollback tests.
func assertUntouched(t *testing.T, s store.Store) {
	t.Helper()
	if got := IDs(View(t, s, AllJobs)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("jobs after rollback = %v", got)
	}
	if got := DueIDs(t, s, T0.Add(time.Hour), 0); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Due after rollback = %v", got)
	}
	if got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("", 0) }); len(got) != 1 {
		t.Errorf("runs after rollback = %d", len(got))
	}
	if got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.RunningRuns() }); len(got) != 0 {
		t.Errorf("running runs after rollback = %d", len(got))
	}
	if got := View(t, s, func(tx store.Tx) (store.Settings, error) { return tx.Settings() }); got.Paused {
		t.Errorf("settings after rollback = %+v", got)
	}
	if got := View(t, s, func(tx store.Tx) ([]store.Change, error) { return tx.ChangesSince(0) }); len(got) != 0 {
		t.Errorf("journal after rollback = %v", got)
	}
	// The sequence is rolled back too: the next run of a is seq 2.
	r := RunOf("a", 1, store.Success)
	AddRuns(t, s, r)
	if r.Seq != 2 {
		t.Errorf("next run after rollback got seq %d, want 2", r.Seq)
	}
}

func testReadOnlyView(t *testing.T, s store.Store) {
	Put(t, s, Job("a", 0))
	for name, write := range map[string]func(store.Tx) error{
		"PutJob":       func(tx store.Tx) error { return tx.PutJob(Job("b", 0)) },
		"DeleteJob":    func(tx store.Tx) error { return tx.DeleteJob("a") },
		"AddRun":       func(tx store.Tx) error { return tx.AddRun(RunOf("a", 0, store.Success)) },
		"PutRun":       func(tx store.Tx) error { return tx.PutRun(RunOf("a", 0, store.Success)) },
		"RestoreRun":   func(tx store.Tx) error { r := RunOf("a", 0, store.Success); r.Seq = 7; return tx.RestoreRun(r) },
		"RecordChange": func(tx store.Tx) error { return tx.RecordChange(store.Change{Kind: store.JobAdded}) },
		"PutSettings":  func(tx store.Tx) error { return tx.PutSettings(store.Settings{Paused: true}) },
	} {
		if err := s.View(t.Context(), write); err == nil {
			t.Errorf("%s in a View succeeded", name)
		}
	}
	if got := IDs(View(t, s, AllJobs)); !slices.Equal(got, []string{"a"}) {
		t.Errorf("jobs after writes in a View = %v", got)
	}
}

func testJournal(t *testing.T, s store.Store) {
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.RecordChange(store.Change{Time: T0, Kind: store.JobAdded, JobID: "a"}); err != nil {
			return err
		}
		return tx.RecordChange(store.Change{Time: T0, Kind: store.SchedulerPaused})
	})
	if err != nil {
		t.Fatal(err)
	}
	got := View(t, s, func(tx store.Tx) ([]store.Change, error) { return tx.ChangesSince(0) })
	want := []store.Change{{Seq: 1, Time: T0, Kind: store.JobAdded, JobID: "a"}, {Seq: 2, Time: T0, Kind: store.SchedulerPaused}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ChangesSince(0) = %+v", got)
	}
	if got := View(t, s, func(tx store.Tx) ([]store.Change, error) { return tx.ChangesSince(1) }); len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("ChangesSince(1) = %+v", got)
	}
	if got := View(t, s, func(tx store.Tx) ([]store.Change, error) { return tx.ChangesSince(2) }); len(got) != 0 {
		t.Errorf("ChangesSince(2) = %+v", got)
	}
	err = s.Update(t.Context(), func(tx store.Tx) error {
		for range store.JournalLimit + 3 {
			if err := tx.RecordChange(store.Change{Kind: store.JobModified, JobID: "a"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got = View(t, s, func(tx store.Tx) ([]store.Change, error) { return tx.ChangesSince(0) })
	if len(got) != store.JournalLimit {
		t.Fatalf("journal keeps %d entries, want %d", len(got), store.JournalLimit)
	}
	if got[0].Seq != 6 || got[len(got)-1].Seq != store.JournalLimit+5 {
		t.Errorf("journal keeps entries %d..%d, want 6..%d", got[0].Seq, got[len(got)-1].Seq, store.JournalLimit+5)
	}
}

// testReadsOwnWrites: within one Update, every read sees the writes made
// before it, however the engine defers them, and a job moved twice is
// indexed once, where it ended.
func testReadsOwnWrites(t *testing.T, s store.Store) {
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for _, j := range []*store.Job{Job("z", 0), Job("a", time.Hour), Job("m", -time.Minute)} {
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		if j, err := tx.Job("a"); err != nil || !j.NextRun.Equal(T0.Add(time.Hour)) {
			t.Errorf("Job(a) in the Update that put it: %v, %v", j, err)
		}
		moved := Job("a", -3*time.Hour)
		if err := tx.PutJob(moved); err != nil {
			return err
		}
		moved.NextRun = T0.Add(-2 * time.Hour)
		if err := tx.PutJob(moved); err != nil {
			return err
		}
		// NextRunTime trusts the index (Due would drop a stale key).
		if at, ok, err := tx.NextRunTime(); err != nil || !ok || !at.Equal(T0.Add(-2*time.Hour)) {
			t.Errorf("NextRunTime in the Update: %v %v %v; want %v", at, ok, err, T0.Add(-2*time.Hour))
		}
		due, err := tx.Due(T0, 0)
		if got := IDs(due); err != nil || !slices.Equal(got, []string{"a", "m", "z"}) {
			t.Errorf("Due in the Update that put them: %v, %v; want [a m z]", got, err)
		}
		all, err := AllJobs(tx)
		if got := IDs(all); err != nil || !slices.Equal(got, []string{"a", "m", "z"}) {
			t.Errorf("Jobs in the Update: %v, %v", got, err)
		}
		if err := tx.RecordChange(store.Change{Time: T0, Kind: store.JobAdded, JobID: "a"}); err != nil {
			return err
		}
		if got, err := tx.ChangesSince(0); err != nil || len(got) != 1 || got[0].JobID != "a" {
			t.Errorf("ChangesSince in the Update that recorded it: %+v, %v", got, err)
		}
		return tx.DeleteJob("z")
	})
	if err != nil {
		t.Fatal(err)
	}
	if at, _ := NextRun(t, s); !at.Equal(T0.Add(-2 * time.Hour)) {
		t.Errorf("NextRunTime after the Update: %v, want %v (a indexed once, where it ended)", at, T0.Add(-2*time.Hour))
	}
	if got := DueIDs(t, s, T0, 0); !slices.Equal(got, []string{"a", "m"}) {
		t.Errorf("due at T0 after the Update: %v, want [a m]", got)
	}
}

func testSettings(t *testing.T, s store.Store) {
	if got := View(t, s, func(tx store.Tx) (store.Settings, error) { return tx.Settings() }); !reflect.DeepEqual(got, store.Settings{}) {
		t.Errorf("settings of a new store = %+v", got)
	}
	want := store.Settings{Paused: true, HistoryLimit: 7,
		Executors: []store.Executor{{Name: "heavy", MaxWorkers: 2}},
		Listeners: []store.Listener{{Events: []string{"job_error", "job_missed"}, Command: "notify"}},
		MailTo:    "ops@example.com, root", Sendmail: "/usr/sbin/sendmail"}
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutSettings(want) }); err != nil {
		t.Fatal(err)
	}
	if got := View(t, s, func(tx store.Tx) (store.Settings, error) { return tx.Settings() }); !reflect.DeepEqual(got, want) {
		t.Errorf("Settings = %+v, want %+v", got, want)
	}
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutSettings(store.Settings{HistoryLimit: -1}) })
	if err == nil || !strings.Contains(err.Error(), "-1") {
		t.Errorf("negative history limit: %v", err)
	}
	err = s.Update(t.Context(), func(tx store.Tx) error {
		return tx.PutSettings(store.Settings{Executors: []store.Executor{{Name: "x"}}})
	})
	if err == nil || !strings.Contains(err.Error(), `executor "x": max workers 0 is less than 1`) {
		t.Errorf("an executor of no workers: %v", err)
	}
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.PutSettings(store.Settings{MailTo: "a@b\nBcc: c@d"}) })
	if err == nil || !strings.Contains(err.Error(), `contains '\n'`) {
		t.Errorf("a mailto with a line break: %v", err)
	}
}

// testClaim is the runner's at-most-once pattern: in one Update, read the due
// jobs, record their runs and advance them.
func testClaim(t *testing.T, s store.Store) {
	Put(t, s, Job("a", 0), Job("b", 0), Job("later", time.Hour))
	err := s.Update(t.Context(), func(tx store.Tx) error {
		due, err := tx.Due(T0, 100)
		if err != nil {
			return err
		}
		for _, j := range due {
			if err := tx.AddRun(&store.Run{JobID: j.ID, FireTime: j.NextRun, Submitted: T0, Outcome: store.Running, Owner: "me"}); err != nil {
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
	if got := DueIDs(t, s, T0, 0); len(got) != 0 {
		t.Errorf("still due after the claim: %v", got)
	}
	if got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.RunningRuns() }); len(got) != 2 || got[0].Owner != "me" {
		t.Errorf("running after the claim = %v", got)
	}
	if at, _ := NextRun(t, s); !at.Equal(T0.Add(time.Minute)) {
		t.Errorf("NextRunTime after the claim = %v", at)
	}
}

func testWatchClosesOnCancel(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	drain(t, ch, "after its context was cancelled")
	ch, err = s.Watch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	drain(t, ch, "after the store was closed")
}

// drain reads ch until it closes, failing if it has not within 10 s.
func drain(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("the watch channel is still open 10 s %s", what)
		}
	}
}

// testWatchSignalsCommits: a commit that changes something signals, a
// burst of commits leaves one pending signal, and an Update that writes
// nothing signals nothing (a loop that reads in Update would otherwise
// wake itself forever).
func testWatchSignalsCommits(t *testing.T, s store.Store) {
	ch, err := s.Watch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	Put(t, s, Job("a", 0))
	Put(t, s, Job("b", 0))
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no signal 10 s after two commits")
	}
	// The engine may hear of its own commits again (from a file's
	// change): give that a moment, then expect no more signals.
	time.Sleep(50 * time.Millisecond)
	for len(ch) > 0 {
		<-ch
	}
	if err := s.Update(t.Context(), func(tx store.Tx) error { _, err := tx.Due(T0, 10); return err }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	select {
	case <-ch:
		t.Fatal("an update that wrote nothing signalled")
	default:
	}
}

// testClosed: a closed store refuses every operation with ErrClosed.
func testClosed(t *testing.T, s store.Store) {
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.View(t.Context(), func(store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("View on a closed store: %v, want ErrClosed", err)
	}
	if err := s.Update(t.Context(), func(store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update on a closed store: %v, want ErrClosed", err)
	}
	if _, err := s.Watch(t.Context()); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Watch on a closed store: %v, want ErrClosed", err)
	}
}

// testConcurrent runs updates and views from several goroutines: every
// update lands.
func testConcurrent(t *testing.T, s store.Store) { ConcurrentAdds(t, s) }

// ConcurrentAdds adds 4 jobs from each of 4 goroutines per handle, spread
// over the handles (several Store values on one file stand for several
// processes), with views in between, and checks every add landed.
func ConcurrentAdds(t *testing.T, handles ...store.Store) {
	var wg sync.WaitGroup
	n := 4 * len(handles)
	for g := range n {
		s := handles[g%len(handles)]
		wg.Go(func() {
			for i := range 4 {
				j := Job(fmt.Sprintf("g%d-%d", g, i), time.Duration(i)*time.Second)
				if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutJob(j) }); err != nil {
					t.Error(err)
				}
				if err := s.View(t.Context(), func(tx store.Tx) error { _, err := tx.Due(T0, 5); return err }); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := View(t, handles[0], AllJobs); len(got) != 4*n {
		t.Errorf("%d jobs after %d concurrent adds", len(got), 4*n)
	}
}
