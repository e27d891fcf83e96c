package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jobctl/jobctl/store"
)

// A fleet is several schedulers sharing one store (a store.FleetTx
// store: PostgreSQL), on any machines. Each joins as a member and renews
// a lease every lease/beatsPerLease, by the store's clock; a member whose
// lease has ended is dead to the others: the first survivor to notice
// records its runs in progress interrupted, naming it, re-runs those of
// jobs that recover (as a new attempt), and removes it. Its jobs need no
// taking over: no one holds their rows, so they keep firing on the others.
//
// A member that finds its lease lost (paused by SIGSTOP, or cut off from
// the store, for longer than the lease) joins again, and starts none of
// the runs it planned before (epoch): a survivor may have taken them over.
// Between renewals it trusts its lease only until the renewal's start plus
// the lease, by this host's monotonic clock: never longer than the store
// does.
//
// The store's clock is the fleet's: each renewal measures this host's
// offset from it, corrects the scheduler's clock by it, and says so in the
// log when it is more than a second.

// DefaultLease is a Config's Lease unless set: with renewals every 2 s, a
// dead member's runs are taken over within about 12 s.
const DefaultLease = 10 * time.Second

// beatsPerLease is how many renewals a lease outlasts.
const beatsPerLease = 5

// maxSkew is how far a host's clock may be off the store's before the log
// says so.
const maxSkew = time.Second

// fleet is a member's state. Its fields are guarded by mu: read by the
// workers (mayStart) and the loop, written by Start and the heartbeat.
type fleet struct {
	member store.Member
	lease  time.Duration

	mu         sync.Mutex
	validUntil time.Time // by time.Now's monotonic clock
	epoch      uint64    // bumped when the lease is found lost

	// takeMu is held by a takeover, from its transaction until the runs
	// it recovered are submitted, and by Shutdown as it ends takeovers
	// (closed), so that none submits while it waits for the runs to end.
	takeMu sync.Mutex
	closed bool

	skewed bool // the log has said the clock is off: owned by the heartbeat
}

// endTakeovers waits for a takeover under way, and stops any more.
func (f *fleet) endTakeovers() {
	f.takeMu.Lock()
	f.closed = true
	f.takeMu.Unlock()
}

// valid reports whether the lease holds now, and the epoch it holds in.
func (f *fleet) valid() (bool, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Before(f.validUntil), f.epoch
}

// renewed records a renewal begun at sent; lost says the lease had lapsed
// before it (the member joined again).
func (f *fleet) renewed(sent time.Time, lost bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if lost {
		f.epoch++
	}
	f.validUntil = sent.Add(f.lease)
}

// newFleet is the state of the member that the scheduler of session is,
// with a lease of lease (0: DefaultLease).
func newFleet(session store.Period, lease time.Duration) *fleet {
	if lease <= 0 {
		lease = DefaultLease
	}
	return &fleet{
		member: store.Member{ID: session.Scheduler, Host: session.Host, PID: session.PID, Version: session.Version},
		lease:  lease,
	}
}

// mayStart reports whether inst may start: always, alone on a store; in a
// fleet, while the lease it was planned under holds.
func (s *Scheduler) mayStart(inst *instance) bool {
	if s.fleet == nil {
		return true
	}
	ok, epoch := s.fleet.valid()
	return ok && epoch == inst.epoch
}

// takeOver is what a member found and did about dead members.
type takeOver struct {
	interrupted []*store.Run
	pings       map[*store.Run]string // the interrupted runs' jobs' Ping
	recovered   []*instance
}

// renewal is what one renewal transaction found.
type renewal struct {
	lost  bool // the lease had lapsed: the member joined again
	probe clockProbe
	took  *takeOver // what the first (Start's) took over, else nil
}

// clockProbe is a reading of the store's clock, between two readings of
// the scheduler's own (Config.Clock).
type clockProbe struct{ sent, store, recv time.Time }

// maxProbe bounds the time a clock probe may take to be trusted: its
// reading of the offset is off by up to half of it.
const maxProbe = 200 * time.Millisecond

func (s *Scheduler) probeClock(ftx store.FleetTx) (p clockProbe, err error) {
	p.sent = s.cfg.Clock.Now()
	p.store, err = ftx.Now()
	p.recv = s.cfg.Clock.Now()
	return p, err
}

