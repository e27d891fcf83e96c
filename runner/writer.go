package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jobctl/jobctl/store"
)

// writer records finished runs. Runs ending together (a burst of short
// jobs) are written in one transaction: one commit, one fsync, however
// many they are. Each run's event is emitted once its record is committed,
// so a listener that reads the history finds it there.
type writer struct {
	s *Scheduler
	// mu guards pending, appended to by the workers (put) and taken by
	// run's goroutine; the channels are set by newWriter.
	mu      sync.Mutex
	pending []written
	wake    chan struct{} // capacity one: a pending wake-up stands for many puts
	quit    chan struct{} // closed by close: write what is left, then stop
	done    chan struct{} // closed when run returns
	giveUp  chan struct{} // closed when close's ctx is done: stop retrying
}

type written struct {
	r *store.Run
	e Event
}

func newWriter(s *Scheduler) *writer {
	return &writer{s: s, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}), giveUp: make(chan struct{})}
}

// put queues r to be written, then e to be emitted.
func (w *writer) put(r *store.Run, e Event) {
	w.mu.Lock()
	w.pending = append(w.pending, written{r, e})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *writer) run() {
	defer close(w.done)
	backoff := minBackoff / 2
	for {
		select {
		case <-w.wake:
		case <-w.quit:
		}
		w.s.launches.wait()
		w.mu.Lock()
		batch := w.pending
		w.pending = nil
		w.mu.Unlock()
		for len(batch) > 0 {
			recorded, err := w.write(batch)
			if err == nil {
				for _, b := range recorded {
					w.s.emit(b.e)
				}
				backoff = minBackoff / 2
				break
			}
			backoff = min(2*backoff, maxBackoff)
			w.s.log.Error("cannot record runs; trying again", "err", err, "runs", len(batch), "in", backoff)
			if !w.sleep(backoff) {
				w.mu.Lock()
				w.pending = append(batch, w.pending...)
				w.mu.Unlock()
				return
			}
			// Runs that ended meanwhile join the retry.
			w.mu.Lock()
			batch = append(batch, w.pending...)
			w.pending = nil
			w.mu.Unlock()
		}
		select {
		case <-w.quit:
			w.mu.Lock()
			left := len(w.pending)
			w.mu.Unlock()
			if left == 0 {
				return
			}
		default:
		}
	}
}

// sleep waits d, and reports false if the writer is to give up instead.
func (w *writer) sleep(d time.Duration) bool {
	t := w.s.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-w.giveUp:
		return false
	}
}

// write records a batch of runs in one transaction, and returns those it
// recorded. A run whose record is gone (its job was removed meanwhile,
// perhaps added again) is dropped, and so is its event: the job's removal
// had its own, and a listener would not find the run.
//
// Its transaction is not bounded by a caller's context: the writer's last
// writes are made as the scheduler shuts down, when the contexts at hand
// are done or about to be. A failing store is tried again (see run) until
// close's context is done.
func (w *writer) write(batch []written) (recorded []written, err error) {
	err = w.s.cfg.Store.Update(context.Background(), func(tx store.Tx) error {
		recorded = recorded[:0] // tx may be tried again
		for _, b := range batch {
			old, err := tx.Run(b.r.JobID, b.r.Seq)
			if errors.Is(err, store.ErrNotFound) || err == nil && !sameRun(old, b.r) {
				w.s.log.Debug("run not recorded: its job was removed", "job", b.r.JobID, "run", b.r.Seq)
				continue
			}
			if err == nil && old.Outcome != store.Running {
				// Another scheduler of a fleet took this one for dead (its
				// lease lapsed) and recorded the run: that record stands.
				w.s.log.Warn("run not recorded: another scheduler recorded it first, taking this one for dead", "job", b.r.JobID, "run", b.r.Seq, "recorded", old.Outcome, "reason", old.Reason, "outcome_here", b.r.Outcome)
				continue
			}
			if err == nil {
				err = tx.PutRun(b.r)
			}
			if err != nil {
				return err
			}
			recorded = append(recorded, b)
		}
		return nil
	})
	return recorded, err
}

// sameRun reports whether the stored run old is the one r records.
func sameRun(old, r *store.Run) bool {
	return old.Owner == r.Owner && old.Submitted.Equal(r.Submitted) && old.FireTime.Equal(r.FireTime)
}

// close writes what is pending and stops the writer; while the store
// fails, it keeps trying until ctx is done.
func (w *writer) close(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { close(w.giveUp) })
	defer stop()
	close(w.quit)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.pending); n > 0 {
		return fmt.Errorf("%d runs could not be recorded (the next start records them interrupted)", n)
	}
	return nil
}
