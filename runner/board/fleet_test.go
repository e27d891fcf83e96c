package board

import (
	"os"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestFleetMembers: on a store a fleet shares, the snapshot has its
// members, and the runs of every member.
func TestFleetMembers(t *testing.T) {
	st, err := postgres.Open(t.Context(), pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(t.Context(), func(tx store.Tx) error {
		ftx := tx.(store.FleetTx)
		for _, id := range []string{"host-a:1", "host-b:2"} {
			if err := ftx.Join(store.Member{ID: id, Host: id[:6], PID: 1, Version: "test"}, time.Minute); err != nil {
				return err
			}
		}
		j, err := store.NewJob("backup", "true", cronSpec, store.DefaultOptions(), t0)
		if err != nil {
			return err
		}
		if err := tx.PutJob(j); err != nil {
			return err
		}
		now, err := ftx.Now()
		if err != nil {
			return err
		}
		return tx.AddRun(&store.Run{JobID: "backup", FireTime: now, Submitted: now, Started: now, Outcome: store.Running, Owner: "host-b:2"})
	})
	if err != nil {
		t.Fatal(err)
	}
	// This process's clock an hour slow: the leases go by the store's.
	b := New(Config{Store: st, Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	b.refreshOnce(t.Context())
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	s := b.Snapshot()
	if len(s.Members) != 2 || s.Members[0].ID != "host-a:1" || s.Members[1].Running != 1 {
		t.Errorf("members %+v, want host-a:1 and host-b:2 running 1", s.Members)
	}
	if got := s.StoreNow(s.Taken.Add(time.Minute)).Sub(time.Now()); got < 50*time.Second || got > 70*time.Second {
		t.Errorf("StoreNow a minute after the refresh is %v from the store's now, want about a minute", got)
	}
	if j := s.Job("backup"); j == nil || len(j.Runs) != 1 || j.Runs[0].Owner != "host-b:2" {
		t.Errorf("backup's runs in the snapshot: %+v", j)
	}
}
