package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

func testJobRoundTrip(t *testing.T, s store.Store) {
	j := Job("a", time.Minute)
	j.Name = "backup"
	j.Options.Env = []string{"A=1"}
	j.Options.Recover = true
	noMail := ""
	j.Options.MailTo, j.Options.MailOn = &noMail, store.MailOnFailure
	j.Options.Retry = schedule.Retry{Max: 3, Delay: time.Second, Backoff: 1.5, MaxDelay: time.Minute}
	j.Options.Overlap = store.OverlapBufferAll
	j.Retry = &store.PendingRetry{FireTime: T0, Attempt: 2, At: T0.Add(time.Second), After: 1}
	j.Buffered = []store.Waiting{{FireTime: T0.Add(time.Minute), Since: T0.Add(time.Minute)}}
	j.Trigger = schedule.Spec{Fields: &schedule.Fields{Hour: "2", Minute: "30"}, Timezone: "Europe/Berlin"}
	Put(t, s, j)
	j.Options.Env[0] = "A=changed after Put"
	j.Trigger.Fields.Hour = "3"

	got := View(t, s, func(tx store.Tx) (*store.Job, error) { return tx.Job("a") })
	if got.Name != "backup" || got.Options.Env[0] != "A=1" || got.Trigger.Fields.Hour != "2" ||
		!got.NextRun.Equal(T0.Add(time.Minute)) || got.Broken != "" || got.Options.MisfireGrace != schedule.Grace(time.Minute) ||
		!got.Options.Recover || got.Options.MailTo == nil || *got.Options.MailTo != "" || got.Options.MailOn != store.MailOnFailure {
		t.Fatalf("stored Job came back as %+v", got)
	}
	if got.Options.Retry != j.Options.Retry || got.Options.Overlap != store.OverlapBufferAll || got.Retry == nil || *got.Retry != *j.Retry ||
		len(got.Buffered) != 1 || !got.Buffered[0].FireTime.Equal(T0.Add(time.Minute)) {
		t.Fatalf("run policies came back as %+v, retry %+v, buffered %+v", got.Options, got.Retry, got.Buffered)
	}
	got.Options.Env[0] = "A=changed after get"
	again := View(t, s, func(tx store.Tx) (*store.Job, error) { return tx.Job("a") })
	if again.Options.Env[0] != "A=1" {
		t.Fatalf("changing a returned Job changed the store: %q", again.Options.Env[0])
	}
}

func testNotFound(t *testing.T, s store.Store) {
	err := s.View(t.Context(), func(tx store.Tx) error { _, err := tx.Job("nope"); return err })
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Job of a missing id: %v", err)
	}
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteJob("nope") })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteJob of a missing id: %v", err)
	}
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.AddRun(&store.Run{JobID: "nope", Outcome: store.Success}) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddRun of a missing job: %v", err)
	}
	err = s.View(t.Context(), func(tx store.Tx) error { _, err := tx.Runs("nope", 5); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Runs of a missing job: %v", err)
	}
	err = s.View(t.Context(), func(tx store.Tx) error { _, err := tx.Run("nope", 1); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Run of a missing job: %v", err)
	}
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.PutRun(&store.Run{JobID: "nope", Seq: 1, Outcome: store.Success}) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutRun of a missing run: %v", err)
	}
}

func testPutJobValidates(t *testing.T, s store.Store) {
	for _, tt := range []struct {
		mutate func(*store.Job)
		want   string
	}{
		{func(j *store.Job) { j.ID = "" }, "no id"},
		{func(j *store.Job) { j.State = "sleeping" }, `unknown state "sleeping"`},
		{func(j *store.Job) { j.Trigger = schedule.Spec{Cron: "61 * * * *"} }, "61"},
		{func(j *store.Job) { j.Broken = "cannot decode" }, "broken"},
	} {
		j := Job("v", 0)
		tt.mutate(j)
		err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutJob(j) })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("PutJob(%+v) = %v, want an error with %q", j, err, tt.want)
		}
	}
	if got := View(t, s, func(tx store.Tx) ([]*store.Job, error) { return AllJobs(tx) }); len(got) != 0 {
		t.Errorf("rejected jobs were stored: %v", IDs(got))
	}
}

func AllJobs(tx store.Tx) ([]*store.Job, error) {
	var out []*store.Job
	err := tx.Jobs(func(j *store.Job) error { out = append(out, j); return nil })
	return out, err
}

