// Package explain says, in plain words and with the numbers, what became of
// a job's recent fire times and why, and when and why it runs next: the
// logic of jobctl why. It reads history only (the job, its runs, the
// scheduler's periods and settings), so that it explains the past of any
// scheduler, a dead one's included, on any engine; it is a pure function
// of its Input, the time included.
package explain

import (
	"fmt"
	"strings"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// Input is what Explain reads.
type Input struct {
	Job  *store.Job
	Runs []*store.Run // the job's runs to explain, newest first
	// Sessions and Pauses are the store's periods of those kinds, newest
	// first (Tx.Periods).
	Sessions []store.Period
	Pauses   []store.Period
	Paused   bool // the whole scheduler is paused (Settings.Paused)
	// SchedulerRunning says whether a scheduler runs on the store now
	// (the bbolt file's lock is held, or a fleet's member has a live
	// lease).
	SchedulerRunning bool
	Now              time.Time
}

// Cause names why a fire time went as it did, beyond its outcome.
type Cause string

const (
	SchedulerDown   Cause = "scheduler_down"   // no scheduler ran at the fire time
	SchedulerPaused Cause = "scheduler_paused" // the whole scheduler was paused
	JobPaused       Cause = "job_paused"       // the job was paused
	WorkersBusy     Cause = "workers_busy"     // it waited for a worker of its executor
	MaxInstances    Cause = "max_instances"    // as many instances as allowed ran
	SchedulerDied   Cause = "scheduler_died"   // its scheduler died while it ran
	Overlap         Cause = "overlap"          // its job's overlap policy ended or dropped it
)

// Entry explains one run: a fire time, or a stretch of them folded into it.
type Entry struct {
	Run      *store.Run
	Attempts int           // how many attempts the job makes at a fire time
	Duration time.Duration // of a run that started and ended; else 0
	Cause    Cause         // "" when the outcome says it all
	// From and To bound the period Cause names, when it has one (To zero:
	// unknown, or not over).
	From, To time.Time
	Text     string // the explanation, in words
}

// Next says when and why the job runs next.
type Next struct {
	Time time.Time // zero: it does not, for now
	Text string
}

// Report is Explain's answer.
type Report struct {
	Entries []Entry // newest first, as Input.Runs
	Next    Next
}

// Explain explains in.Runs and the job's next run.
func Explain(in Input) Report {
	e := explainer{in: in, loc: in.Job.Location()}
	var rep Report
	for _, r := range in.Runs {
		rep.Entries = append(rep.Entries, e.run(r))
	}
	rep.Next = e.next()
	return rep
}

// attempts is how many attempts the job makes at one fire time.
func attempts(j *store.Job) int { return j.Options.Retry.Max + 1 }

type explainer struct {
	in  Input
	loc *time.Location
}

// at writes t for people, in the job's zone.
func (e *explainer) at(t time.Time) string { return t.In(e.loc).Format("2006-01-02 15:04:05 -07:00") }

// dur writes d rounded for people: 1.2s, 3m, 250ms.
func dur(d time.Duration) string {
	switch {
	case d >= time.Minute:
		d = d.Round(time.Second)
	case d >= time.Second:
		d = d.Round(100 * time.Millisecond)
	default:
		d = d.Round(time.Millisecond)
	}
	return schedule.FormatDuration(d)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// coalesced counts the fire times folded into r: "at least" where the
// count stopped (schedule.CountLimit).
func coalesced(r *store.Run) string {
	s := plural(r.Coalesced, "earlier fire time", "earlier fire times")
	if r.Coalesced >= schedule.CountLimit-1 {
		s = "at least " + s
	}
	return s
}

func (e *explainer) run(r *store.Run) Entry {
	en := Entry{Run: r, Attempts: max(attempts(e.in.Job), r.AttemptNumber())}
	if !r.Started.IsZero() && !r.Ended.IsZero() {
		en.Duration = r.Ended.Sub(r.Started)
	}
	var parts []string
	switch r.Outcome {
	case store.Success, store.Failed, store.TimedOut:
		parts = append(parts, e.ran(r, en))
	case store.Running:
		parts = append(parts, fmt.Sprintf("running since %s (for %s), on scheduler %s", e.at(r.Started), dur(e.in.Now.Sub(r.Started)), r.Owner))
		if r.Started.IsZero() {
			parts[0] = fmt.Sprintf("submitted at %s to scheduler %s, not started yet", e.at(r.Submitted), r.Owner)
		}
	case store.Missed:
		parts = append(parts, e.missed(r, &en))
	case store.Skipped:
		parts = append(parts, e.skipped(r, &en))
	case store.Interrupted:
		parts = append(parts, e.interrupted(r, &en))
	case store.Cancelled:
		en.Cause = Overlap
		s := "cancelled before it started"
		if !r.Started.IsZero() {
			s = "ran and was cancelled after " + dur(en.Duration)
		}
		parts = append(parts, fmt.Sprintf("%s (attempt %d of %d): %s", s, r.AttemptNumber(), en.Attempts, r.Reason))
	default:
		// Outcomes this package does not know by name say why in their
		// Reason.
		s := string(r.Outcome)
		if r.Reason != "" {
			s += ": " + r.Reason
		}
		parts = append(parts, s)
	}
	if r.Coalesced > 0 && r.Outcome != store.Missed && en.Cause != JobPaused {
		parts = append(parts, fmt.Sprintf("%s coalesced into run #%d", coalesced(r), r.Seq))
	}
	if r.Requested {
		parts = append(parts, "asked for by jobctl run-now")
	}
	if !r.Buffered.IsZero() && r.Outcome != store.Missed && r.Outcome != store.Skipped {
		parts = append(parts, fmt.Sprintf("it came while max instances ran and waited for one to end, from %s (overlap %s)", e.at(r.Buffered), e.in.Job.Options.Overlap))
	}
	if !r.RetryAt.IsZero() {
		parts = append(parts, fmt.Sprintf("tried again at %s (attempt %d)", e.at(r.RetryAt), r.AttemptNumber()+1))
	}
	en.Text = strings.Join(parts, "; ")
	return en
}
