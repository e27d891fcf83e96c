// Package storetest is the conformance suite of the store contract: every
// engine (bolt, memory, and any to come) runs Run against itself, so that
// they cannot drift apart. Its helpers (Job, Put, View, ...) are for an
// engine's own tests.
package storetest

import (
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// Run runs the conformance suite against the engine open returns: every
// behaviour of the store contract, as subtests, each on a new empty Store
// (closed at the end of the subtest; closing twice must be harmless).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"JobRoundTripCopies", testJobRoundTrip},
		{"NotFound", testNotFound},
		{"PutJobValidates", testPutJobValidates},
		{"JobsInIDOrder", testJobsInIDOrder},
		{"IndexFollowsChanges", testIndexFollowsChanges},
		{"DueOrderAndLimit", testDueOrderAndLimit},
		{"FarTimes", testFarTimes},
		{"HistoryRetention", testHistoryRetention},
		{"HistoryKeepsRunning", testHistoryKeepsRunning},
		{"RunsOfAllJobs", testRunsOfAllJobs},
		{"PutRunAndRunning", testPutRunAndRunning},
		{"DeleteJobRemovesHistory", testDeleteJobRemovesHistory},
		{"RestoreRun", testRestoreRun},
		{"RollbackOnError", testRollbackOnError},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"ReadOnlyView", testReadOnlyView},
		{"Journal", testJournal},
		{"Settings", testSettings},
		{"Periods", testPeriods},
		{"SetPausedRecordsPauses", testSetPausedRecordsPauses},
		{"ResumePaused", testResumePaused},
		{"Claim", testClaim},
		{"WatchClosesOnCancel", testWatchClosesOnCancel},
		{"WatchSignalsCommits", testWatchSignalsCommits},
		{"Closed", testClosed},
		{"Concurrent", testConcurrent},
		{"ReadsOwnWrites", testReadsOwnWrites},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Job returns an active Job firing every minute, next at T0+next.
func Job(id string, next time.Duration) *store.Job {
	return &store.Job{
		ID:      id,
		Command: "echo " + id,
		Trigger: schedule.Spec{Every: "1m"},
		Anchor:  T0,
		Options: store.Options{MisfireGrace: schedule.Grace(time.Minute), Coalesce: true, MaxInstances: 1, Executor: "default"},
		State:   store.Active,
		NextRun: T0.Add(next),
		Created: T0,
		Updated: T0,
	}
}

func Put(t testing.TB, s store.Store, jobs ...*store.Job) {
	t.Helper()
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for _, j := range jobs {
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func View[T any](t testing.TB, s store.Store, fn func(store.Tx) (T, error)) T {
	t.Helper()
	var v T
	if err := s.View(t.Context(), func(tx store.Tx) (err error) { v, err = fn(tx); return err }); err != nil {
		t.Fatal(err)
	}
	return v
}

func IDs(jobs []*store.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.ID)
	}
	return out
}

func DueIDs(t *testing.T, s store.Store, now time.Time, limit int) []string {
	t.Helper()
	return IDs(View(t, s, func(tx store.Tx) ([]*store.Job, error) { return tx.Due(now, limit) }))
}

func NextRun(t *testing.T, s store.Store) (time.Time, bool) {
	t.Helper()
	var at time.Time
	var ok bool
	if err := s.View(t.Context(), func(tx store.Tx) (err error) { at, ok, err = tx.NextRunTime(); return err }); err != nil {
		t.Fatal(err)
	}
	return at, ok
}
