package runner

import (
	"context"
	"errors"

	"github.com/jobctl/jobctl/store"
)

// Runs that a later fire time of their job ends (overlap cancel_other and
// terminate_other: see policy.go). Each run submitted here is carried out
// under a context of its own, a child of killing, which a Stop cancels
// with a stopCause: a process then gets SIGTERM and the kill grace, or
// SIGKILL at once, and its run is recorded cancelled.

// stopCause is the cause of a run's context cancelled by its Stop.
type stopCause struct{ store.Stop }

func (c *stopCause) Error() string { return c.Reason }

// stopped returns the Stop that ended ctx, if one did.
func stopped(ctx context.Context) (*store.Stop, bool) {
	var c *stopCause
	if errors.As(context.Cause(ctx), &c) {
		return &c.Stop, true
	}
	return nil, false
}

type runKey struct {
	job string
	seq uint64
}

type runContext struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// track gives each run of insts its context, as they are submitted. The
// caller holds s.mu.
func (s *Scheduler) track(insts []*instance) {
	for _, inst := range insts {
		for _, r := range inst.runs {
			ctx, cancel := context.WithCancelCause(s.killing)
			s.runCtx[runKey{r.JobID, r.Seq}] = runContext{ctx, cancel}
		}
	}
}

// contextOf is the context r is carried out under.
func (s *Scheduler) contextOf(r *store.Run) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.runCtx[runKey{r.JobID, r.Seq}]; ok {
		return c.ctx
	}
	return s.killing
}

// untrack forgets r's context, once r has ended or will not start.
func (s *Scheduler) untrack(r *store.Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := runKey{r.JobID, r.Seq}
	if c, ok := s.runCtx[k]; ok {
		c.cancel(nil)
		delete(s.runCtx, k)
	}
}

// stopRuns ends the runs of this scheduler's that a Stop asks to end:
// those still to start never do, the running ones are terminated.
func (s *Scheduler) stopRuns(runs []*store.Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range runs {
		if c, ok := s.runCtx[runKey{r.JobID, r.Seq}]; ok && c.ctx.Err() == nil {
			s.log.Info("stopping a run: a later fire time ends it", "job", r.JobID, "run", r.Seq, "reason", r.Stop.Reason, "kill", r.Stop.Kill)
			c.cancel(&stopCause{*r.Stop})
		}
	}
}
