package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// TestFleetSurvivesRestart: PostgreSQL restarting under two schedulers
// (every connection cut) costs them no fire time twice: they say in the
// log that the store fails and they try again, and once it is back the
// job fires again, each fire time once.
func TestFleetSurvivesRestart(t *testing.T) {
	url := pgtest.NewDB(t)
	admin := openPG(t, url)
	c := &calls{}
	var logA, logB syncBuffer
	a := fleetMember(t, url, "a", c, 0, &logA)
	b := fleetMember(t, url, "b", c, 0, &logB)
	storetest.Put(t, admin, everySecond("tick", time.Now()))
	waitFor(t, 5*time.Second, "the job runs", func() bool { return len(c.list()) >= 1 })
	pgtest.Restart(t)
	before := len(c.list())
	waitFor(t, 15*time.Second, "the job runs again after the restart", func() bool { return len(c.list()) >= before+2 })
	for _, s := range []*Scheduler{a, b} {
		if err := s.Shutdown(t.Context()); err != nil {
			t.Error(err)
		}
	}
	seen := map[string]int{}
	for _, call := range c.list() {
		seen[call.FireTime.UTC().Format(time.RFC3339Nano)]++
	}
	for at, n := range seen {
		if n != 1 {
			t.Errorf("fire time %s ran %d times", at, n)
		}
	}
	if log := logA.String() + logB.String(); !strings.Contains(log, "store error; trying again") {
		t.Errorf("neither log says the store failed and is tried again:\n%s", log)
	}
	for _, r := range viewRuns(t, admin) {
		if r.Outcome == store.Running {
			t.Errorf("run %s/%d still recorded running after both shut down", r.JobID, r.Seq)
		}
	}
	t.Logf("%d fire times run", len(seen))
}

// TestSlowClockProbe: a reading of the store's clock that took long (a
// loaded database) cannot tell the offset, and changes nothing; a quick
// one sets it.
func TestSlowClockProbe(t *testing.T) {
	s, err := New(Config{Store: newMemory(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.fleet = newFleet(s.session, s.cfg.Lease)
	t0 := time.Now()
	s.measureSkew(clockProbe{sent: t0, store: t0.Add(5*time.Second + 5*time.Millisecond), recv: t0.Add(10 * time.Millisecond)})
	if off := s.skew.offset(); off != 5*time.Second {
		t.Errorf("offset after a quick probe = %v, want 5s", off)
	}
	s.measureSkew(clockProbe{sent: t0, store: t0.Add(time.Minute), recv: t0.Add(3 * time.Second)})
	if off := s.skew.offset(); off != 5*time.Second {
		t.Errorf("offset after a probe of 3 s = %v, want it unchanged (5s)", off)
	}
}
