package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// The history figures of issue 10, on a bbolt file whose jobs each hold a
// full history (100 finished runs):
//
//   - RecordRun: what a tick pays per job, in one open transaction: AddRun
//     of a running run, then PutRun finishing it (which drops the oldest).
//   - RunsOfAll: the newest 20 runs of all jobs (jobctl history without
//     an id), in an open transaction; it must not grow with the jobs.
//
//	go test ./store/bolt -run '^$' -bench 'RecordRun|RunsOfAll' -benchtime 2s

// fillHistory adds jobs jobs with store.DefaultHistoryLimit finished runs
// each, in one file, and returns it open.
func fillHistory(b *testing.B, jobs int) store.Store {
	s := openBolt(b, filepath.Join(b.TempDir(), "jobs.db"), OpenOptions{Create: true})
	for start := 0; start < jobs; start += 100 {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			for i := start; i < min(jobs, start+100); i++ {
				j := storetest.Job(fmt.Sprintf("job-%06d", i), time.Duration(i)*time.Second)
				if err := tx.PutJob(j); err != nil {
					return err
				}
				for k := range store.DefaultHistoryLimit {
					r := storetest.RunOf(j.ID, k, store.Success)
					r.Submitted = storetest.T0.Add(time.Duration(k)*time.Minute + time.Duration(i)*time.Millisecond)
					if err := tx.AddRun(r); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func BenchmarkRecordRun(b *testing.B) {
	s := fillHistory(b, 100)
	inWriteTx(b, s, func(tx store.Tx) {
		i := 0
		for b.Loop() {
			r := &store.Run{JobID: fmt.Sprintf("job-%06d", i%100), FireTime: storetest.T0, Submitted: storetest.T0.Add(time.Duration(i) * time.Hour), Outcome: store.Running}
			if err := tx.AddRun(r); err != nil {
				b.Fatal(err)
			}
			r.Outcome = store.Success
			if err := tx.PutRun(r); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkRunsOfAll(b *testing.B) {
	for _, jobs := range []int{10, 1000} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			s := fillHistory(b, jobs)
			err := s.View(context.Background(), func(tx store.Tx) error {
				for b.Loop() {
					runs, err := tx.Runs("", 20)
					if err != nil || len(runs) != 20 {
						b.Fatal(len(runs), err)
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// inWriteTx runs fn in one write transaction that is rolled back, so every
// iteration meets the same file.
func inWriteTx(b *testing.B, s store.Store, fn func(store.Tx)) {
	errRollback := fmt.Errorf("rollback")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		fn(tx)
		return errRollback
	})
	if err != errRollback {
		b.Fatal(err)
	}
}
