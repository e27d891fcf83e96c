package postgres

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// BenchmarkClaim3 is a fleet's planning throughput: 3 schedulers (one
// handle each, as processes would be) claiming due fire times at once, as
// the planner does and TestClaimsDoNotOverlap checks: each Update takes up
// to 100 due jobs (FOR UPDATE SKIP LOCKED), adds a run of each and advances
// its next run. One op is one fire time claimed; fire_times/s is the
// figure (issue: at least 2000/s).
//
//	go test ./store/postgres -run '^$' -bench Claim3 -benchtime 20000x
func BenchmarkClaim3(b *testing.B) {
	const jobs, claimers, batch = 1000, 3, 100
	url := pgtest.NewDB(b)
	var handles []*Store
	for range claimers {
		s, err := Open(b.Context(), url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		handles = append(handles, s)
	}
	var all []*store.Job
	for i := range jobs {
		all = append(all, storetest.Job(fmt.Sprintf("j%04d", i), 0))
	}
	storetest.Put(b, handles[0], all...)
	// Far enough ahead that every job stays due however often it is
	// claimed: each claim moves it a minute on.
	now := storetest.T0.Add(time.Duration(b.N+1) * time.Minute)
	var claimed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i, s := range handles {
		wg.Go(func() {
			owner := fmt.Sprint("s", i)
			for claimed.Load() < int64(b.N) {
				var n int
				err := s.Update(b.Context(), func(tx store.Tx) error {
					n = 0
					due, err := tx.Due(now, batch)
					if err != nil {
						return err
					}
					for _, j := range due {
						r := &store.Run{JobID: j.ID, FireTime: j.NextRun, Submitted: now, Outcome: store.Running, Owner: owner}
						if err := tx.AddRun(r); err != nil {
							return err
						}
						j.NextRun = j.NextRun.Add(time.Minute)
						if err := tx.PutJob(j); err != nil {
							return err
						}
						n++
					}
					return nil
				})
				if err != nil {
					b.Error(err)
					return
				}
				claimed.Add(int64(n))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	// ns/op is per fire time as b.N asks; the last Updates may claim a
	// few more than b.N, counted in the rate.
	b.ReportMetric(float64(claimed.Load())/elapsed.Seconds(), "fire_times/s")
}
