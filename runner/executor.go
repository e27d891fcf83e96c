package runner

import (
	"fmt"
	"time"

	"github.com/jobctl/jobctl/store"
)

// Executors, as in APScheduler: named pools of workers that run the
// instances submitted to them, at most max at once, the rest waiting in
// order. A pool's fields, like the instance counts, are guarded by the
// Scheduler's mu.

// An instance is the runs of one job submitted together, run one after
// another in one worker; it counts once against max instances.
type instance struct {
	job    *store.Job
	runs   []*store.Run
	start  time.Time     // not before: its fire time when planned ahead
	jitter time.Duration // drawn at submission
	epoch  uint64        // of the fleet's lease it was planned under (see mayStart)
	// launched is set, by its worker, once its first process has started
	// or none will (see launches).
	launched bool
}

// A pool is an executor (its name is its key in Scheduler.pools): at most
// max instances run at once, the rest wait in order. Its fields are guarded
// by the Scheduler's mu.
type pool struct {
	max   int
	busy  int
	queue []*instance
}

// submitted counts new instances against their jobs' max instances, as
// they are planned (under one lock, however many), and emits their runs'
// job_submitted.
func (s *Scheduler) submitted(insts []*instance) {
	if len(insts) == 0 {
		return
	}
	s.work.Add(len(insts))
	s.mu.Lock()
	for _, inst := range insts {
		s.instances[inst.job.ID]++
	}
	s.track(insts)
	s.mu.Unlock()
	for _, inst := range insts {
		for _, r := range inst.runs {
			s.log.Debug("run submitted", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "coalesced", r.Coalesced, "executor", inst.job.Options.Executor)
			s.emit(Event{Name: store.EventJobSubmitted, JobID: r.JobID, Run: r})
		}
	}
}

// submit hands an instance to its executor, after its jitter.
func (s *Scheduler) submit(inst *instance) {
	if j := inst.job.Options.Jitter; j > 0 {
		inst.jitter = s.jitter(j)
		s.log.Debug("jitter", "job", inst.job.ID, "delay", inst.jitter)
		go func() {
			t := s.clock.NewTimer(inst.jitter)
			defer t.Stop()
			select {
			case <-t.C():
				s.enqueue(inst)
			case <-s.stopping.Done():
				s.drop(inst, "the scheduler shut down before it started")
			}
		}()
		return
	}
	s.enqueue(inst)
}

