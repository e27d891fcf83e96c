package runner

import (
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// TestFleetOnStartOncePerFleetStart: on a database shared by a fleet, an
// on-start job runs once per start of the fleet: not again when a member
// joins a running fleet, and once when two members start together.
func TestFleetOnStartOncePerFleetStart(t *testing.T) {
	url := pgtest.NewDB(t)
	admin := openPG(t, url)
	j, err := store.NewJob("boot", FuncPrefix+"f", schedule.Spec{OnStart: "0s"}, store.DefaultOptions(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, admin, j)
	c := &calls{}
	waitCalls := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(c.list()) < n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		// Then long enough for a second firing to show.
		time.Sleep(500 * time.Millisecond)
		if got := len(c.list()); got != n {
			t.Fatalf("boot ran %d times, want %d", got, n)
		}
	}

	first := fleetMember(t, url, "s0", c, 0, nil)
	waitCalls(1)
	joiner := fleetMember(t, url, "s1", c, 0, nil)
	waitCalls(1)
	for _, s := range []*Scheduler{first, joiner} {
		if err := s.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	}

	// The whole fleet down, two members start at once: one fires it.
	var wg sync.WaitGroup
	members := make([]*Scheduler, 2)
	for i, owner := range []string{"s2", "s3"} {
		wg.Go(func() { members[i] = fleetMember(t, url, owner, c, 0, nil) })
	}
	wg.Wait()
	waitCalls(2)
	for _, s := range members {
		if s != nil {
			s.Shutdown(t.Context())
		}
	}
	for _, r := range viewRuns(t, admin) {
		if r.Outcome != store.Success {
			t.Errorf("run %d: %s (%s)", r.Seq, r.Outcome, r.Reason)
		}
	}
}
