package runner

import (
	"context"
	"maps"
	"time"

	"github.com/jobctl/jobctl/store"
)

// loop wakes for the alarm, the store's watch and nothing else, until ctx
// is done; while the store fails, for its retrier (see retry.go). next and
// err are the first tick's. It owns lastSeq and paused.
func (s *Scheduler) loop(ctx context.Context, watch <-chan struct{}, next time.Time, err error) {
	defer close(s.loopDone)
	defer s.looping.Store(false)
	alarm := s.clock.NewAlarm()
	defer alarm.Close()
	r := newRetrier(s, loopSource, "store error; trying again", "store error over: planning again")
	var own bool // the tick just made was a retry of the loop's own
	var synced chan struct{}
	for {
		if ctx.Err() != nil {
			return // a tick cut short by the loop's end is no store error
		}
		if err != nil {
			r.failed(err, own)
			next = time.Time{} // the retrier wakes it
		} else {
			r.succeeded()
		}
		alarm.Set(next)
		if synced != nil {
			close(synced)
			synced = nil
		}
		own = false
		if r.failing() {
			var ok bool
			if own, synced, ok = r.wait(ctx.Done(), &watch, s.syncReq); !ok {
				return
			}
		} else {
			select {
			case <-ctx.Done():
				return
			case <-alarm.C():
			case _, ok := <-watch:
				if !ok {
					watch = nil
				}
			case synced = <-s.syncReq:
			}
		}
		next, _, err = s.tick(ctx)
	}
}

// sync makes the loop wake and look at the store now, and returns when it
// has, and has set its alarm: tests call it after moving a fake clock.
// While the store fails, the loop only does what is due at the clock's
// reading (see retrier.wait): a retry, if its time has come.
func (s *Scheduler) sync() {
	done := make(chan struct{})
	s.syncReq <- done
	<-done
}

// tick runs one planning transaction (see planner.decide) and then acts on
// its decisions; it returns when to wake next (zero: only for a change in
// the store), and whether more jobs are due than it took. It runs on the
// loop's goroutine, or on Start's before the loop starts.
func (s *Scheduler) tick(ctx context.Context) (wake time.Time, more bool, err error) {
	now := s.clock.Now()
	var epoch uint64
	if s.fleet != nil {
		var ok bool
		if ok, epoch = s.fleet.valid(); !ok {
			if !s.lapsed {
				s.log.Warn("waiting for the database to renew this scheduler's lease: no run starts meanwhile")
			}
			s.lapsed = true
			return now.Add(s.fleet.lease / beatsPerLease), false, nil
		}
		if s.lapsed {
			s.log.Info("lease renewed: scheduling again")
		}
		s.lapsed = false
	}
	// Alone on the store, the instances in flight are this scheduler's
	// (and the orphans it watches); in a fleet, decide counts them in the
	// store, fleet-wide.
	var inFlight map[string]int
	if s.fleet == nil {
		s.mu.Lock()
		inFlight = maps.Clone(s.instances)
		s.mu.Unlock()
	}
	var d *decisions
	err = s.cfg.Store.Update(ctx, func(tx store.Tx) (err error) {
		d, err = s.planner.decide(tx, now, s.lastSeq, inFlight)
		return err
	})
	if err != nil {
		return time.Time{}, false, err
	}
	for _, inst := range d.submit {
		inst.epoch = epoch
	}
	s.act(d, now)
	wake, more = d.wake(now)
	switch {
	case d.paused, more:
	case wake.IsZero():
		s.log.Debug("no job scheduled: waiting for a change")
	default:
		s.log.Debug("next wake-up", "at", wake, "fire_time", d.next, "job", d.nextJob, "in", wake.Sub(now))
	}
	return wake, more, nil
}

// act carries out committed decisions: events, log, submissions.
func (s *Scheduler) act(d *decisions, now time.Time) {
	if len(d.changes) > 0 {
		if d.changes[0].Seq > s.lastSeq+1 && s.lastSeq > 0 {
			s.log.Warn("missed some changes to the jobs: the journal moved on", "lost", d.changes[0].Seq-s.lastSeq-1)
		}
		s.lastSeq = d.changes[len(d.changes)-1].Seq
	}
	for _, c := range d.changes {
		if c.Kind == store.StopRun {
			continue // a request to a scheduler (see stopsAsked), not news
		}
		s.log.Info("change", "kind", c.Kind, "job", c.JobID)
		s.emit(Event{Name: string(c.Kind), Time: c.Time, JobID: c.JobID})
	}
	s.mail.configure(d.settings)
	s.pings.configure(d.settings)
	if d.paused != s.paused {
		s.paused = d.paused
		s.pausedSeen.Store(d.paused)
		if d.paused {
			s.log.Info("scheduler paused: no job starts until it is resumed; running jobs go on")
		} else {
			s.log.Info("scheduler resumed")
		}
	}
	for _, err := range d.duplicates {
		s.log.Error("fire time not run here: another scheduler has claimed it already", "err", err)
	}
	for _, j := range d.broken {
		s.log.Error("job is broken and not scheduled", "job", j.ID, "reason", j.Broken)
	}
	for _, e := range d.events {
		r := e.Run
		if r.Outcome == store.Missed {
			s.log.Warn("run missed", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "coalesced", r.Coalesced, "reason", r.Reason)
		} else {
			s.log.Warn("run skipped", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "reason", r.Reason)
		}
		s.emit(e)
	}
	for _, m := range d.missed {
		s.pings.ended(m.ping, m.run)
	}
	s.stopRuns(d.stops)
	for _, id := range d.finished {
		s.log.Info("job finished: its trigger has no more fire times", "job", id)
	}
	// Instances planned ahead start at their fire time: one alarm for each
	// instant.
	s.submitted(d.submit)
	var ahead map[time.Time][]*instance
	for _, inst := range d.submit {
		if !inst.start.After(now) {
			s.submit(inst)
			continue
		}
		if ahead == nil {
			ahead = make(map[time.Time][]*instance)
		}
		ahead[inst.start] = append(ahead[inst.start], inst)
	}
	for at, insts := range ahead {
		go s.submitAt(at, insts)
	}
}

// submitAt submits instances when the wall clock reads at.
func (s *Scheduler) submitAt(at time.Time, insts []*instance) {
	alarm := s.clock.NewAlarm()
	defer alarm.Close()
	alarm.Set(at)
	select {
	case <-alarm.C():
		for _, inst := range insts {
			s.submit(inst)
		}
	case <-s.stopping.Done():
		for _, inst := range insts {
			s.drop(inst, "the scheduler shut down before it started")
		}
	}
}
