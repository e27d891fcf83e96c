package explain

import (
	"fmt"
	"strings"
	"time"

	"github.com/jobctl/jobctl/store"
)

// The words for each outcome, and the causes found in the periods.

// ran explains a run that was started: success, failed or timeout.
func (e *explainer) ran(r *store.Run, en Entry) string {
	if r.Started.IsZero() {
		return fmt.Sprintf("%s, never started: %s", r.Outcome, r.Reason)
	}
	var s string
	took := dur(en.Duration)
	switch {
	case r.Outcome == store.Success:
		s = "ran and succeeded in " + took
	case r.Outcome == store.TimedOut:
		s = "ran and timed out after " + took
		if t := e.in.Job.Options.Timeout; t > 0 {
			s += fmt.Sprintf(", its timeout being %s", dur(t))
		}
		if r.Signal != "" {
			s += ", killed by " + r.Signal
		}
	case r.Signal != "":
		s = fmt.Sprintf("ran and failed after %s, killed by %s", took, r.Signal)
	case r.ExitCode != nil:
		s = fmt.Sprintf("ran and failed with exit code %d after %s", *r.ExitCode, took)
	default:
		s = fmt.Sprintf("ran and failed after %s: %s", took, r.Reason)
	}
	s += fmt.Sprintf(" (attempt %d of %d)", r.AttemptNumber(), en.Attempts)
	if late := r.Started.Sub(r.FireTime); late >= time.Second && !r.Requested {
		s += fmt.Sprintf(", started %s after its fire time", dur(late))
	}
	return s
}

// missed explains a fire time later than its misfire grace: the Reason
// says by how much, the periods say why.
func (e *explainer) missed(r *store.Run, en *Entry) string {
	s := "missed"
	if r.Coalesced > 0 {
		s += fmt.Sprintf(" (this and %s)", coalesced(r))
	}
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	if strings.Contains(r.Reason, "waited for a worker") {
		en.Cause = WorkersBusy
		return s + fmt.Sprintf(", because all the workers of its executor %q were busy", e.in.Job.Options.Executor)
	}
	if p, ok := covering(e.in.Pauses, r.FireTime, r.Submitted); ok {
		en.Cause, en.From, en.To = SchedulerPaused, p.Start, p.End
		return s + ", because the scheduler was paused " + e.span(p.Start, p.End)
	}
	if why, ok := e.down(r, en); ok {
		return s + ", because " + why
	}
	return s
}

// down finds the gap between schedulers that r's fire time fell in: the
// session before it ended (or died) before it, and the next one started
// after it, by the time r was decided.
func (e *explainer) down(r *store.Run, en *Entry) (string, bool) {
	var before, after *store.Period
	for i := range e.in.Sessions { // newest first
		p := &e.in.Sessions[i]
		if p.Start.After(r.FireTime) {
			if !p.Start.After(r.Submitted) {
				after = p // the oldest such: the first up after the fire time
			}
			continue
		}
		before = p
		break
	}
	if after == nil {
		return "", false // no session started since: up, for all we know
	}
	en.Cause, en.To = SchedulerDown, after.Start
	switch {
	case before == nil:
		return fmt.Sprintf("no scheduler ran from before the fire time until scheduler %s started at %s", after.Scheduler, e.at(after.Start)), true
	case before.End.IsZero():
		seen, ok := e.lastSeen(before)
		if ok {
			en.From = seen
		}
		s := fmt.Sprintf("no scheduler ran: scheduler %s %s died without a clean stop", before.Scheduler, e.where(before))
		if ok {
			s += " (last seen " + e.at(seen) + ")"
		}
		return s + fmt.Sprintf(", and scheduler %s started only at %s", after.Scheduler, e.at(after.Start)), true
	case before.End.After(r.FireTime):
		return "", false // up at the fire time: late for another reason
	}
	en.From = before.End
	return fmt.Sprintf("no scheduler ran from %s (scheduler %s stopped) to %s (scheduler %s started)",
		e.at(before.End), before.Scheduler, e.at(after.Start), after.Scheduler), true
}

