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
	// run's goroutine; refused, set by run's goroutine; and told. The
	// channels are set by newWriter.
	mu      sync.Mutex
	pending []written
	refused int           // the runs of the batch the store refused, while it is tried again
	told    bool          // the shutdown has said that it waits for them
	wake    chan struct{} // capacity one: a pending wake-up stands for many puts
	quit    chan struct{} // closed by close: write what is left, then stop
	done    chan struct{} // closed when run returns
	giveUp  chan struct{} // closed when close's ctx is done: stop retrying
}

type written struct {
	r     *store.Run
	e     Event
	after afterRun
}

// afterRun is what recording a run does to its job besides, in the same
// transaction: from the store, a fleet sees both or neither.
type afterRun struct {
	retry   bool      // store the retry at retryAt as the job's pending one
	retryAt time.Time // r.RetryAt as the run's scheduler decided it
	ended   bool      // its instance ended
	wake    bool      // ... and its job may have buffered fire times to wake
}

// freeAfter reports whether the instance's count is dropped only once the
// run is recorded: its last run's, when a retry follows (see execute).
func (a afterRun) freeAfter() bool { return a.ended && a.retry }

func newWriter(s *Scheduler) *writer {
	return &writer{s: s, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}), giveUp: make(chan struct{})}
}

// put queues r to be written, with what it does to its job, then e to be
// emitted.
func (w *writer) put(r *store.Run, e Event, after afterRun) {
	w.mu.Lock()
	w.pending = append(w.pending, written{r, e, after})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *writer) run() {
	defer close(w.done)
	r := newRetrier(w.s, writerSource, "cannot record runs; trying again", "store error over: runs recorded again")
	// While the store fails, a watch of it brings word of commits (see
	// retry.go); the loop's is the loop's alone.
	var watch <-chan struct{}
	unwatch := func() {}
	defer func() { unwatch() }()
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
		own := false // the write is a retry of the writer's own, after its delay
		for len(batch) > 0 {
			recorded, err := w.write(batch)
			if err == nil {
				for _, b := range batch {
					if b.after.freeAfter() {
						w.s.free(b.r.JobID)
					}
				}
				r.succeeded()
				w.setRefused(0)
				unwatch()
				watch, unwatch = nil, func() {}
				for _, b := range recorded {
					w.s.emit(b.e)
				}
				break
			}
			r.failed(err, own, "runs", len(batch))
			w.setRefused(len(batch))
			select {
			case <-w.quit:
				w.waiting()
			default:
			}
			if watch == nil { // not yet, or closed
				unwatch()
				watch, unwatch = w.watch()
			}
			var ok bool
			if own, _, ok = r.wait(w.giveUp, &watch, nil); !ok {
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

// watch watches the store until unwatch, for run; a store that cannot be
// watched gives a nil channel, which never signals.
func (w *writer) watch() (watch <-chan struct{}, unwatch func()) {
	ctx, cancel := context.WithCancel(context.Background())
	watch, err := w.s.cfg.Store.Watch(ctx)
	if err != nil {
		w.s.log.Debug("cannot watch the store: runs not recorded are tried again only after their delay", "err", err)
	}
	return watch, cancel
}

func (w *writer) setRefused(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.refused = n
}

// waiting says, once, that the shutdown waits for runs the store refuses:
// close calls it, and run when the store refuses them only after close.
func (w *writer) waiting() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refused == 0 || w.told {
		return
	}
	w.told = true
	w.s.log.Warn("shutting down: runs could not be recorded yet; trying again until the store takes them, or until the shutdown gives up on them",
		"runs", w.refused+len(w.pending))
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
	now := w.s.clock.Now()
	err = w.s.cfg.Store.Update(context.Background(), func(tx store.Tx) error {
		recorded = recorded[:0] // tx may be tried again
		for _, b := range batch {
			b.r.RetryAt = time.Time{}
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
				err = w.afterRun(tx, b, now)
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

// afterRun does to b's job what b.after says, as the job is now: a job
// whose retry policy no longer retries, or that has a retry pending
// already, gets none, and b.r no RetryAt.
func (w *writer) afterRun(tx store.Tx, b written, now time.Time) error {
	a := b.after
	if !a.retry && !a.wake {
		return nil
	}
	j, err := tx.Job(b.r.JobID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	r, changed := b.r, false
	if a.retry && j.Retry == nil && j.Broken == "" && j.Options.Retry.Retries(r.AttemptNumber()) {
		changed = true
		r.RetryAt = a.retryAt
		j.Retry = &store.PendingRetry{FireTime: r.FireTime, Attempt: r.AttemptNumber() + 1, At: a.retryAt,
			Coalesced: r.Coalesced, Requested: r.Requested, After: r.Seq}
		j.Wake()
	}
	if a.wake && len(j.Buffered) > 0 {
		j.WakeBuffered(now)
		changed = true
	}
	if !changed {
		return nil
	}
	return tx.PutJob(j)
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
	w.waiting()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.pending); n > 0 {
		return fmt.Errorf("%d runs could not be recorded (the next start records them interrupted)", n)
	}
	return nil
}
