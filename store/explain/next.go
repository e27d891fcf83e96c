package explain

import (
	"fmt"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// next says when the job runs next and why, or why it does not; and what
// stands in the way of a run due: a paused scheduler, or none running.
func (e *explainer) next() Next {
	j := e.in.Job
	switch {
	case j.Broken != "":
		return Next{Text: "none: the job is broken (" + j.Broken + ")"}
	case j.State == store.Finished:
		return Next{Text: fmt.Sprintf("none: the job is finished, its trigger (%s) has no fire times left", j.Trigger)}
	case j.State == store.Paused:
		s := "none while the job is paused"
		if !j.PausedAt.IsZero() {
			s += " (since " + e.at(j.PausedAt) + ")"
		}
		return Next{Text: s + ": jobctl resume " + j.ID + " makes it run again, from its next fire time"}
	}
	why := fmt.Sprintf("its trigger (%s) fires then", j.Trigger)
	if !j.Requested.IsZero() && j.NextRun.Equal(j.Requested) {
		why = "jobctl run-now asked for a run then"
	}
	if r := j.Retry; r != nil && j.NextRun.Equal(r.At) {
		why = fmt.Sprintf("the fire time %s is tried again then (attempt %d of %d, after run #%d failed)", e.at(r.FireTime), r.Attempt, max(attempts(j), r.Attempt), r.After)
	}
	if n := len(j.Buffered); n > 0 {
		why += fmt.Sprintf("; %s waiting for a running instance to end first (overlap %s)", plural(n, "fire time", "fire times"), j.Options.Overlap)
	}
	s := fmt.Sprintf("%s (%s), because %s", e.at(j.NextRun), e.relative(j.NextRun), why)
	switch {
	case e.in.Paused:
		s += "; but the whole scheduler is paused"
		if p, ok := covering(e.in.Pauses, e.in.Now, e.in.Now.Add(time.Nanosecond)); ok && p.End.IsZero() {
			s += " (since " + e.at(p.Start) + ")"
		}
		s += ": nothing starts until jobctl scheduler resume" + e.graceNote(j)
	case !e.in.SchedulerRunning:
		s += "; but no scheduler is running"
		if len(e.in.Sessions) > 0 {
			last := &e.in.Sessions[0]
			if last.End.IsZero() {
				s += fmt.Sprintf(" (the last, %s %s, died without a clean stop)", last.Scheduler, e.where(last))
			} else {
				s += fmt.Sprintf(" (the last, %s, stopped at %s)", last.Scheduler, e.at(last.End))
			}
		}
		s += ": it runs once one starts (jobctl run)" + e.graceNote(j)
	}
	return Next{Time: j.NextRun, Text: s}
}

// graceNote says until when a run held up may still start.
func (e *explainer) graceNote(j *store.Job) string {
	g := j.Options.MisfireGrace
	if g == schedule.NoGrace || !j.Requested.IsZero() && j.NextRun.Equal(j.Requested) || j.Retry != nil && j.NextRun.Equal(j.Retry.At) {
		return "" // never too late
	}
	by := j.NextRun.Add(time.Duration(g))
	if by.Before(e.in.Now) {
		return fmt.Sprintf("; it is already later than its misfire grace of %s, so that fire time will be missed", dur(time.Duration(g)))
	}
	return fmt.Sprintf(", by %s (its misfire grace of %s) or it is missed", e.at(by), dur(time.Duration(g)))
}

// relative writes how far t is from now: "in 3h", "5m ago", "now".
func (e *explainer) relative(t time.Time) string {
	d := t.Sub(e.in.Now).Round(time.Second)
	switch {
	case d == 0:
		return "now"
	case d < 0:
		return schedule.FormatDuration(-d) + " ago"
	}
	return "in " + schedule.FormatDuration(d)
}
