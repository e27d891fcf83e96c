package web

import (
	"context"
	"sync"
	"time"

	"github.com/jobctl/jobctl/store"
)

const (
	// tailsTimeout bounds a read of a job's runs with their output.
	tailsTimeout = 3 * time.Second
	// tailsTTL is how long such a read is kept: clients reloading a job's
	// page cost the store one read of it a second at most.
	tailsTTL = time.Second
)

// tails reads runs with their output (the board drops it), one read at a
// time: a job's newest runs, as many as the board keeps (get), the last
// answer kept a short while; or one run (run).
type tails struct {
	store store.Store
	runs  int // how many of a job's newest runs get reads: the board's count

	mu   sync.Mutex // held through a read: one at a time
	kept map[string]keptRuns
}

type keptRuns struct {
	at   time.Time
	runs []*store.Run
}

// get returns the newest runs of job id, their output with them.
func (t *tails) get(ctx context.Context, id string) ([]*store.Run, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for job, k := range t.kept {
		if time.Since(k.at) >= tailsTTL {
			delete(t.kept, job)
		}
	}
	if k, ok := t.kept[id]; ok {
		return k.runs, nil
	}
	var runs []*store.Run
	err := t.view(ctx, func(tx store.Tx) (err error) {
		runs, err = tx.Runs(id, t.runs)
		return err
	})
	if err != nil {
		return nil, err
	}
	if t.kept == nil {
		t.kept = map[string]keptRuns{}
	}
	t.kept[id] = keptRuns{time.Now(), runs}
	return runs, nil
}

// run returns run seq of job id with its output, and the job (for its
// zone). An error wrapping store.ErrNotFound comes with a nil job when
// the job is missing, with the job when the run is.
func (t *tails) run(ctx context.Context, id string, seq uint64) (*store.Job, *store.Run, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var job *store.Job
	var run *store.Run
	err := t.view(ctx, func(tx store.Tx) (err error) {
		if job, err = tx.Job(id); err != nil {
			return err
		}
		run, err = tx.Run(id, seq)
		return err
	})
	return job, run, err
}

// view reads the store, bounded by tailsTimeout; t.mu is held. A client
// that gave up does not cancel a read that others may be waiting behind.
func (t *tails) view(ctx context.Context, fn func(store.Tx) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tailsTimeout)
	defer cancel()
	return t.store.View(ctx, fn)
}
