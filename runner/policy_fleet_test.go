package runner

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// TestFleetStopAnotherMembersRun: on PostgreSQL, a fire time that one
// scheduler of a fleet plans under cancel_other ends the run another
// member runs: the planner marks the run and says so in the journal, the
// member running it hears of it, ends it (recorded cancelled), and the
// fire time that waited then runs.
func TestFleetStopAnotherMembersRun(t *testing.T) {
	url := pgtest.NewDB(t)
	admin := openPG(t, url)
	j, err := store.NewJob("long", FuncPrefix+"f", schedule.Spec{Every: "1h"}, store.DefaultOptions(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	j.Options.Overlap = store.OverlapCancelOther
	if err := j.RunNow(time.Now()); err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, admin, j)
	c := &calls{block: make(chan struct{})}
	b := fleetMember(t, url, "b", c, 0, nil)
	defer b.Shutdown(t.Context())
	release := sync.OnceFunc(func() { close(c.block) })
	defer release() // before the shutdown, which waits for the run
	waitFor(t, 10*time.Second, "b to run the job", func() bool { return len(c.list()) == 1 })

	// Another member's planner, at the job's next fire time (brought
	// forward to now).
	fire := time.Now()
	var d *decisions
	err = admin.Update(t.Context(), func(tx store.Tx) error {
		j, err := tx.Job("long")
		if err != nil {
			return err
		}
		j.NextRun, j.NextFire = fire, fire
		if err := tx.PutJob(j); err != nil {
			return err
		}
		d, err = (&planner{owner: "a"}).decide(tx, fire, 0, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.stops) != 0 || len(d.submit) != 0 {
		t.Fatalf("a: stops %v, submitted %v; want none (b runs it; the fire time waits)", d.stops, d.submit)
	}
	waitFor(t, 10*time.Second, "the fire time that waited to run", func() bool { return len(c.list()) == 2 })
	release()
	runs := viewRuns(t, admin)
	var first *store.Run
	for _, r := range runs {
		if r.Seq == 1 {
			first = r
		}
	}
	if first == nil || first.Outcome != store.Cancelled || first.Owner != "b" || !strings.Contains(first.Reason, "cancelled by the fire time") {
		t.Fatalf("the first run: %+v; want b's, cancelled by the fire time", first)
	}
}
