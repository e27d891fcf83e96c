package schedule

import (
	"slices"
	"time"
)

// CountLimit bounds how many fire times Due counts one by one. A folded
// stretch longer than that (a per-second job after a long downtime) has its
// Coalesced count stop at CountLimit-1: read it as "at least".
const CountLimit = 1000

// A Fire is one entry of a Plan: a fire time to run or to report as
// missed, possibly standing for a stretch of fire times folded into it.
type Fire struct {
	Time      time.Time // the fire time; for a folded stretch, its latest
	First     time.Time // the earliest fire time folded in; Time if none was
	Coalesced int       // how many fire times before Time were folded in
	Missed    bool      // beyond the misfire grace: report it, do not run it
	// Requested is a run asked for at Time (jobctl run-now), or a fire time
	// that stands for such a request too: it is never missed.
	Requested bool
}

// A Plan is what the scheduler does about a job whose next fire time has
// come: the fire times from that one up to now, and when to look again.
type Plan struct {
	Fires []Fire    // in time order; empty when nothing is due
	Next  time.Time // the first fire time after now; zero: the trigger is finished
}

// Due plans the runs of a job with trigger t whose stored next fire time is
// next, at now. With coalesce, the fire times due are folded into one
// entry for the latest, as APScheduler does. Without, each fire time is an
// entry, except that the fire times beyond grace (a prefix, as lateness
// only grows with age) are folded into one missed entry, and at most
// maxRuns entries are to run: when more are due, the last of them stands
// for the rest. Each entry is Missed when grace.Late(entry.Time, now).
//
// The work is bounded whatever the downtime: Due walks at most CountLimit
// fire times per folded stretch and finds the end of a longer one by
// bisection on Next.
func Due(t Trigger, next, now time.Time, coalesce bool, grace Grace, maxRuns int) Plan {
	if next.IsZero() || next.After(now) {
		return Plan{Next: next}
	}
	if coalesce {
		last, n := stretch(t, next, now)
		return Plan{
			Fires: []Fire{{Time: last, First: next, Coalesced: n - 1, Missed: grace.Late(last, now)}},
			Next:  t.Next(last),
		}
	}
	var p Plan
	f := next
	if grace.Late(next, now) {
		// Missed are the fire times before now-grace.
		cut := now.Add(-time.Duration(grace) - time.Nanosecond)
		last, n := stretch(t, next, cut)
		p.Fires = append(p.Fires, Fire{Time: last, First: next, Coalesced: n - 1, Missed: true})
		f = t.Next(last)
	}
	for runs := 1; !f.IsZero() && !f.After(now); runs++ {
		if runs >= maxRuns {
			last, n := stretch(t, f, now)
			p.Fires = append(p.Fires, Fire{Time: last, First: f, Coalesced: n - 1})
			f = t.Next(last)
			break
		}
		p.Fires = append(p.Fires, Fire{Time: f, First: f})
		f = t.Next(f)
	}
	p.Next = f
	return p
}

// WithRequest adds to p a run requested at req (jobctl run-now). A request
// is not a fire time: it runs however late. A fire time at req stands for
// it, and so, with coalesce, does the run p already makes; otherwise it is
// one more entry, in time order.
func (p Plan) WithRequest(req time.Time, coalesce bool) Plan {
	fires := make([]Fire, 0, len(p.Fires)+1)
	for _, f := range p.Fires {
		if f.Time.Equal(req) || (coalesce && !f.Missed) {
			f.Requested, f.Missed = true, false
			req = time.Time{}
		}
		fires = append(fires, f)
	}
	if !req.IsZero() {
		i := 0
		for i < len(fires) && fires[i].Time.Before(req) {
			i++
		}
		fires = slices.Insert(fires, i, Fire{Time: req, First: req, Requested: true})
	}
	p.Fires = fires
	return p
}

// stretch returns the last fire time at or before x, given a fire time
// first <= x, and how many fire times lie from first to it (counting stops
// at CountLimit).
func stretch(t Trigger, first, x time.Time) (time.Time, int) {
	last := first
	for n := 1; n < CountLimit; n++ {
		f := t.Next(last)
		if f.IsZero() || f.After(x) {
			return last, n
		}
		last = f
	}
	return latest(t, last, x), CountLimit
}

// latest returns the last fire time at or before x, given a fire time
// best <= x, by bisection: about 90 calls of Next at most.
func latest(t Trigger, best, x time.Time) time.Time {
	// Invariant: best is a fire time <= x, and none lies in (b, x].
	b := x
	for best.Before(b) {
		mid := midpoint(best, b)
		if f := t.Next(mid); !f.IsZero() && !f.After(x) {
			best = f
		} else {
			b = mid
		}
	}
	return best
}

// midpoint returns an instant in [a, b) for a < b, about halfway.
func midpoint(a, b time.Time) time.Time {
	if d := b.Sub(a); d < 1<<62 {
		return a.Add(d / 2)
	}
	// Too far apart for a Duration: halve in seconds.
	return time.Unix(a.Unix()+(b.Unix()-a.Unix())/2, 0)
}
