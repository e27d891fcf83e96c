package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// The figures of issue 3: with 100 and with 100,000 jobs stored, of which
// five are due, the due-job query and NextRunTime (targets: the 100,000 case
// within 2x of the 100 case) and a one-job Update. Run with
//
//	go test ./store/bolt -run '^$' -bench . -benchtime 2s
//
// "View" and "Update" sub-benchmarks pay for opening and closing the file as
// every operation does; "InTx" ones run the query alone in an open
// transaction.

const benchDue = 5

// fill adds n jobs, benchDue of them due at t0 and the rest later, in
// transactions of 10,000.
func fill(b *testing.B, s store.Store, n int) {
	for start := 0; start < n; start += 10000 {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			for i := start; i < min(n, start+10000); i++ {
				j := storetest.Job(fmt.Sprintf("job-%06d", i), time.Duration(i-benchDue+1)*time.Second)
				if err := tx.PutJob(j); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBolt(b *testing.B) {
	for _, n := range []int{100, 100000} {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "jobs.db")
			s := openBolt(b, path, OpenOptions{Create: true})
			fill(b, s, n)

			b.Run("Due/View", func(b *testing.B) {
				for b.Loop() {
					var due []*store.Job
					err := s.View(context.Background(), func(tx store.Tx) (err error) { due, err = tx.Due(storetest.T0, 100); return err })
					if err != nil || len(due) != benchDue {
						b.Fatal(len(due), err)
					}
				}
			})
			b.Run("NextRunTime/View", func(b *testing.B) {
				for b.Loop() {
					err := s.View(context.Background(), func(tx store.Tx) error { _, _, err := tx.NextRunTime(); return err })
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Due/InTx", func(b *testing.B) { inTx(b, path, dueQuery) })
			b.Run("NextRunTime/InTx", func(b *testing.B) { inTx(b, path, nextQuery) })
			b.Run("View/empty", func(b *testing.B) {
				for b.Loop() {
					if err := s.View(context.Background(), func(store.Tx) error { return nil }); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Update/AddJob", func(b *testing.B) {
				i := 0
				for b.Loop() {
					i++
					err := s.Update(context.Background(), func(tx store.Tx) error { return tx.PutJob(storetest.Job(fmt.Sprintf("added-%d", i), time.Hour)) })
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func dueQuery(b *testing.B, t store.Tx) {
	if due, err := t.Due(storetest.T0, 100); err != nil || len(due) != benchDue {
		b.Fatal(len(due), err)
	}
}

func nextQuery(b *testing.B, t store.Tx) {
	if _, ok, err := t.NextRunTime(); err != nil || !ok {
		b.Fatal(ok, err)
	}
}

// inTx times query in one read-only transaction kept open.
func inTx(b *testing.B, path string, query func(*testing.B, store.Tx)) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	btx, err := db.Begin(false)
	if err != nil {
		b.Fatal(err)
	}
	defer btx.Rollback()
	t := newTx(boltTx{btx}, false)
	for b.Loop() {
		query(b, t)
	}
}

func BenchmarkTemp(b *testing.B) {
	for _, n := range []int{100, 100000} {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			s := mustTemp(b)
			defer s.Close()
			fill(b, s, n)
			b.Run("Due", func(b *testing.B) {
				for b.Loop() {
					if err := s.View(context.Background(), func(tx store.Tx) error { dueQuery(b, tx); return nil }); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("NextRunTime", func(b *testing.B) {
				for b.Loop() {
					if err := s.View(context.Background(), func(tx store.Tx) error { nextQuery(b, tx); return nil }); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
