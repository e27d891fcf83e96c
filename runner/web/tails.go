package web

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jobctl/jobctl/store"
)

const (
	// tailsTimeout bounds a read of runs with their output.
	tailsTimeout = 3 * time.Second
	// tailsPerRead bounds the runs one read decodes (each may keep 64 KiB
	// of output): a short read transaction each.
	tailsPerRead = 10
	// tailsKept bounds the bytes of the tails kept.
	tailsKept = 16 << 20
)

// tails reads runs with their output (the board drops it), one read at a
// time: the tails a job page shows (get), or one run (run). A finished
// run's output never changes, so its tail, once read, is kept (up to
// tailsKept bytes, the oldest read dropped first): clients reloading job
// pages cost the store a read of each run once, not of each page.
type tails struct {
	store store.Store

	mu    sync.Mutex // held through a read: one at a time
	kept  map[tailKey]shownTail
	order []tailKey // kept's keys, oldest first
	size  int       // the bytes kept
}

// tailKey names a run for good: a job removed and added again numbers its
// runs from 1 again, at other times.
type tailKey struct {
	job       string
	seq       uint64
	submitted int64
}

func keyOf(r *store.Run) tailKey { return tailKey{r.JobID, r.Seq, r.Submitted.UnixNano()} }

// shownTail is the end of a run's output, as a page shows it.
type shownTail struct {
	text string
	cut  bool // the output was longer
}

// get returns the tails of the runs of job id (as the board has them),
// by seq: none for a run in progress (its output is kept when it ends).
func (t *tails) get(ctx context.Context, id string, runs []*store.Run) (map[uint64]shownTail, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[uint64]shownTail{}
	var missing []*store.Run
	for _, r := range runs {
		if r.Outcome == store.Running {
			continue
		}
		if s, ok := t.kept[keyOf(r)]; ok {
			out[r.Seq] = s
		} else {
			missing = append(missing, r)
		}
	}
	for len(missing) > 0 {
		batch := missing[:min(len(missing), tailsPerRead)]
		missing = missing[len(batch):]
		var read []*store.Run
		err := t.view(ctx, func(tx store.Tx) error {
			read = read[:0]
			for _, r := range batch {
				got, err := tx.Run(id, r.Seq)
				if errors.Is(err, store.ErrNotFound) {
					continue // trimmed from the history, or its job removed
				}
				if err != nil {
					return err
				}
				if got.Submitted.Equal(r.Submitted) { // not another job's of the same id
					read = append(read, got)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, r := range read {
			s := newShownTail(r.Output)
			out[r.Seq] = s
			t.keep(keyOf(r), s)
		}
	}
	return out, nil
}

// keep keeps s, dropping the oldest kept beyond tailsKept.
func (t *tails) keep(k tailKey, s shownTail) {
	if t.kept == nil {
		t.kept = map[tailKey]shownTail{}
	}
	if _, ok := t.kept[k]; ok {
		return
	}
	t.kept[k] = s
	t.order = append(t.order, k)
	t.size += len(s.text)
	for t.size > tailsKept && len(t.order) > 0 {
		old := t.order[0]
		t.order = t.order[1:]
		t.size -= len(t.kept[old].text)
		delete(t.kept, old)
	}
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
