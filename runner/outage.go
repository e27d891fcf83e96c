package runner

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/memory"
)

// An Outage is what a scheduler would do about one job at its restart after
// being down over a window: the planner's own decision (schedule.Due with
// the job's coalescing and misfire grace, and the bound on catch-up runs),
// taken ahead, so that an operator can plan a maintenance window.
type Outage struct {
	From, To time.Time // down from From, restarted at To
	// Fires counts the job's fire times in [From, To]; with AtLeast, the
	// count stopped at schedule.CountLimit per folded stretch.
	Fires       int
	AtLeast     bool
	First, Last time.Time // the first and last of them; zero when none
	// Plan is what the restart at To does: Plan.Fires, in time order, the
	// runs it makes and the runs it records missed (the runs of one job
	// made together run one after another, as one instance); Plan.Next,
	// the first fire time after To.
	Plan schedule.Plan
	// AtStart is an on-start job's fire time at the restart, To plus its
	// delay; zero for other jobs.
	AtStart time.Time
	// Restart is every decision the restart's planning records, in order,
	// the run policies applied (the planner itself decides, on a copy of
	// the job): a pending retry and the fire times that waited for an
	// instance to end come first, then Plan's fires. Instance numbers the
	// instance each run goes in, from 1: the runs of one run one after
	// another.
	Restart []Decision
	// Waiting are the fire times left waiting for an instance to end after
	// the restart's planning (overlap buffer_one, buffer_all, ...).
	Waiting []store.Waiting
	// Retry is a pending retry not due by the restart, else nil.
	Retry *store.PendingRetry
}

// A Decision is one run the restart records: to run, missed or skipped.
type Decision struct {
	Run      *store.Run
	Instance int // 0: not run
}

// ErrNotActive is PreviewOutage's answer for a paused or finished job:
// the scheduler plans nothing for it, down or not.
var ErrNotActive = errors.New("not active: the scheduler plans nothing for it")

// PreviewOutage says what a scheduler down from from to to would do about j
// at its restart at to, as if it had been running until from. It reads
// only j, its pending retry and buffered fire times included (not its runs
// in progress, which the restart records interrupted, nor a run-now
// request); a fleet is taken to be down as a whole.
func PreviewOutage(j *store.Job, from, to time.Time) (Outage, error) {
	o := Outage{From: from, To: to}
	if j.State != store.Active {
		return o, ErrNotActive
	}
	trig, err := j.ParseTrigger()
	if err != nil {
		return o, err
	}
	if on, ok := trig.(schedule.OnStart); ok {
		o.AtStart = on.FireAt(to)
		return o, nil
	}
	first := trig.Next(from.Add(-time.Nanosecond))
	opts := j.Options
	o.Plan = schedule.Due(trig, first, to, opts.Coalesce, opts.MisfireGrace, maxCatchUp)
	if err := o.plan(j, first); err != nil {
		return o, err
	}
	for _, f := range o.Plan.Fires {
		o.Fires += f.Coalesced + 1
		o.AtLeast = o.AtLeast || f.Coalesced >= schedule.CountLimit-1
		if o.First.IsZero() {
			o.First = f.First
		}
		o.Last = f.Time
	}
	return o, nil
}

// plan has the planner decide, at the restart, about a copy of j whose
// next fire time is first and which keeps its pending retry and buffered
// fire times, in a store of its own: nothing runs in it then (the
// restart records the runs in progress interrupted).
func (o *Outage) plan(j *store.Job, first time.Time) error {
	st, err := memory.New()
	if err != nil {
		return err
	}
	defer st.Close()
	c := *j
	c.Buffered = slices.Clone(j.Buffered)
	if j.Retry != nil {
		r := *j.Retry
		c.Retry = &r
	}
	c.NextRun, c.NextFire, c.Requested = first, first, time.Time{}
	c.Wake()
	c.WakeBuffered(o.To)
	return st.Update(context.Background(), func(tx store.Tx) error {
		o.Restart, o.Waiting, o.Retry = nil, nil, nil
		if err := tx.PutJob(&c); err != nil {
			return err
		}
		d, err := (&planner{owner: "preview"}).decide(tx, o.To, 0, nil)
		if err != nil {
			return err
		}
		runs, err := tx.Runs(c.ID, 0)
		if err != nil {
			return err
		}
		after, err := tx.Job(c.ID)
		if err != nil {
			return err
		}
		o.Waiting, o.Retry = after.Buffered, after.Retry
		for _, r := range slices.Backward(runs) {
			dec := Decision{Run: r}
			for i, inst := range d.submit {
				if slices.ContainsFunc(inst.runs, func(x *store.Run) bool { return x.Seq == r.Seq }) {
					dec.Instance = i + 1
				}
			}
			o.Restart = append(o.Restart, dec)
		}
		return nil
	})
}