// lastSeen is the last sign of life of a session's scheduler in this
// job's runs.
func (e *explainer) lastSeen(p *store.Period) (time.Time, bool) {
	var last time.Time
	for _, r := range e.in.Runs {
		if r.Owner != p.Scheduler || r.Submitted.Before(p.Start) {
			continue
		}
		for _, t := range []time.Time{r.Submitted, r.Started, r.Ended} {
			if t.After(last) {
				last = t
			}
		}
	}
	return last, !last.IsZero()
}

// where says where a session's scheduler ran.
func (e *explainer) where(p *store.Period) string {
	s := "(started " + e.at(p.Start)
	if p.Host != "" {
		s += fmt.Sprintf(", host %s, pid %d", p.Host, p.PID)
	}
	return s + ")"
}

// span writes "from A to B", or "from A" for a period not over.
func (e *explainer) span(from, to time.Time) string {
	if to.IsZero() {
		return "since " + e.at(from)
	}
	return fmt.Sprintf("from %s to %s", e.at(from), e.at(to))
}

// covering is the newest period of ps (newest first) that the instant t
// falls in, one not over reaching to until.
func covering(ps []store.Period, t, until time.Time) (store.Period, bool) {
	for _, p := range ps {
		if p.Covers(t, until) {
			return p, true
		}
	}
	return store.Period{}, false
}

// skipped explains a fire time not run by decision.
func (e *explainer) skipped(r *store.Run, en *Entry) string {
	switch {
	case strings.HasPrefix(r.Reason, "the job was paused"):
		en.Cause = JobPaused
		return fmt.Sprintf("skipped: %s; %s passed over, the latest this one", r.Reason,
			plural(r.Coalesced+1, "fire time", "fire times"))
	case strings.Contains(r.Reason, "instances running"):
		en.Cause = MaxInstances
		return "skipped: max instances reached, " + r.Reason
	case !r.Buffered.IsZero() || r.AttemptNumber() > 1:
		// A fire time that waited, replaced or beyond the bound; a
		// pending retry dropped by a later fire time.
		en.Cause = Overlap
		return fmt.Sprintf("skipped by the overlap policy (%s): %s", e.in.Job.Options.Overlap, r.Reason)
	}
	if p, ok := covering(e.in.Pauses, r.FireTime, r.Submitted); ok {
		en.Cause, en.From, en.To = SchedulerPaused, p.Start, p.End
		return fmt.Sprintf("skipped: %s (the scheduler was paused %s)", r.Reason, e.span(p.Start, p.End))
	}
	return "skipped: " + r.Reason
}

// interrupted explains a run whose scheduler stopped while it ran.
func (e *explainer) interrupted(r *store.Run, en *Entry) string {
	s := "interrupted"
	if !r.Started.IsZero() {
		s += fmt.Sprintf(" (started %s, attempt %d of %d)", e.at(r.Started), r.AttemptNumber(), en.Attempts)
	}
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	var sess *store.Period
	for i := range e.in.Sessions {
		p := &e.in.Sessions[i]
		if p.Scheduler == r.Owner && !p.Start.After(r.Submitted) {
			sess = p
			break
		}
	}
	switch {
	case sess == nil:
	case sess.End.IsZero():
		en.Cause, en.From = SchedulerDied, sess.Start
		s += fmt.Sprintf("; scheduler %s %s died without a clean stop", sess.Scheduler, e.where(sess))
		if seen, ok := e.lastSeen(sess); ok {
			en.To = seen
			s += " (last seen " + e.at(seen) + ")"
		}
	default:
		en.From, en.To = sess.Start, sess.End
		s += fmt.Sprintf("; scheduler %s was shut down at %s", sess.Scheduler, e.at(sess.End))
	}
	return s
}
