package runner

import (
	"errors"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
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
}

// ErrNotActive is PreviewOutage's answer for a paused or finished job:
// the scheduler plans nothing for it, down or not.
var ErrNotActive = errors.New("not active: the scheduler plans nothing for it")

// PreviewOutage says what a scheduler down from from to to would do about j
// at its restart at to, as if it had been running until from. It reads
// only j (not its runs in progress, nor a run-now request); a fleet is
// taken to be down as a whole.
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