// enqueue starts inst in a free worker of its executor, or queues it.
func (s *Scheduler) enqueue(inst *instance) {
	name := inst.job.Options.Executor
	if name == "" {
		name = store.DefaultExecutor
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Err() != nil {
		go s.drop(inst, "the scheduler shut down before it started")
		return
	}
	p := s.pools[name]
	if p == nil {
		s.log.Warn("executor not configured: using one of default size", "executor", name, "workers", store.DefaultMaxWorkers, "job", inst.job.ID)
		p = &pool{max: store.DefaultMaxWorkers}
		s.pools[name] = p
	}
	if p.busy < p.max {
		p.busy++
		s.launches.add()
		go s.worker(p, inst)
		return
	}
	s.log.Debug("waiting for a free worker", "job", inst.job.ID, "executor", name, "busy", p.busy, "queued", len(p.queue))
	p.queue = append(p.queue, inst)
}

// worker runs inst, then the instances queued in its pool, until none is.
func (s *Scheduler) worker(p *pool, inst *instance) {
	for inst != nil {
		s.execute(inst)
		s.mu.Lock()
		inst = nil
		if len(p.queue) > 0 && s.stopping.Err() == nil {
			inst, p.queue = p.queue[0], p.queue[1:]
			s.launches.add()
		} else {
			p.busy--
		}
		s.mu.Unlock()
	}
}

// drainQueues records the queued instances missed, at shutdown.
func (s *Scheduler) drainQueues() {
	s.mu.Lock()
	var left []*instance
	for _, p := range s.pools {
		left = append(left, p.queue...)
		p.queue = nil
	}
	s.mu.Unlock()
	for _, inst := range left {
		s.drop(inst, "the scheduler shut down while it waited for a worker")
	}
}

// abandon records runs of inst that will not start, its last ones.
func (s *Scheduler) abandon(inst *instance, runs []*store.Run, reason string) {
	s.free(inst.job.ID)
	for _, r := range runs {
		s.untrack(r)
		r.Outcome, r.Reason = store.Missed, reason
		s.pings.ended(inst.job.Options.Ping, r)
		s.w.put(r, Event{Name: store.EventJobMissed, JobID: r.JobID, Run: r}, afterRun{})
	}
}

// drop abandons an instance that never started.
func (s *Scheduler) drop(inst *instance, reason string) {
	s.abandon(inst, inst.runs, reason)
	s.work.Done()
}

// free stops counting an instance of job id against its max instances:
// before its last run is recorded, so that whoever sees the record can
// count on it.
func (s *Scheduler) free(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.instances[id]--; s.instances[id] <= 0 {
		delete(s.instances, id)
	}
}

// execute runs an instance's runs one after another, each checked against
// the misfire grace as it starts.
func (s *Scheduler) execute(inst *instance) {
	defer s.work.Done()
	defer s.launched(inst) // if no process started
	j := inst.job
	for i, r := range inst.runs {
		if s.stopping.Err() != nil {
			s.abandon(inst, inst.runs[i:], "the scheduler shut down before it started")
			return
		}
		if !s.mayStart(inst) {
			s.abandon(inst, inst.runs[i:], "this scheduler's lease on the database lapsed before it started (another scheduler may have taken over)")
			return
		}
		now := s.clock.Now()
		due := r.FireTime.Add(inst.jitter)
		ctx := s.contextOf(r)
		var e Event
		stop, isStopped := stopped(ctx)
		switch {
		case isStopped:
			r.Outcome, r.Reason = store.Cancelled, stop.Reason+", before it started"
			e = Event{Name: store.EventJobError, JobID: j.ID, Run: r}
		// A later attempt (a recovered or retried run) is late by its nature.
		case !r.Requested && r.AttemptNumber() == 1 && j.Options.MisfireGrace.Late(due, now):
			r.Outcome = store.Missed
			r.Reason = fmt.Sprintf("started late by %s, more than the misfire grace of %s (waited for a worker)",
				now.Sub(due).Round(time.Millisecond), time.Duration(j.Options.MisfireGrace))
			s.log.Warn("run missed", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "reason", r.Reason)
			e = Event{Name: store.EventJobMissed, JobID: j.ID, Run: r}
		default:
			e = s.runOne(inst, r, ctx)
		}
		s.untrack(r)
		after := s.retry(j, r)
		if !after.retry {
			s.mail.post(j, r) // of an attempt to be retried, the last
		}
		s.pings.ended(j.Options.Ping, r) // a retry pending: a /log
		if i == len(inst.runs)-1 {
			// The instance ends: one of the job's buffered fire times may
			// start (a job that buffers none reads no job to say so). Its
			// count is dropped before its last run is recorded, unless a
			// retry is to follow: that is recorded first, with it.
			after.ended = true
			after.wake = j.Options.Overlap.Buffers() || len(j.Buffered) > 0
			if !after.freeAfter() {
				s.free(j.ID)
			}
		}
		s.w.put(r, e, after)
	}
}

// retry decides whether r, just ended, is tried again under its job's
// retry policy, and when: r.RetryAt (the writer has the final say, with
// the job as it is then).
func (s *Scheduler) retry(j *store.Job, r *store.Run) afterRun {
	p := j.Options.Retry
	if r.Outcome != store.Failed && r.Outcome != store.TimedOut || !p.Retries(r.AttemptNumber()) {
		return afterRun{}
	}
	r.RetryAt = r.Ended.Add(p.After(r.AttemptNumber(), s.retryJitter()))
	s.log.Info("run to be retried", "job", j.ID, "run", r.Seq, "attempt", r.AttemptNumber()+1, "of", p.Max+1, "at", r.RetryAt)
	return afterRun{retry: true, retryAt: r.RetryAt}
}

// launched counts off inst's launch, once: its first process has started,
// or none will.
func (s *Scheduler) launched(inst *instance) {
	if !inst.launched {
		inst.launched = true
		s.launches.done()
	}
}