// join registers this scheduler in the fleet, in Start's transaction: an
// earlier scheduler of this id (a restart, a pid reused) leaves, and its
// runs in progress are taken over with the dead's.
func (s *Scheduler) join(ftx store.FleetTx) (renewal, error) {
	var r renewal
	var err error
	if r.probe, err = s.probeClock(ftx); err != nil {
		return r, err
	}
	if err := ftx.Leave(s.fleet.member.ID); err != nil {
		return r, err
	}
	dead := map[string]string{s.cfg.Owner: fmt.Sprintf("its scheduler %s was restarted while it ran", s.cfg.Owner)}
	if r.took, err = s.reap(ftx, r.probe.store, dead); err != nil {
		return r, err
	}
	return r, ftx.Join(s.fleet.member, s.fleet.lease)
}

// renew renews the lease in ftx, joining again if it had lapsed: a short
// transaction of its own, so that a slow takeover never costs the lease.
func (s *Scheduler) renew(ftx store.FleetTx) (renewal, error) {
	f := s.fleet
	var r renewal
	var err error
	if r.probe, err = s.probeClock(ftx); err != nil {
		return r, err
	}
	ok, err := ftx.Renew(f.member.ID, f.lease)
	if err != nil {
		return r, err
	}
	// Lost but still a member (not yet taken for dead), it keeps its runs
	// in progress: they are still its own.
	if r.lost = !ok; r.lost {
		err = ftx.Join(f.member, f.lease)
	}
	return r, err
}

// renewed acts on a committed renewal, begun at sent by time.Now.
func (s *Scheduler) renewed(r renewal, sent time.Time) {
	s.fleet.renewed(sent, r.lost)
	if r.lost {
		s.log.Error("this scheduler's lease had lapsed (it was paused, or cut off from the database, for longer than the lease): it has joined again; the runs it had planned do not start, and other schedulers may have taken over its runs in progress", "lease", s.fleet.lease)
	}
	s.measureSkew(r.probe)
	if r.took != nil {
		s.tookOver(r.took)
	}
}

// reap takes over from the dead: members whose lease has ended (each
// held by this transaction, and passed over when another survivor holds
// it) leave the fleet, and the runs in progress of owners who are not
// members are recorded interrupted, with why: dead[owner], else that the
// owner is not in the fleet.
func (s *Scheduler) reap(ftx store.FleetTx, now time.Time, dead map[string]string) (*takeOver, error) {
	expired, err := ftx.Expired()
	if err != nil {
		return nil, err
	}
	for _, m := range expired {
		if m.ID == s.cfg.Owner {
			continue // renewed, or joined again, in this transaction
		}
		dead[m.ID] = fmt.Sprintf("its scheduler %s (host %s, pid %d) stopped renewing its lease: last heartbeat %s, lease ended %s; taken over by %s",
			m.ID, m.Host, m.PID, m.Heartbeat.Format(time.RFC3339), m.LeaseUntil.Format(time.RFC3339), s.cfg.Owner)
		if err := ftx.Leave(m.ID); err != nil {
			return nil, err
		}
	}
	runs, err := ftx.Orphaned()
	if err != nil {
		return nil, err
	}
	t := &takeOver{}
	for _, r := range runs {
		why, ok := dead[r.Owner]
		if !ok {
			why = fmt.Sprintf("its scheduler %s is not in the fleet (it left, or ran before the fleet); taken over by %s", r.Owner, s.cfg.Owner)
		}
		r.Outcome, r.Reason = store.Interrupted, why
		if err := ftx.PutRun(r); err != nil {
			return nil, err
		}
		if err := store.RunEnded(ftx, r, now); err != nil {
			return nil, err
		}
		t.interrupted = append(t.interrupted, r)
		if t.pings, err = pingOf(ftx, r, t.pings); err != nil {
			return nil, err
		}
		inst, err := s.recover(ftx, r, now)
		if err != nil {
			return nil, err
		}
		if inst != nil {
			t.recovered = append(t.recovered, inst)
		}
	}
	return t, nil
}

