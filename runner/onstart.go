package runner

import (
	"time"

	"github.com/jobctl/jobctl/store"
)

// fireAtStart gives every active job with an on-start trigger its fire time
// for this start at start (store.Job.FireAtStart), in Start's first
// transaction, and returns their ids; the planner then runs them as any
// due job, misfire grace included, and leaves them waiting for the next
// start. Paused jobs do not fire.
//
// On a store shared by a fleet, a start fires them once per start of the
// fleet, not per member: only a scheduler that finds no other live member
// fires them (the jobs are the fleet's, and run on whichever member claims
// them, so a member joining a running fleet is no start of theirs). A
// member killed less than a lease ago still counts as live. Two schedulers
// starting at once both look before the scan, and again after it: Jobs
// locks the jobs' rows, so the second looks again once the first has
// committed, and finds it.
func (s *Scheduler) fireAtStart(tx store.Tx, start time.Time) (fired []string, fleetRunning bool, err error) {
	ftx, shared := tx.(store.FleetTx)
	if shared {
		if fleetRunning, err = s.othersLive(ftx); err != nil || fleetRunning {
			return nil, fleetRunning, err
		}
	}
	var due []*store.Job
	err = tx.Jobs(func(j *store.Job) error {
		if j.FiresAtStart() && j.State == store.Active && j.Broken == "" {
			due = append(due, j)
		}
		return nil
	})
	if err != nil || len(due) == 0 {
		return nil, false, err
	}
	if shared {
		if fleetRunning, err = s.othersLive(ftx); err != nil || fleetRunning {
			return nil, fleetRunning, err
		}
	}
	for _, j := range due {
		ok, err := j.FireAtStart(start)
		if err != nil {
			// A trigger that no longer parses: the planner marks it broken.
			s.log.Error("cannot fire a job at the start", "job", j.ID, "err", err)
			continue
		}
		if !ok {
			continue
		}
		if err := tx.PutJob(j); err != nil {
			return nil, false, err
		}
		fired = append(fired, j.ID)
	}
	return fired, false, nil
}

// othersLive reports whether a member of the fleet other than this
// scheduler holds a live lease, by the store's clock.
func (s *Scheduler) othersLive(ftx store.FleetTx) (bool, error) {
	now, err := ftx.Now()
	if err != nil {
		return false, err
	}
	members, err := ftx.Members()
	if err != nil {
		return false, err
	}
	for _, m := range members {
		if m.ID != s.cfg.Owner && m.Live(now) {
			return true, nil
		}
	}
	return false, nil
}
