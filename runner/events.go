package runner

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jobctl/jobctl/store"
)

// An Event is something the scheduler did or saw.
type Event struct {
	Name  string    // one of store.EventNames
	Time  time.Time // when the scheduler saw it
	JobID string    // "" for scheduler events
	// Run is the run a job_submitted, job_started, job_executed, job_error, job_missed
	// or job_max_instances event is about, as recorded.
	Run *store.Run
}

// Env is the event as environment variables for a listener's command:
// JOBCTL_EVENT, JOBCTL_JOB_ID, and for a run JOBCTL_RUN_ID, JOBCTL_FIRE_TIME
// (RFC 3339), JOBCTL_ATTEMPT, JOBCTL_OUTCOME, JOBCTL_EXIT_CODE,
// JOBCTL_SIGNAL and JOBCTL_REASON when known.
func (e Event) Env() []string {
	env := []string{"JOBCTL_EVENT=" + e.Name}
	if e.JobID != "" {
		env = append(env, "JOBCTL_JOB_ID="+e.JobID)
	}
	if r := e.Run; r != nil {
		env = append(env, "JOBCTL_RUN_ID="+strconv.FormatUint(r.Seq, 10))
		env = append(append(env, runVars(r)...), "JOBCTL_OUTCOME="+string(r.Outcome))
		if r.ExitCode != nil {
			env = append(env, "JOBCTL_EXIT_CODE="+strconv.Itoa(*r.ExitCode))
		}
		if r.Signal != "" {
			env = append(env, "JOBCTL_SIGNAL="+r.Signal)
		}
		if r.Reason != "" {
			env = append(env, "JOBCTL_REASON="+r.Reason)
		}
	}
	return env
}

// emit passes e to the Events hook and the listeners, with a copy of its
// run: the run goes on changing, and they may read it later.
func (s *Scheduler) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = s.clock.Now()
	}
	if e.Run != nil {
		r := *e.Run
		e.Run = &r
	}
	if s.cfg.Events != nil {
		s.cfg.Events(e)
	}
	s.ls.emit(e)
}

const (
	// listenerQueue bounds the events waiting for a listener command; when
	// it is full, further events are dropped (and logged) rather than
	// holding up the scheduler.
	listenerQueue = 256
	// listenerWorkers is how many listener commands run at once.
	listenerWorkers = 4
	// listenerTimeout bounds one listener command.
	listenerTimeout = time.Minute
)

// listeners runs listener commands off the scheduler's path: a bounded
// queue served by a few workers.
type listeners struct {
	list   []store.Listener
	queue  chan listenerCall
	log    *slog.Logger
	run    func(ctx context.Context, l store.Listener, e Event) // runs one command
	wg     sync.WaitGroup
	cancel context.CancelFunc // kills the commands running
}

type listenerCall struct {
	l store.Listener
	e Event
}

func newListeners(list []store.Listener, log *slog.Logger, run func(context.Context, store.Listener, Event)) *listeners {
	ctx, cancel := context.WithCancel(context.Background())
	ls := &listeners{list: list, queue: make(chan listenerCall, listenerQueue), log: log, run: run, cancel: cancel}
	if len(list) == 0 {
		return ls
	}
	for range listenerWorkers {
		ls.wg.Go(func() {
			for c := range ls.queue {
				ls.run(ctx, c.l, c.e)
			}
		})
	}
	return ls
}

// emit queues e for the listeners that take it, never blocking.
func (ls *listeners) emit(e Event) {
	for _, l := range ls.list {
		if !slices.Contains(l.Events, e.Name) {
			continue
		}
		select {
		case ls.queue <- listenerCall{l, e}:
		default:
			ls.log.Warn("listener queue full: event dropped", "event", e.Name, "job", e.JobID, "command", l.Command)
		}
	}
}

// close lets the queued calls run until ctx is done, then kills the
// commands still running, and waits for them.
func (ls *listeners) close(ctx context.Context) {
	close(ls.queue)
	done := make(chan struct{})
	go func() {
		ls.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		// The queue is drained by the workers, each call now failing at once.
		ls.cancel()
		<-done
	}
	ls.cancel()
}

// runListener runs one listener command for one event.
func (s *Scheduler) runListener(ctx context.Context, l store.Listener, e Event) {
	if ctx.Err() != nil {
		s.log.Warn("listener not run: shutting down", "event", e.Name, "command", l.Command)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, listenerTimeout)
	defer cancel()
	out := newTail(4 << 10)
	p := &process{
		argv:      append(slices.Clone(s.cfg.Shell), l.Command),
		env:       append(slices.Clone(s.cfg.Environ), e.Env()...),
		killGrace: s.cfg.KillGrace,
		clock:     RealClock{}, // a listener's time limit is a safety net, not a schedule
		children:  s.children,
		raw:       out,
		line:      func([]byte) {},
	}
	x := p.run(ctx)
	if x.escaped {
		s.log.Warn(escapedNote, "event", e.Name, "job", e.JobID, "command", l.Command)
	}
	if x.outcome != store.Success {
		reason := x.reason
		if ctx.Err() == context.DeadlineExceeded {
			reason = "timed out after " + listenerTimeout.String()
		}
		s.log.Warn("listener failed", "event", e.Name, "job", e.JobID, "command", l.Command, "reason", reason, "output", out.String())
		return
	}
	s.log.Debug("listener ran", "event", e.Name, "job", e.JobID, "command", l.Command)
}