// recover adds the next attempt at an interrupted run's fire time, owned
// by this scheduler, if its job recovers; nil if it does not.
func (s *Scheduler) recover(tx store.Tx, r *store.Run, now time.Time) (*instance, error) {
	j, err := tx.Job(r.JobID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil || !j.Options.Recover || j.Broken != "" {
		return nil, err
	}
	next := &store.Run{JobID: r.JobID, FireTime: r.FireTime, Attempt: r.AttemptNumber() + 1, Coalesced: r.Coalesced,
		Requested: r.Requested, Submitted: now, Outcome: store.Running, Owner: s.cfg.Owner}
	if err := tx.AddRun(next); errors.Is(err, store.ErrDuplicateRun) {
		return nil, nil // another survivor has
	} else if err != nil {
		return nil, err
	}
	return &instance{job: j, runs: []*store.Run{next}, start: now}, nil
}

// heartbeat renews the lease until ctx is done.
func (s *Scheduler) heartbeat(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.fleet.lease / beatsPerLease)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.beat(ctx)
	}
}

// beat renews the lease (or joins again), and then takes over from dead
// members, each in a transaction of its own.
func (s *Scheduler) beat(ctx context.Context) {
	f := s.fleet
	ctx, cancel := context.WithTimeout(ctx, f.lease/2)
	defer cancel()
	sent := time.Now()
	var r renewal
	err := s.cfg.Store.Update(ctx, func(tx store.Tx) (err error) {
		r, err = s.renew(tx.(store.FleetTx)) // Start checked
		return err
	})
	if err != nil {
		if ok, _ := f.valid(); ok {
			s.log.Error("cannot renew this scheduler's lease; trying again", "err", err)
		} else {
			s.log.Error("cannot renew this scheduler's lease: no run starts until it is", "err", err)
		}
		return
	}
	s.renewed(r, sent)
	f.takeMu.Lock()
	defer f.takeMu.Unlock()
	if f.closed {
		return // shutting down, it leaves takeovers to the others
	}
	var t *takeOver
	err = s.cfg.Store.Update(ctx, func(tx store.Tx) (err error) {
		t, err = s.reap(tx.(store.FleetTx), s.clock.Now(), map[string]string{})
		return err
	})
	if err != nil {
		s.log.Error("cannot take over from dead schedulers; trying again at the next renewal", "err", err)
		return
	}
	s.tookOver(t)
}

// measureSkew compares the store's clock with the scheduler's, from a
// probe quick enough to tell.
func (s *Scheduler) measureSkew(p clockProbe) {
	rtt := p.recv.Sub(p.sent)
	if rtt > maxProbe {
		return
	}
	off := p.store.Sub(p.sent.Add(rtt / 2))
	f := s.fleet
	skewed := off > maxSkew || off < -maxSkew
	if skewed && !f.skewed {
		s.log.Warn("this host's clock is off the database's: going by the database's", "offset", off.Round(time.Millisecond))
	}
	f.skewed = skewed
	s.skew.off.Store(int64(off))
}

// tookOver reports and starts what a takeover found.
func (s *Scheduler) tookOver(t *takeOver) {
	for _, r := range t.interrupted {
		s.log.Warn("run interrupted", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "reason", r.Reason)
		s.emit(Event{Name: store.EventJobError, JobID: r.JobID, Run: r})
		s.pings.ended(t.pings[r], r)
	}
	if len(t.recovered) == 0 {
		return
	}
	_, epoch := s.fleet.valid()
	for _, inst := range t.recovered {
		inst.epoch = epoch
		r := inst.runs[0]
		s.log.Info("run recovered: running its fire time again", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "attempt", r.Attempt)
	}
	s.submitted(t.recovered)
	for _, inst := range t.recovered {
		s.submit(inst)
	}
}

// leave stops the heartbeat and leaves the fleet, once every run is
// recorded: until then the lease holds, so that no one takes over a run
// this scheduler is still recording.
func (s *Scheduler) leave() {
	s.stopBeat()
	<-s.beatDone
	ctx, cancel := context.WithTimeout(context.Background(), s.fleet.lease)
	defer cancel()
	err := s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		return tx.(store.FleetTx).Leave(s.cfg.Owner)
	})
	if err != nil {
		s.log.Warn("cannot leave the fleet: the others will take this scheduler for dead when its lease ends", "err", err)
	}
}
