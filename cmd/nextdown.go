package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/jobfile"
	"github.com/jobctl/jobctl/store/view"
)

// runNextJob is next with a job's ID: its fire times, or with --down what
// an outage does to it (runner.PreviewOutage decides; this only prints).
func runNextJob(ctx context.Context, o *nextOptions) error {
	if err := checkNextFlags(o); err != nil {
		return err
	}
	if o.down != "" && o.flags != nil && o.flags.Changed("from") {
		return usagef("--from and --down: give one (the fire times after the window follow --down)")
	}
	var j *store.Job
	err := viewDB(ctx, o.db, func(tx store.Tx) (err error) {
		j, err = tx.Job(o.id)
		return err
	})
	if err != nil {
		return err
	}
	if j.Broken != "" {
		return fmt.Errorf("job %s is broken: %s", j.ID, j.Broken)
	}
	loc := j.Location()
	now := o.now()
	if o.down == "" {
		from, err := schedule.ParseTime(o.from, loc, now)
		if err != nil {
			return asUsage(fmt.Errorf("--from: %w", err))
		}
		trig, err := j.ParseTrigger()
		if err != nil {
			return err
		}
		return printNext(o, j.Trigger, trig, from, loc)
	}
	from, to, err := parseWindow(o.down, loc, now)
	if err != nil {
		return err
	}
	out, err := runner.PreviewOutage(j, from, to)
	if errors.Is(err, runner.ErrNotActive) {
		return fmt.Errorf("job %s is %s: %w", j.ID, j.State, err)
	} else if err != nil {
		return err
	}
	after, err := fireTimesAfter(j, out, o.n)
	if err != nil {
		return err
	}
	if o.output == outputJSON {
		return writeJSON(o.io.Out, newOutageJSON(j, out, after))
	}
	return writeOutage(o.io.Out, j, out, after)
}

// parseWindow reads --down's FROM..TO, in loc; FROM must be before TO.
func parseWindow(v string, loc *time.Location, now time.Time) (from, to time.Time, err error) {
	a, b, ok := strings.Cut(v, "..")
	if !ok {
		return from, to, usagef("--down: %q is not FROM..TO (want e.g. '2026-07-04 01:00..2026-07-04 05:00')", v)
	}
	if from, err = schedule.ParseTime(a, loc, now); err != nil {
		return from, to, asUsage(fmt.Errorf("--down: FROM: %w", err))
	}
	if to, err = schedule.ParseTime(b, loc, now); err != nil {
		return from, to, asUsage(fmt.Errorf("--down: TO: %w", err))
	}
	if !from.Before(to) {
		return from, to, usagef("--down: FROM %s is not before TO %s", formatTime(from.In(loc)), formatTime(to.In(loc)))
	}
	return from, to, nil
}

// fireTimesAfter lists the first n fire times after the restart: the
// trigger's next ones from out.Plan.Next, or an on-start job's at the
// restart.
func fireTimesAfter(j *store.Job, out runner.Outage, n int) ([]time.Time, error) {
	if !out.AtStart.IsZero() {
		return []time.Time{out.AtStart}, nil
	}
	trig, err := j.ParseTrigger()
	if err != nil {
		return nil, err
	}
	var after []time.Time
	for t := out.Plan.Next; !t.IsZero() && len(after) < n; t = trig.Next(t) {
		after = append(after, t)
	}
	return after, nil
}

// outcomeOf names what the restart does about d: runs it, or records it
// missed or skipped.
func outcomeOf(d runner.Decision) string {
	if d.Instance > 0 {
		return "run"
	}
	return string(d.Run.Outcome)
}

// fireOf is the fire of out's plan that d records, if one does (not a
// retry, nor a fire time that waited).
func fireOf(d runner.Decision, out runner.Outage) (schedule.Fire, bool) {
	for _, f := range out.Plan.Fires {
		if f.Time.Equal(d.Run.FireTime) && d.Run.AttemptNumber() == 1 && d.Run.Buffered.IsZero() {
			return f, true
		}
	}
	return schedule.Fire{}, false
}

// decisionText says what the restart does about d.
func decisionText(d runner.Decision, out runner.Outage, at func(time.Time) string) string {
	r := d.Run
	f, planned := fireOf(d, out)
	n := firesText(r.Coalesced+1, r.Coalesced >= schedule.CountLimit-1)
	switch {
	case d.Instance > 0 && r.AttemptNumber() > 1:
		return fmt.Sprintf("run    %s again, attempt %d (its pending retry)", at(r.FireTime), r.AttemptNumber())
	case d.Instance > 0 && !r.Buffered.IsZero():
		return fmt.Sprintf("run    %s, which waited for an instance to end", at(r.FireTime))
	case d.Instance > 0 && r.Coalesced > 0 && planned:
		return fmt.Sprintf("run    %s, once for %s from %s (coalescing)", at(r.FireTime), n, at(f.First))
	case d.Instance > 0:
		return "run    " + at(r.FireTime)
	case r.Outcome == store.Missed && planned && r.Coalesced == 0:
		return fmt.Sprintf("missed %s: late by %s, more than the misfire grace", at(r.FireTime), schedule.FormatDuration(out.To.Sub(r.FireTime)))
	case r.Outcome == store.Missed && planned:
		return fmt.Sprintf("missed %s..%s, %s: the latest late by %s, more than the misfire grace", at(f.First), at(r.FireTime), n, schedule.FormatDuration(out.To.Sub(r.FireTime)))
	}
	return fmt.Sprintf("%-6s %s: %s", r.Outcome, at(r.FireTime), r.Reason)
}

