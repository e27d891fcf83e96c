package runner

import (
	"errors"
	"fmt"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// A planner decides what the scheduler does about the jobs due, in one store
// transaction, and does nothing else: it reads and writes only through the
// Tx it is given, starts nothing and emits nothing. The loop acts on its
// decisions once the transaction has committed (see Scheduler.act), so that
// a crash between the two never runs a fire time twice; and a test can
// check the decisions over a memory store's Tx, without a goroutine.
type planner struct {
	owner string // the Owner of the runs it submits
	// zone is the local zone's name, given to jobs stored without a zone
	// (by an older jobctl) as they are planned: the zone they fired in.
	zone string
	// nextJob makes decide look up which job is due next, for the debug
	// log.
	nextJob bool
}

// decisions are what one planning transaction decided.
type decisions struct {
	changes  []store.Change // the journal's entries since the last read
	paused   bool           // the scheduler is paused: nothing was planned
	settings store.Settings // as read, for the mail settings
	events   []Event        // missed and skipped runs
	missed   []missedPing   // the missed runs of jobs with a Ping
	submit   []*instance    // to hand to executors
	finished []string       // jobs whose trigger has no more fire times
	broken   []*store.Job
	// duplicates are fire times AddRun found another scheduler had
	// claimed already (a store shared by a fleet): not run here.
	duplicates []error
	// stops are this scheduler's runs that a later fire time ends (overlap
	// cancel_other, terminate_other); other schedulers' hear of theirs
	// through the journal (store.StopRun).
	stops   []*store.Run
	next    time.Time // the earliest next run time, zero: none
	nextJob string    // the job due then, if asked for
	more    bool      // a full batch was due: look again at once
}

// missedPing is a run missed by the planning, to ping j's check with.
type missedPing struct {
	ping string // its job's Options.Ping
	run  *store.Run
}

// decide reads, in tx, the journal after entry since, the scheduler's
// paused setting and the jobs due by now (and within lead of it), plans
// each due job with plan, and reads the next run time. inFlight counts the
// instances of each job submitted or running, as they were before tx; it is
// only read (tx may be tried again). On a store shared by a fleet it is
// not given: decide counts the runs in progress there, every scheduler's. Each job is due once in a transaction,
// so its instance planned there need not be counted in it.
//
// A job whose fire time comes within lead is planned ahead, as if at its
// fire time, and its instance starts at that instant (instance.start): the
// transaction (and its fsync) is then off the path from the fire time to
// the process. The one decision that could come out differently at the
// fire time, max instances reached (an instance may end meanwhile), is not
// taken ahead: such a job waits for its fire time.
func (p *planner) decide(tx store.Tx, now time.Time, since uint64, inFlight map[string]int) (*decisions, error) {
	d := &decisions{}
	var err error
	if d.changes, err = tx.ChangesSince(since); err != nil {
		return nil, err
	}
	if err := p.stopsAsked(tx, d); err != nil {
		return nil, err
	}
	set, err := tx.Settings()
	if err != nil {
		return nil, err
	}
	d.settings = set
	if d.paused = set.Paused; d.paused {
		return d, nil
	}
	due, err := tx.Due(now.Add(lead), dueBatch)
	if err != nil {
		return nil, err
	}
	d.more = len(due) == dueBatch
	if ftx, shared := tx.(store.FleetTx); shared && len(due) > 0 {
		ids := make([]string, len(due))
		for i, j := range due {
			ids[i] = j.ID
		}
		if inFlight, err = ftx.RunningOf(ids); err != nil {
			return nil, err
		}
	}
	for _, j := range due {
		at := now
		if j.NextRun.After(now) {
			if j.Broken == "" && busy(j, inFlight[j.ID]) {
				continue // decided at its fire time
			}
			at = j.NextRun
		}
		if err := p.plan(tx, j, at, now, inFlight[j.ID], d); err != nil {
			return nil, err
		}
	}
	if d.next, _, err = tx.NextRunTime(); err != nil {
		return nil, err
	}
	if p.nextJob && !d.next.IsZero() {
		if js, err := tx.Due(d.next, 1); err == nil && len(js) == 1 {
			d.nextJob = js[0].ID
		}
	}
	return d, nil
}

// heldRetry is how soon a job passed over because another transaction
// held it is looked at again.
const heldRetry = 50 * time.Millisecond

// wake says when the loop is to look at the store again after d, decided
// at now: zero for only at a change in the store; lead ahead of the next
// fire time, or at it for a job left to be decided then; and now, with
// more, when a full batch was due.
func (d *decisions) wake(now time.Time) (at time.Time, more bool) {
	switch {
	case d.paused:
		return time.Time{}, false
	case d.more:
		return now, true
	case d.next.IsZero():
		return time.Time{}, false
	}
	if at = d.next.Add(-lead); !at.After(now) {
		at = d.next
	}
	if !at.After(now) {
		// Still due after planning: a job another transaction holds (a
		// scheduler of the fleet planning it), passed over. Look again
		// shortly, or when its commit is heard of, not at once and again.
		at = now.Add(heldRetry)
	}
	return at, false
}

// plan decides what to do about one due job as of at (now, or its fire time
// when planned ahead), with inFlight of its instances submitted or running:
// starts its pending retry when due and its buffered fire times while it
// has instances free (policy.go), records a run for each fire time due,
// and stores its next run time.
func (p *planner) plan(tx store.Tx, j *store.Job, at, now time.Time, inFlight int, d *decisions) error {
	if j.Broken != "" {
		d.broken = append(d.broken, j)
		return nil
	}
	trig, err := j.ParseTrigger()
	if err != nil { // stored jobs parse, or are Broken; a trigger cannot change its mind
		j.Broken = err.Error()
		d.broken = append(d.broken, j)
		return nil
	}
	if j.Trigger.Timezone == "" && p.zone != "" {
		j.Trigger.Timezone = p.zone
	}
	o := j.Options
	next := j.NextFireTime(trig) // NextRun may be earlier (see Job.Wake)
	held := inFlight             // instances held: running, submitted, waiting to retry
	if j.Retry != nil {
		held++
	}
	if err := p.startWaiting(tx, j, at, now, &held, d); err != nil {
		return err
	}
	due := schedule.Due(trig, next, at, o.Coalesce, o.MisfireGrace, maxCatchUp)
	if req := j.Requested; !req.IsZero() && !req.After(at) {
		due = due.WithRequest(req, o.Coalesce)
		j.Requested = time.Time{}
	}
	var inst *instance
	for _, f := range due.Fires {
		r := &store.Run{JobID: j.ID, FireTime: f.Time, Coalesced: f.Coalesced, Requested: f.Requested, Submitted: now, Owner: p.owner}
		var event string
		switch {
		case f.Missed:
			r.Outcome, event = store.Missed, store.EventJobMissed
			r.Reason = fmt.Sprintf("late by %s, more than the misfire grace of %s", at.Sub(f.Time).Round(time.Millisecond), time.Duration(o.MisfireGrace))
		case inst == nil && held >= o.Overlap.Limit(o.MaxInstances):
			if o.Overlap.Stops() {
				// The runs asked to end hold their instances until they
				// do; the pending retry dropped holds none any more.
				if err := p.stopOthers(tx, j, f.Time, now, d); err != nil {
					return err
				}
				if held = inFlight; held < o.Overlap.Limit(o.MaxInstances) {
					r.Outcome = store.Running
					break
				}
			}
			if o.Overlap.Buffers() {
				if err := p.buffer(tx, j, f, now, d); err != nil {
					return err
				}
				continue
			}
			r.Outcome, event = store.Skipped, store.EventJobMaxInstances
			r.Reason = busyReason(j, inFlight)
		default:
			r.Outcome = store.Running
		}
		if ok, err := p.add(tx, r, d); err != nil {
			return err
		} else if !ok {
			continue
		}
		if event != "" {
			d.events = append(d.events, Event{Name: event, JobID: j.ID, Run: r})
			if r.Outcome == store.Missed && j.Options.Ping != "" {
				d.missed = append(d.missed, missedPing{ping: j.Options.Ping, run: r})
			}
			continue
		}
		if inst == nil {
			inst = &instance{job: j, start: at}
			d.submit = append(d.submit, inst)
		}
		inst.runs = append(inst.runs, r)
	}
	j.NextRun, j.NextFire = due.Next, due.Next
	if j.NextRun.IsZero() && !j.FiresAtStart() { // an on-start job waits for the next start
		j.State = store.Finished
	}
	j.Wake() // a request after a fire time due now, a retry
	if j.State == store.Finished {
		d.finished = append(d.finished, j.ID)
	}
	return tx.PutJob(j)
}

// add records r, and reports whether it did: AddRun's duplicate (another
// scheduler of the fleet has that fire time) is reported in d, not an
// error.
func (p *planner) add(tx store.Tx, r *store.Run, d *decisions) (bool, error) {
	err := tx.AddRun(r)
	if errors.Is(err, store.ErrDuplicateRun) {
		// Another scheduler of the fleet has it: whatever this one
		// believed, it is not to run it.
		d.duplicates = append(d.duplicates, err)
		return false, nil
	}
	return err == nil, err
}
