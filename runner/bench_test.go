package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jobctl/jobctl/runner/clocktest"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/bolt"
)

// BenchmarkTick is one wake-up of the loop with 100 jobs due, each firing
// every second, on a bbolt file: the work that must be done (lead ahead of
// a fire time) before the first process starts. The runs start no process.
func BenchmarkTick(b *testing.B) {
	st, err := bolt.Open(filepath.Join(b.TempDir(), "jobs.db"), bolt.OpenOptions{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	clock := clocktest.New(t0)
	err = st.Update(context.Background(), func(tx store.Tx) error {
		for i := range 100 {
			j := job(fmt.Sprintf("j%03d", i), schedule.Spec{Cron: "* * * * * *"})
			j.State, j.NextRun = store.Active, t0
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Store: st, Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	s.exec = func(*process, context.Context) exit { return exit{outcome: store.Success} }
	for b.Loop() {
		wake, _, err := s.tick(context.Background())
		if err != nil || !wake.Equal(clock.Now().Add(time.Second-lead)) {
			b.Fatal(wake, err)
		}
		clock.Advance(time.Second)
	}
}
