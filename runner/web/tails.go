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
	// tailsRuns is how many of a job's newest runs the read takes, as the
	// board keeps.
	tailsRuns = 50
)

// tails reads the runs of one job with their output (the board drops it),
// one read at a time, keeping the last answer a short while.
type tails struct {
	store store.Store

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
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tailsTimeout)
	defer cancel()
	var runs []*store.Run
	err := t.store.View(ctx, func(tx store.Tx) (err error) {
		runs, err = tx.Runs(id, tailsRuns)
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
