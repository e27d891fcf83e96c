package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/jobctl/jobctl/schedule"
)

// A job's life: NewJob creates it, SetTrigger reschedules it, Pause and
// Resume stop and restart it, RunNow asks for a run out of turn. These are
// the only places that set Anchor, State, NextRun and Requested, so that
// every caller (the CLI, a jobfile, a Go program) gets the same rules.

// DefaultExecutor is the pool jobs run in unless they name another.
const DefaultExecutor = "default"

// DefaultMaxWorkers is the size of an executor that sets none, the default
// executor's included, as APScheduler's.
const DefaultMaxWorkers = 10

// DefaultOptions are the options of a job that sets none: coalesce on and
// one instance at a time as in APScheduler 3.x, and one minute of misfire
// grace (APScheduler's one second drops runs under ordinary load).
func DefaultOptions() Options {
	return Options{
		MisfireGrace: schedule.Grace(time.Minute),
		Coalesce:     true,
		MaxInstances: 1,
		Executor:     DefaultExecutor,
	}
}

// NewJob returns a job ready to store: active, its options opts (start
// from DefaultOptions), its trigger anchored and scheduled at now (see
// SetTrigger). The id and the options are checked as the CLI checks
// them. A trigger with no fire time at or after now gives a Finished job:
// storing it would run nothing, so callers usually refuse it.
func NewJob(id, command string, trigger schedule.Spec, opts Options, now time.Time) (*Job, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	if err := CheckOptions(opts); err != nil {
		return nil, fmt.Errorf("job %q: %w", id, err)
	}
	j := &Job{ID: id, Command: command, Trigger: trigger, Options: opts, State: Active, Created: now, Updated: now}
	if err := j.SetTrigger(now); err != nil {
		return nil, err
	}
	return j, nil
}

// SetTrigger anchors j's trigger at now and schedules it: NextRun is the
// first fire time at or after now, and a trigger with none left finishes
// the job. A paused job stays paused, with no NextRun. A trigger that names
// no zone (or "local") is given the local zone's name (see LocalZone), so
// that the stored job means the same instants to every process that reads
// it.
func (j *Job) SetTrigger(now time.Time) error {
	tz, err := ZoneOr(j.Trigger.Timezone)
	if err != nil {
		return err
	}
	j.Trigger.Timezone = tz
	j.Anchor = now
	return j.Resume(now)
}

// Resume makes j active from now on, keeping its anchor: NextRun is the
// first fire time at or after now, or j is finished when there is none
// (and no run of it is requested). A job with an on-start trigger stays
// active with no NextRun: it waits for the next scheduler start (see
// FireAtStart), and a start whose delay was still running is not its start
// any more. A paused job is left paused; the caller sets State to resume it.
func (j *Job) Resume(now time.Time) error {
	t, err := j.ParseTrigger()
	if err != nil {
		return fmt.Errorf("job %q: trigger: %w", j.ID, err)
	}
	j.NextRun, j.NextFire = time.Time{}, time.Time{}
	if j.State == Paused {
		return nil
	}
	j.State = Finished
	if next := t.Next(now.Add(-time.Nanosecond)); !next.IsZero() {
		j.State, j.NextRun, j.NextFire = Active, next, next
	} else if j.FiresAtStart() {
		j.State = Active
	}
	j.Wake()
	j.WakeBuffered(now)
	return nil
}

// FiresAtStart reports whether j's trigger is an on-start one
// (schedule.OnStart): it has no fire times of its own, and j stays active,
// with no NextRun and so out of the index, between scheduler starts.
func (j *Job) FiresAtStart() bool { return j.Trigger.OnStart != "" }

// FireAtStart gives j the fire time of a scheduler start at start (start
// plus the trigger's delay), and reports whether it did: only an active
// job with an on-start trigger fires at a start, a paused one does not. It
// replaces the fire time of an earlier start that never came (that
// scheduler stopped before the delay passed): each start fires j once, and
// a start's fire time is not made up for at the next. A run requested
// earlier stays first.
func (j *Job) FireAtStart(start time.Time) (bool, error) {
	if !j.FiresAtStart() || j.State != Active || j.Broken != "" {
		return false, nil
	}
	t, err := j.ParseTrigger()
	if err != nil {
		return false, fmt.Errorf("job %q: trigger: %w", j.ID, err)
	}
	o, ok := t.(schedule.OnStart)
	if !ok {
		return false, fmt.Errorf("job %q: on-start trigger parsed as %s", j.ID, t)
	}
	j.NextRun = o.FireAt(start)
	j.NextFire = j.NextRun
	j.Wake()
	return true, nil
}

// RunNow asks for a run of j at now, besides its trigger's fire times: the
// scheduler runs it however late it starts (it is not a fire time to miss),
// and then j follows its trigger again; a finished job runs once more and
// stays finished. A paused job cannot be run.
func (j *Job) RunNow(now time.Time) error {
	if j.State == Paused {
		return fmt.Errorf("paused: resume it first (jobctl resume %s)", j.ID)
	}
	if j.Requested.IsZero() {
		j.Requested = now
	}
	j.Wake()
	return nil
}

// Wake makes j due by what it has to run besides its trigger's fire times,
// the earlier of them: a requested run, a pending retry. A finished job
// becomes active for it; a paused one stays as it is.
func (j *Job) Wake() {
	at := j.Requested
	if r := j.Retry; r != nil && (at.IsZero() || r.At.Before(at)) {
		at = r.At
	}
	j.wakeAt(at)
}

