package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

func putPeriods(t *testing.T, s store.Store, ps ...store.Period) {
	t.Helper()
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for _, p := range ps {
			if err := tx.PutPeriod(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func periods(t *testing.T, s store.Store, kind store.PeriodKind) []store.Period {
	t.Helper()
	return View(t, s, func(tx store.Tx) ([]store.Period, error) { return tx.Periods(kind) })
}

// testPeriods: a session put again with its End replaces itself; kinds are
// kept apart, newest first; each kind keeps its newest PeriodLimit; bad
// periods are refused.
func testPeriods(t *testing.T, s store.Store) {
	if got := periods(t, s, store.SessionPeriod); len(got) != 0 {
		t.Fatalf("periods of a new store: %+v", got)
	}
	a := store.Period{Kind: store.SessionPeriod, Start: T0, Scheduler: "h:1", Host: "h", PID: 1, Version: "v1"}
	b := store.Period{Kind: store.SessionPeriod, Start: T0.Add(time.Hour), Scheduler: "h:2", Host: "h", PID: 2}
	pause := store.Period{Kind: store.PausePeriod, Start: T0.Add(30 * time.Minute), End: T0.Add(40 * time.Minute)}
	putPeriods(t, s, b, a, pause)
	a.End = T0.Add(50 * time.Minute)
	putPeriods(t, s, a) // its clean stop

	got := periods(t, s, store.SessionPeriod)
	if len(got) != 2 || got[0].Scheduler != "h:2" || !got[0].End.IsZero() ||
		got[1].Scheduler != "h:1" || !got[1].End.Equal(a.End) || !got[1].Start.Equal(T0) || got[1].Version != "v1" || got[1].PID != 1 {
		t.Fatalf("sessions = %+v, want h:2 (open) then h:1 (ended)", got)
	}
	if got := periods(t, s, store.PausePeriod); len(got) != 1 || !got[0].Start.Equal(pause.Start) || !got[0].End.Equal(pause.End) {
		t.Fatalf("pauses = %+v", got)
	}

	// Two schedulers started at one instant are two sessions.
	putPeriods(t, s, store.Period{Kind: store.SessionPeriod, Start: b.Start, Scheduler: "h:3"})
	if got := periods(t, s, store.SessionPeriod); len(got) != 3 {
		t.Fatalf("sessions after a second one at the same start: %d, want 3", len(got))
	}

	var many []store.Period
	for i := range store.PeriodLimit + 5 {
		many = append(many, store.Period{Kind: store.PausePeriod, Start: T0.Add(time.Duration(i+100) * time.Hour)})
	}
	putPeriods(t, s, many...)
	got = periods(t, s, store.PausePeriod)
	if len(got) != store.PeriodLimit || !got[0].Start.Equal(many[len(many)-1].Start) || !got[len(got)-1].Start.Equal(many[5].Start) {
		t.Fatalf("kept %d pauses, %v to %v; want %d, the newest", len(got), got[len(got)-1].Start, got[0].Start, store.PeriodLimit)
	}
	if got := periods(t, s, store.SessionPeriod); len(got) != 3 {
		t.Errorf("pauses pushed out sessions: %d left", len(got))
	}

	for _, bad := range []struct {
		p    store.Period
		want string
	}{
		{store.Period{Kind: "nap", Start: T0}, `unknown kind "nap"`},
		{store.Period{Kind: store.PausePeriod}, "no start"},
		{store.Period{Kind: store.PausePeriod, Start: T0, End: T0.Add(-time.Second)}, "ends before it starts"},
	} {
		err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutPeriod(bad.p) })
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("PutPeriod(%+v) = %v, want %q", bad.p, err, bad.want)
		}
	}
}

// testSetPausedRecordsPauses: scheduler pause and resume leave a pause
// period from one to the other.
func testSetPausedRecordsPauses(t *testing.T, s store.Store) {
	set := func(paused bool, at time.Time) {
		t.Helper()
		err := s.Update(t.Context(), func(tx store.Tx) error { _, err := store.SetPaused(tx, paused, at); return err })
		if err != nil {
			t.Fatal(err)
		}
	}
	set(true, T0)
	set(true, T0.Add(time.Minute)) // already paused: no second period
	if got := periods(t, s, store.PausePeriod); len(got) != 1 || !got[0].Start.Equal(T0) || !got[0].End.IsZero() {
		t.Fatalf("pauses while paused = %+v", got)
	}
	set(false, T0.Add(time.Hour))
	set(false, T0.Add(2*time.Hour)) // not paused: nothing to end
	if got := periods(t, s, store.PausePeriod); len(got) != 1 || !got[0].Start.Equal(T0) || !got[0].End.Equal(T0.Add(time.Hour)) {
		t.Fatalf("pauses after resume = %+v", got)
	}
}

// testResumePaused: resuming a paused job records the fire times it passed
// over as one skipped run, and none when none passed.
func testResumePaused(t *testing.T, s store.Store) {
	j := Job("a", 2*time.Minute) // every minute from T0, next at T0+2m
	j.Pause(T0.Add(90 * time.Second))
	k := Job("b", 2*time.Minute)
	k.Pause(T0.Add(90 * time.Second))
	Put(t, s, j, k)
	// b's fire time T0+2m was claimed before the pause (planned ahead).
	AddRuns(t, s, &store.Run{JobID: "b", FireTime: T0.Add(2 * time.Minute), Submitted: T0.Add(90 * time.Second), Outcome: store.Success})

	resume := func(id string, now time.Time) *store.Run {
		t.Helper()
		var r *store.Run
		err := s.Update(t.Context(), func(tx store.Tx) error {
			j, err := tx.Job(id)
			if err != nil {
				return err
			}
			if r, err = store.ResumePaused(tx, j, now); err != nil {
				return err
			}
			return tx.PutJob(j)
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	now := T0.Add(10*time.Minute + 30*time.Second)
	r := resume("a", now)
	got := View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("a", 0) })
	if r == nil || len(got) != 1 || got[0].Outcome != store.Skipped || !got[0].FireTime.Equal(T0.Add(10*time.Minute)) ||
		got[0].Coalesced != 8 || got[0].Reason != "the job was paused from 2026-03-01 12:01:30 +00:00 to 2026-03-01 12:10:30 +00:00" {
		t.Fatalf("runs after resume = %+v, want one skipped at T0+10m with 8 coalesced", got)
	}
	a := View(t, s, func(tx store.Tx) (*store.Job, error) { return tx.Job("a") })
	if a.State != store.Active || !a.NextRun.Equal(T0.Add(11*time.Minute)) || !a.PausedAt.IsZero() {
		t.Errorf("resumed job: state %s, next run %v, paused at %v", a.State, a.NextRun, a.PausedAt)
	}

	resume("b", now)
	got = View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("b", 0) })
	if len(got) != 2 || !got[0].FireTime.Equal(T0.Add(10*time.Minute)) || got[0].Coalesced != 7 {
		t.Errorf("runs of b = %+v, want the skipped run after the one claimed before the pause, 7 coalesced", got)
	}

	// Paused and resumed between two fire times: nothing passed over.
	c := Job("c", 11*time.Minute)
	c.Pause(now)
	Put(t, s, c)
	if r := resume("c", now.Add(20*time.Second)); r != nil {
		t.Errorf("resumed before its next fire time: recorded %+v", r)
	}
}
