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