// firesText counts fire times, "at least" when the count stopped.
func firesText(n int, atLeast bool) string {
	s := fmt.Sprintf("%d %s", n, plural(n, "fire time", "fire times"))
	if atLeast {
		s = "at least " + s
	}
	return s
}

func writeOutage(w io.Writer, j *store.Job, out runner.Outage, after []time.Time) error {
	loc := j.Location()
	at := func(t time.Time) string { return formatTime(t.In(loc)) }
	var b strings.Builder
	fmt.Fprintf(&b, "job %s (%s), scheduler down %s..%s\n", j.ID, j.Trigger, at(out.From), at(out.To))
	if !out.AtStart.IsZero() {
		fmt.Fprintf(&b, "no fire times of its own in the window; it runs at the restart: %s\n", at(out.AtStart))
	} else {
		fmt.Fprintf(&b, "%s in the window", firesText(out.Fires, out.AtLeast))
		if out.Fires > 0 {
			fmt.Fprintf(&b, ", from %s to %s", at(out.First), at(out.Last))
		}
		b.WriteString("\n")
	}
	if len(out.Restart) > 0 || len(out.Waiting) > 0 {
		o := j.Options
		fmt.Fprintf(&b, "at the restart (%s), with coalesce %t and a misfire grace of %s:\n", at(out.To), o.Coalesce, jobfile.FormatGrace(o.MisfireGrace))
		runs := map[int]int{}
		for _, d := range out.Restart {
			b.WriteString("  " + decisionText(d, out, at) + "\n")
			if d.Instance > 0 {
				runs[d.Instance]++
			}
		}
		switch {
		case len(runs) > 1:
			fmt.Fprintf(&b, "  they run as %d instances, the runs of each one after another (max instances %d, overlap %s)\n", len(runs), o.MaxInstances, o.Overlap)
		case len(runs) == 1 && runs[1] > 1:
			fmt.Fprintf(&b, "  the %d runs run one after another, as one instance\n", runs[1])
		}
		if n := len(out.Waiting); n > 0 {
			fmt.Fprintf(&b, "  %s %s for an instance to end (overlap %s), the oldest %s\n", firesText(n, false), plural(n, "waits", "wait"), o.Overlap, at(out.Waiting[0].FireTime))
		}
	}
	if r := out.Retry; r != nil {
		fmt.Fprintf(&b, "its pending retry of %s (attempt %d) runs at %s\n", at(r.FireTime), r.Attempt, at(r.At))
	}
	b.WriteString("next fire times after the restart:\n")
	if len(after) == 0 {
		b.WriteString("  none\n")
	}
	for _, t := range after {
		fmt.Fprintf(&b, "  %s\n", at(t))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// outageJSON is next --down's answer as data.
type outageJSON struct {
	JobID     string           `json:"job_id"`
	Trigger   string           `json:"trigger"`
	From      *string          `json:"from"`
	To        *string          `json:"to"`
	FireTimes int              `json:"fire_times"` // in the window
	AtLeast   bool             `json:"at_least"`   // fire_times stopped counting
	First     *string          `json:"first"`
	Last      *string          `json:"last"`
	AtRestart []outageFireJSON `json:"at_restart"`
	Waiting   []*string        `json:"waiting"`       // fire times still waiting for an instance to end
	Retry     *view.Pending    `json:"pending_retry"` // a retry not due by the restart
	OnStart   *string          `json:"on_start"`      // an on-start job's fire time at the restart
	Next      []string         `json:"next_fire_times"`
}

type outageFireJSON struct {
	FireTime  *string `json:"fire_time"`
	First     *string `json:"first"`
	Coalesced int     `json:"coalesced"`
	Attempt   int     `json:"attempt"`
	Outcome   string  `json:"outcome"`            // run, missed or skipped
	Instance  int     `json:"instance,omitempty"` // of a run: its instance, from 1
	Reason    string  `json:"reason,omitempty"`
}

func newOutageJSON(j *store.Job, out runner.Outage, after []time.Time) outageJSON {
	loc := j.Location()
	v := outageJSON{
		JobID: j.ID, Trigger: j.Trigger.String(), From: view.Time(out.From, loc), To: view.Time(out.To, loc),
		FireTimes: out.Fires, AtLeast: out.AtLeast, First: view.Time(out.First, loc), Last: view.Time(out.Last, loc),
		AtRestart: []outageFireJSON{}, OnStart: view.Time(out.AtStart, loc), Next: []string{},
	}
	for _, d := range out.Restart {
		r := d.Run
		first := r.FireTime
		if f, ok := fireOf(d, out); ok {
			first = f.First
		}
		v.AtRestart = append(v.AtRestart, outageFireJSON{FireTime: view.Time(r.FireTime, loc), First: view.Time(first, loc), Coalesced: r.Coalesced,
			Attempt: r.AttemptNumber(), Outcome: outcomeOf(d), Instance: d.Instance, Reason: r.Reason})
	}
	v.Waiting = []*string{}
	for _, w := range out.Waiting {
		v.Waiting = append(v.Waiting, view.Time(w.FireTime, loc))
	}
	if r := out.Retry; r != nil {
		v.Retry = &view.Pending{FireTime: view.Time(r.FireTime, loc), Attempt: r.Attempt, At: view.Time(r.At, loc)}
	}
	for _, t := range after {
		v.Next = append(v.Next, *view.Time(t, loc))
	}
	return v
}
