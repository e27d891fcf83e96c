package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jobctl/jobctl/store"
)

// FuncPrefix starts the command of a job that runs a Go function: a job
// whose Command is FuncPrefix+NAME ("func:backup") runs Config.Funcs[NAME]
// in place of a shell command.
const FuncPrefix = "func:"

// A Func is a Go function that jobs run in place of a shell command (see
// Config.Funcs), in their executor's workers as a command would, under the
// same rules: misfire grace, coalescing, max instances, timeout, history.
//
// ctx is cancelled when the job's timeout elapses (the run is then recorded
// timed out) or when the scheduler stops without waiting for its runs (the
// run is then recorded interrupted): a Func must return soon after, as a
// goroutine cannot be killed. What it writes to out is the run's output,
// as a command's stdout and stderr: the end of it recorded with the run,
// all of it in the job's log file and Config.Output, line by line. Its
// error is the run's outcome: nil is success, an error a failure with the
// error's text as the reason; a panic is a failure too. The job's dir and
// env options, which are a process's, do not apply.
type Func func(ctx context.Context, c Call, out io.Writer) error

// A Call is what a Func is told of the run it carries out.
type Call struct {
	JobID    string
	Run      uint64    // the run's number, as jobctl logs ID RUN takes it
	FireTime time.Time // the fire time it is for
	Attempt  int       // which attempt at FireTime the run is, from 1 (see store.Run.Attempt)
}

// errTimedOut is the cause of a Func's context cancelled by its timeout.
var errTimedOut = errors.New("timed out")

// call runs the Func name for run r of inst, as (*process).run runs a
// command: its output to raw and, a line at a time, to line; started is
// called as it starts.
func (s *Scheduler) call(runCtx context.Context, name string, inst *instance, r *store.Run, raw io.Writer, line func([]byte), started func(time.Time, error)) exit {
	e := exit{started: s.clock.Now()}
	f := s.cfg.Funcs[name]
	if f == nil {
		err := fmt.Errorf("no Go function %q in the scheduler's Funcs", name)
		started(e.started, err)
		e.ended, e.outcome, e.reason = e.started, store.Failed, "cannot start: "+err.Error()
		return e
	}
	ctx, cancel := context.WithCancelCause(runCtx)
	defer cancel(nil)
	if d := inst.job.Options.Timeout; d > 0 {
		t := s.clock.NewTimer(d)
		defer t.Stop()
		go func() {
			select {
			case <-t.C():
				cancel(errTimedOut)
			case <-ctx.Done():
			}
		}()
	}
	pr, pw := io.Pipe()
	read := make(chan struct{})
	go func() {
		defer close(read)
		copyLines(io.TeeReader(pr, raw), line)
	}()
	started(e.started, nil)
	err := protect(func() error {
		return f(ctx, Call{JobID: r.JobID, Run: r.Seq, FireTime: r.FireTime, Attempt: r.AttemptNumber()}, pw)
	})
	e.ended = s.clock.Now()
	cause := context.Cause(ctx)
	pw.Close() // a write after the Func returned fails: it is not the run's
	<-read
	switch {
	case errors.Is(cause, errTimedOut):
		e.outcome, e.reason = store.TimedOut, "timed out after "+inst.job.Options.Timeout.String()
	case errors.As(cause, new(*stopCause)):
		e.outcome, e.reason = store.Cancelled, cause.Error()
	case cause != nil:
		e.outcome, e.reason = store.Interrupted, "terminated: the scheduler shut down"
	case err != nil:
		e.outcome, e.reason = store.Failed, err.Error()
	default:
		e.outcome = store.Success
	}
	return e
}

// protect calls f, turning a panic into an error.
func protect(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return f()
}