func testJobsInIDOrder(t *testing.T, s store.Store) {
	Put(t, s, Job("b", 0), Job("c", 0), Job("a", 0))
	if got := IDs(View(t, s, AllJobs)); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Jobs = %v", got)
	}
	stop := errors.New("stop")
	var seen int
	err := s.View(t.Context(), func(tx store.Tx) error { return tx.Jobs(func(*store.Job) error { seen++; return stop }) })
	if err != stop || seen != 1 {
		t.Errorf("Jobs after fn failed: err %v, %d calls", err, seen)
	}
}

func testIndexFollowsChanges(t *testing.T, s store.Store) {
	a, b, c := Job("a", 3*time.Minute), Job("b", time.Minute), Job("c", 2*time.Minute)
	paused, finished := Job("p", 0), Job("f", 0)
	paused.State = store.Paused
	finished.State, finished.NextRun = store.Finished, time.Time{}
	Put(t, s, a, b, c, paused, finished)
	far := T0.Add(time.Hour)
	if got := DueIDs(t, s, far, 0); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Fatalf("Due = %v, want b c a", got)
	}
	if at, ok := NextRun(t, s); !ok || !at.Equal(T0.Add(time.Minute)) {
		t.Fatalf("NextRunTime = %v %v", at, ok)
	}

	// Modify b to run last: its old key must go.
	b.NextRun = T0.Add(5 * time.Minute)
	Put(t, s, b)
	if got := DueIDs(t, s, far, 0); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Fatalf("after moving b: Due = %v, want c a b", got)
	}
	// Pause c, resume p, finish a.
	c.State = store.Paused
	paused.State, paused.NextRun = store.Active, T0.Add(4*time.Minute)
	a.State, a.NextRun = store.Finished, time.Time{}
	Put(t, s, c, paused, a)
	if got := DueIDs(t, s, far, 0); !slices.Equal(got, []string{"p", "b"}) {
		t.Fatalf("after pause/resume/finish: Due = %v, want p b", got)
	}
	// Remove p.
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteJob("p") }); err != nil {
		t.Fatal(err)
	}
	if got := DueIDs(t, s, far, 0); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("after removing p: Due = %v, want b", got)
	}
	if at, ok := NextRun(t, s); !ok || !at.Equal(T0.Add(5*time.Minute)) {
		t.Fatalf("NextRunTime = %v %v, want b's", at, ok)
	}
	b.State = store.Paused
	Put(t, s, b)
	if at, ok := NextRun(t, s); ok {
		t.Fatalf("NextRunTime with no active Job = %v", at)
	}
}

func testDueOrderAndLimit(t *testing.T, s store.Store) {
	// Ties in time are ordered by id; the bound is inclusive.
	Put(t, s, Job("z", 0), Job("y", 0), Job("x", time.Second), Job("later", time.Hour), Job("w", -time.Hour))
	if got := DueIDs(t, s, T0, 0); !slices.Equal(got, []string{"w", "y", "z"}) {
		t.Errorf("Due(T0) = %v, want w y z", got)
	}
	if got := DueIDs(t, s, T0, 2); !slices.Equal(got, []string{"w", "y"}) {
		t.Errorf("Due(T0, 2) = %v, want w y", got)
	}
	if got := DueIDs(t, s, T0.Add(-time.Hour-time.Nanosecond), 0); len(got) != 0 {
		t.Errorf("Due before everything = %v", got)
	}
	if got := DueIDs(t, s, T0.Add(time.Second), 0); !slices.Equal(got, []string{"w", "y", "z", "x"}) {
		t.Errorf("Due(T0+1s) = %v", got)
	}
}

func testFarTimes(t *testing.T, s store.Store) {
	// Times outside UnixNano's range still order correctly.
	old, future := Job("old", 0), Job("future", 0)
	old.NextRun = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
	future.NextRun = time.Date(2999, 1, 1, 0, 0, 0, 7, time.UTC)
	Put(t, s, future, old, Job("now", 0))
	if got := DueIDs(t, s, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0); !slices.Equal(got, []string{"old", "now", "future"}) {
		t.Errorf("Due = %v", got)
	}
	if at, _ := NextRun(t, s); !at.Equal(old.NextRun) {
		t.Errorf("NextRunTime = %v, want %v", at, old.NextRun)
	}
	got := View(t, s, func(tx store.Tx) ([]*store.Job, error) { return tx.Due(future.NextRun, 0) })
	if len(got) != 3 || !got[2].NextRun.Equal(future.NextRun) {
		t.Errorf("Due at the far time exactly = %v", IDs(got))
	}
}
