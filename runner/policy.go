package runner

import (
	"errors"
	"fmt"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// The planner's part of the run policies: a pending retry (Options.Retry)
// and the overlap policy (Options.Overlap). Both live in the job's record,
// not in a scheduler's memory, so that they hold across restarts and
// across a fleet: a pending retry is Job.Retry, the fire times waiting for
// an instance to end are Job.Buffered, and a running run a later fire time
// ends carries a Stop that its scheduler hears of through the journal.

// startWaiting starts, as of at, j's pending retry if it is due and its
// buffered fire times while it has instances free, held counting them as
// it does: each in an instance of its own. A buffered fire time later than
// the misfire grace by now is recorded missed, not run.
func (p *planner) startWaiting(tx store.Tx, j *store.Job, at, now time.Time, held *int, d *decisions) error {
	o := j.Options
	if w := j.Retry; w != nil && !w.At.After(at) {
		j.Retry = nil // *held counts it already
		r := &store.Run{JobID: j.ID, FireTime: w.FireTime, Attempt: w.Attempt, Coalesced: w.Coalesced, Requested: w.Requested,
			Submitted: now, Outcome: store.Running, Owner: p.owner}
		if ok, err := p.add(tx, r, d); err != nil {
			return err
		} else if ok {
			d.submit = append(d.submit, &instance{job: j, runs: []*store.Run{r}, start: at})
		}
	}
	for len(j.Buffered) > 0 && *held < o.Overlap.Limit(o.MaxInstances) {
		w := j.Buffered[0]
		j.Buffered = j.Buffered[1:]
		r := &store.Run{JobID: j.ID, FireTime: w.FireTime, Coalesced: w.Coalesced, Requested: w.Requested, Buffered: w.Since,
			Submitted: now, Outcome: store.Running, Owner: p.owner}
		late := !w.Requested && o.MisfireGrace.Late(w.FireTime, at)
		if late {
			r.Outcome = store.Missed
			r.Reason = fmt.Sprintf("waited for an instance to end (overlap %s), then was late by %s, more than the misfire grace of %s",
				o.Overlap, at.Sub(w.FireTime).Round(time.Millisecond), time.Duration(o.MisfireGrace))
		}
		ok, err := p.add(tx, r, d)
		if err != nil {
			return err
		}
		switch {
		case !ok:
		case late:
			d.events = append(d.events, Event{Name: store.EventJobMissed, JobID: j.ID, Run: r})
		default:
			*held++
			d.submit = append(d.submit, &instance{job: j, runs: []*store.Run{r}, start: at})
		}
	}
	return nil
}

// buffer keeps fire time f of j waiting for an instance to end, as its
// overlap policy says: the only one waiting (buffer_one, cancel_other,
// terminate_other: the one it replaces is recorded skipped), or one more
// in line (buffer_all, up to store.MaxBuffered: beyond, f is recorded
// skipped). Under cancel_other and terminate_other, f waits for the runs
// that plan has asked to end (see stopOthers).
func (p *planner) buffer(tx store.Tx, j *store.Job, f schedule.Fire, now time.Time, d *decisions) error {
	o := j.Options.Overlap
	w := store.Waiting{FireTime: f.Time, Coalesced: f.Coalesced, Requested: f.Requested, Since: now}
	if o == store.OverlapBufferAll {
		if len(j.Buffered) >= store.MaxBuffered {
			return p.skip(tx, j, w, now, fmt.Sprintf("%d fire times already wait for an instance to end, the most overlap buffer_all keeps", store.MaxBuffered), d)
		}
		j.Buffered = append(j.Buffered, w)
		return nil
	}
	for _, old := range j.Buffered {
		if err := p.skip(tx, j, old, now, fmt.Sprintf("replaced, as it waited for an instance to end, by the newer fire time %s (overlap %s)", f.Time.Format(time.RFC3339), o), d); err != nil {
			return err
		}
	}
	j.Buffered = []store.Waiting{w}
	return nil
}

// skip records a waiting fire time that will not run.
func (p *planner) skip(tx store.Tx, j *store.Job, w store.Waiting, now time.Time, reason string, d *decisions) error {
	r := &store.Run{JobID: j.ID, FireTime: w.FireTime, Coalesced: w.Coalesced, Requested: w.Requested, Buffered: w.Since,
		Submitted: now, Outcome: store.Skipped, Reason: reason, Owner: p.owner}
	if ok, err := p.add(tx, r, d); !ok {
		return err
	}
	d.events = append(d.events, Event{Name: store.EventJobMaxInstances, JobID: j.ID, Run: r})
	return nil
}

// stopOthers asks every running run of j to end, for fire time fire, and
// drops its pending retry (recorded skipped). A run of this scheduler's is
// ended by act; another's, by its scheduler, told through the journal.
func (p *planner) stopOthers(tx store.Tx, j *store.Job, fire, now time.Time, d *decisions) error {
	o := j.Options.Overlap
	verb := "cancelled"
	if o == store.OverlapTerminateOther {
		verb = "terminated"
	}
	reason := fmt.Sprintf("%s by the fire time %s (overlap %s)", verb, fire.Format(time.RFC3339), o)
	if w := j.Retry; w != nil {
		j.Retry = nil
		r := &store.Run{JobID: j.ID, FireTime: w.FireTime, Attempt: w.Attempt, Coalesced: w.Coalesced, Requested: w.Requested,
			Submitted: now, Outcome: store.Skipped, Reason: "retry " + reason, Owner: p.owner}
		if ok, err := p.add(tx, r, d); err != nil {
			return err
		} else if ok {
			d.events = append(d.events, Event{Name: store.EventJobMaxInstances, JobID: j.ID, Run: r})
		}
	}
	running, err := tx.RunningRuns()
	if err != nil {
		return err
	}
	for _, r := range running {
		if r.JobID != j.ID || r.Stop != nil {
			continue
		}
		r.Stop = &store.Stop{FireTime: fire, Kill: o == store.OverlapTerminateOther, Reason: reason}
		if err := tx.PutRun(r); err != nil {
			return err
		}
		if r.Owner == p.owner {
			d.stops = append(d.stops, r)
			continue
		}
		if err := tx.RecordChange(store.Change{Time: now, Kind: store.StopRun, JobID: r.JobID, Run: r.Seq}); err != nil {
			return err
		}
	}
	return nil
}

// busyReason says why a fire time of j found no instance free: inFlight
// of them running, and perhaps a retry waiting.
func busyReason(j *store.Job, inFlight int) string {
	max := j.Options.MaxInstances
	if j.Retry != nil {
		return fmt.Sprintf("%d of max %d instances running, and a retry of the fire time %s waiting to run at %s",
			inFlight, max, j.Retry.FireTime.Format(time.RFC3339), j.Retry.At.Format(time.RFC3339))
	}
	return fmt.Sprintf("%d of max %d instances running", inFlight, max)
}

// busy reports whether j has no instance free, with inFlight of them
// submitted or running.
func busy(j *store.Job, inFlight int) bool {
	if j.Retry != nil {
		inFlight++
	}
	return inFlight >= j.Options.Overlap.Limit(j.Options.MaxInstances)
}

// stopsAsked adds to d the runs of this scheduler's that the journal's
// changes ask to end (see stopOthers), and that still run.
func (p *planner) stopsAsked(tx store.Tx, d *decisions) error {
	for _, c := range d.changes {
		if c.Kind != store.StopRun {
			continue
		}
		r, err := tx.Run(c.JobID, c.Run)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if r.Owner == p.owner && r.Outcome == store.Running && r.Stop != nil {
			d.stops = append(d.stops, r)
		}
	}
	return nil
}