// WakeBuffered makes j due at now if fire times of it are buffered: an
// instance of it has ended (or will not run), and one of them may start.
// Only then: a buffered fire time waits for that, not for a time.
func (j *Job) WakeBuffered(now time.Time) {
	if len(j.Buffered) > 0 {
		j.wakeAt(now)
	}
}

func (j *Job) wakeAt(at time.Time) {
	if at.IsZero() || j.State == Paused {
		return
	}
	// An active job with no NextRun waits for a scheduler start (FiresAtStart).
	if j.State == Finished || j.NextRun.IsZero() || j.NextRun.After(at) {
		j.State, j.NextRun = Active, at
	}
}

// NextFireTime is the next fire time of trig, j's parsed trigger: its
// NextFire. A job stored before jobctl kept NextFire has its NextRun for
// it, unless a run-now request brought NextRun forward: then the first
// fire time at or after it.
func (j *Job) NextFireTime(trig schedule.Trigger) time.Time {
	if !j.NextFire.IsZero() || j.NextRun.IsZero() {
		return j.NextFire
	}
	return trig.Next(j.NextRun.Add(-time.Nanosecond))
}

// Pause keeps j from running until it is resumed, and drops a run of it
// requested meanwhile. PausedAt becomes now, unless j has one already (a
// paused job rescheduled stays paused since it was paused). A pending
// retry and buffered fire times are kept: they run (each checked against
// the misfire grace as it starts) once it is resumed.
func (j *Job) Pause(now time.Time) {
	j.State, j.NextRun, j.NextFire, j.Requested = Paused, time.Time{}, time.Time{}, time.Time{}
	if j.PausedAt.IsZero() {
		j.PausedAt = now
	}
}

// ResumePaused resumes the paused job j at now (see Resume), in tx, which
// it does not store, and records the fire times it passed over while it was
// paused (from its PausedAt, or after its newest run's fire time if later,
// to now) as one skipped run: the latest of them, the earlier ones
// Coalesced into it (counted up to schedule.CountLimit), so that the
// history says what became of them. It returns that run; nil when none
// passed, or when j was paused by a jobctl that did not record PausedAt.
func ResumePaused(tx Tx, j *Job, now time.Time) (*Run, error) {
	r, err := passedOver(tx, j, now)
	if err != nil {
		return nil, err
	}
	j.State, j.PausedAt = Active, time.Time{}
	if err := j.Resume(now); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, nil
	}
	return r, tx.AddRun(r)
}

// passedOver is the skipped run of j's fire times from its pause to now,
// or nil when there were none.
func passedOver(tx Tx, j *Job, now time.Time) (*Run, error) {
	if j.PausedAt.IsZero() {
		return nil, nil
	}
	t, err := j.ParseTrigger()
	if err != nil {
		return nil, fmt.Errorf("job %q: trigger: %w", j.ID, err)
	}
	from := j.PausedAt
	last, err := tx.Runs(j.ID, 1)
	if err != nil {
		return nil, err
	}
	if len(last) == 1 && !last[0].FireTime.Before(from) {
		from = last[0].FireTime.Add(time.Nanosecond) // planned before the pause
	}
	first := t.Next(from.Add(-time.Nanosecond))
	if first.IsZero() || !first.Before(now) {
		return nil, nil
	}
	fire := schedule.Due(t, first, now.Add(-time.Nanosecond), true, schedule.NoGrace, 1).Fires[0]
	const layout = "2006-01-02 15:04:05 -07:00"
	loc := j.Location()
	return &Run{JobID: j.ID, FireTime: fire.Time, Coalesced: fire.Coalesced, Submitted: now, Outcome: Skipped,
		Reason: fmt.Sprintf("the job was paused from %s to %s", j.PausedAt.In(loc).Format(layout), now.In(loc).Format(layout))}, nil
}

// SetPaused pauses or resumes the whole scheduler in tx, recording the
// change in the journal so that a running scheduler hears of it, and the
// pause as a PausePeriod, for jobctl why. It reports whether anything
// changed: pausing a paused scheduler does nothing.
func SetPaused(tx Tx, paused bool, now time.Time) (changed bool, err error) {
	set, err := tx.Settings()
	if err != nil {
		return false, err
	}
	if set.Paused == paused {
		return false, nil
	}
	set.Paused = paused
	if err := tx.PutSettings(set); err != nil {
		return false, err
	}
	kind := SchedulerResumed
	if paused {
		kind = SchedulerPaused
		err = tx.PutPeriod(Period{Kind: PausePeriod, Start: now})
	} else {
		err = endPause(tx, now)
	}
	if err != nil {
		return false, err
	}
	return true, tx.RecordChange(Change{Time: now, Kind: kind})
}

// RunEnded wakes, in tx, the buffered fire times of the job of run r,
// which ended or will not run (recorded interrupted): one of them may
// start. A job that is gone, or has none, is left as it is.
func RunEnded(tx Tx, r *Run, now time.Time) error {
	j, err := tx.Job(r.JobID)
	if errors.Is(err, ErrNotFound) || err == nil && len(j.Buffered) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	j.WakeBuffered(now)
	return tx.PutJob(j)
}
