package web

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestFleetPages: on PostgreSQL, the pages show every member of the fleet,
// whether its lease lasts, and which member ran each run.
func TestFleetPages(t *testing.T) {
	st, err := postgres.Open(t.Context(), pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the board's end
	err = st.Update(t.Context(), func(tx store.Tx) error {
		ftx := tx.(store.FleetTx)
		if err := ftx.Join(store.Member{ID: "alpha:1", Host: "alpha", PID: 1, Version: "v1"}, time.Minute); err != nil {
			return err
		}
		if err := ftx.Join(store.Member{ID: "beta:2", Host: "beta", PID: 2, Version: "v1"}, 0); err != nil {
			return err
		}
		now, err := ftx.Now()
		if err != nil {
			return err
		}
		j, err := store.NewJob("backup", "backup.sh", schedule.Spec{Every: "1h", Timezone: "UTC"}, store.DefaultOptions(), now)
		if err != nil {
			return err
		}
		if err := tx.PutJob(j); err != nil {
			return err
		}
		return tx.AddRun(&store.Run{JobID: "backup", FireTime: now, Submitted: now, Started: now, Outcome: store.Running, Owner: "alpha:1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: &countingStore{Store: st}}
	f.board = board.New(board.Config{Store: st})
	runBoard(t, f.board)
	f.waitSnapshot()
	f.h = New(Config{Board: f.board, Store: st})

	_, dash := f.get("/")
	for _, want := range []string{
		`<h2 id="fleet-h">Fleet</h2>`,
		`<td data-label="Scheduler"><div><code>alpha:1</code></div></td>`,
		`<code>beta:2</code> <span class="pill failed">lease ended</span>`,
		`<td data-label="Runs in progress"><div>1</div></td>`,
		`<span class="pill running">1 running</span>`,
	} {
		if !strings.Contains(dash, want) {
			t.Errorf("dashboard: no %q", want)
		}
	}
	_, page := f.get("/jobs/backup")
	if !strings.Contains(page, "on <code>alpha:1</code>") {
		t.Error("job page: the run does not say that alpha:1 runs it")
	}
	var sched schedulerJSON
	f.getJSON("/api/scheduler", &sched)
	// The shape of jobctl scheduler status -o json, leases judged by the
	// store's clock.
	if len(sched.Members) != 2 || sched.Members[0].ID != "alpha:1" || sched.Members[0].RunsInProgress != 1 ||
		sched.Members[0].Lease != "live" || sched.Members[1].Lease != "expired" {
		t.Errorf("/api/scheduler members: %+v", sched.Members)
	}
}
