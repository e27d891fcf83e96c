// Package board keeps a recent picture of a store's jobs and runs (a
// Snapshot) for the readers that must never touch the store themselves:
// the dashboard and API of jobctl run --http, and its metrics. However many
// clients ask, the store sees only the Board's refreshes.
//
// A refresh is a few short read transactions (on bbolt a View holds a
// shared file lock, which delays the scheduler's and the CLI's writes). It
// reads every job record, the runs in progress and the keys of the newest
// runs of all jobs; then, of a job it has seen, only the runs that are new
// or have ended since (a run's output can be 64 KiB: its cost grows with
// what changed, not with the histories). It reads a job's whole window of
// runs when it has not seen it, or the journal says a command changed it, a
// hundred jobs a transaction.
package board

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jobctl/jobctl/store"
)

// DefaultRuns is a Config's Runs unless set.
const DefaultRuns = 50

// idleRefresh is the longest a board goes without a refresh: a fleet's
// members renew their leases without a signal of the store's Watch, and
// a lease that ends is news.
const idleRefresh = 10 * time.Second

// Config is what a Board reads and how often.
type Config struct {
	Store    store.Store
	Now      func() time.Time // nil: time.Now
	Runs     int              // newest runs kept per job, their Output dropped; 0: DefaultRuns
	Interval time.Duration    // least time between two refreshes; 0: time.Second
	Logger   *slog.Logger     // nil: discard
}

// Snapshot is the store as one refresh read it. It is shared by every
// reader: read-only.
type Snapshot struct {
	Seq     uint64 // counts refreshes
	Taken   time.Time
	Paused  bool           // the scheduler's pause, as the store says
	Jobs    []*Job         // in id order
	Members []store.Member // a fleet's schedulers (store.FleetTx); nil on a store one scheduler has
	// StoreTime is the fleet's store's clock, which the members' leases go
	// by, as the refresh read it; zero on a store one scheduler has.
	StoreTime time.Time
}

// StoreNow is now (by this process's clock) by the clock the members'
// leases go by: the store's, off from ours by what it was at the refresh.
func (s *Snapshot) StoreNow(now time.Time) time.Time {
	if s.StoreTime.IsZero() {
		return now
	}
	return now.Add(s.StoreTime.Sub(s.Taken))
}

// Job is a job and its newest runs.
type Job struct {
	*store.Job
	Runs []*store.Run // its newest runs, newest first, Output dropped
}

// Job returns the job of that id, or nil.
func (s *Snapshot) Job(id string) *Job {
	for _, j := range s.Jobs {
		if j.ID == id {
			return j
		}
	}
	return nil
}

// Board refreshes a Snapshot. Its methods may be called from any
// goroutine; Run from one at a time.
type Board struct {
	cfg  Config
	snap atomic.Pointer[Snapshot]
	wake chan struct{} // a pending Poke (capacity 1)

	mu      sync.Mutex
	updated chan struct{} // closed at the next refresh
	err     error         // the last refresh's

	// Owned by Run's goroutine.
	changeSeq uint64 // the journal entry the last refresh saw last
	seen      bool   // changeSeq is known (a refresh has read the journal)
}

// New returns a Board on cfg.Store; Run refreshes it.
func New(cfg Config) *Board {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Runs <= 0 {
		cfg.Runs = DefaultRuns
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Board{cfg: cfg, wake: make(chan struct{}, 1), updated: make(chan struct{})}
}

// Snapshot returns the latest snapshot, nil before the first refresh.
func (b *Board) Snapshot() *Snapshot { return b.snap.Load() }

// Updated returns a channel closed at the next refresh, failed or not.
func (b *Board) Updated() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.updated
}

// Err is the last refresh's failure; nil once one succeeds.
func (b *Board) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Poke says that something happened (an event of the scheduler): a
// refresh follows soon. It never blocks.
func (b *Board) Poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Run refreshes at once, then whenever the store's Watch signals or Poke is
// called, at most every Interval (and at least every 10s), until ctx is
// done; it returns ctx's error. A refresh that fails keeps the last snapshot and is logged.
func (b *Board) Run(ctx context.Context) error {
	watch, err := b.cfg.Store.Watch(ctx)
	if err != nil {
		b.cfg.Logger.Warn("dashboard: not watching the store; refreshing on the scheduler's events only", "error", err)
	}
	idle := time.NewTimer(idleRefresh)
	defer idle.Stop()
	for {
		last := time.Now()
		b.refreshOnce(ctx)
		idle.Reset(idleRefresh)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-watch:
			if !ok {
				watch = nil // the store is closed: its reads fail from now on
			}
		case <-b.wake:
		case <-idle.C:
		}
		// Commits come in bursts (a run's start, its end, the next fire
		// time): one refresh per Interval answers them all.
		if wait := b.cfg.Interval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

// refreshOnce reads a new snapshot, publishes it and wakes the waiters of
// Updated.
func (b *Board) refreshOnce(ctx context.Context) {
	next, err := b.refresh(ctx, b.snap.Load())
	if err != nil {
		if ctx.Err() == nil {
			b.cfg.Logger.Warn("dashboard: reading the store failed; showing the last picture", "error", err)
		}
	} else {
		b.snap.Store(next)
	}
	b.mu.Lock()
	b.err = err
	close(b.updated)
	b.updated = make(chan struct{})
	b.mu.Unlock()
}
