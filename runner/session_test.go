package runner

import (
	"os"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

// A scheduler records its session as it starts, and its End as it shuts
// down; started paused, a pause from its start.
func TestSessionRecorded(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("a", cron("* * * * *")))
	s := h.start(Config{Version: "v9", StartPaused: true})
	periods := func(kind store.PeriodKind) []store.Period {
		t.Helper()
		var ps []store.Period
		if err := h.st.View(t.Context(), func(tx store.Tx) (err error) { ps, err = tx.Periods(kind); return err }); err != nil {
			t.Fatal(err)
		}
		return ps
	}
	got := periods(store.SessionPeriod)
	host, _ := os.Hostname()
	if len(got) != 1 || !got[0].Start.Equal(t0) || !got[0].End.IsZero() || got[0].Scheduler != "test" ||
		got[0].Host != host || got[0].PID != os.Getpid() || got[0].Version != "v9" {
		t.Fatalf("sessions while running = %+v", got)
	}
	if p := periods(store.PausePeriod); len(p) != 1 || !p[0].Start.Equal(t0) || !p[0].End.IsZero() {
		t.Errorf("pauses of a scheduler started paused = %+v", p)
	}
	h.advance(5 * time.Minute)
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	got = periods(store.SessionPeriod)
	if len(got) != 1 || !got[0].Start.Equal(t0) || !got[0].End.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("sessions after shutdown = %+v, want one from t0 to t0+5m", got)
	}
}
