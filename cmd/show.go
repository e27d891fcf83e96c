package cmd

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/jobfile"
	"github.com/jobctl/jobctl/store/view"
)

const (
	showFireTimes = 5  // how many next fire times show lists
	showRuns      = 10 // how many of the last runs show lists
)

type showOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	id     string
	output string
}

func newShowCmd(f *Factory) *cobra.Command {
	o := &showOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:   "show ID [-o table|json]",
		Short: "Show a job: every field, its next fire times and its last runs",
		Long: fmt.Sprintf(`show prints every field of a job, its next %d fire times and its last %d runs
(jobctl history shows more).`, showFireTimes, showRuns),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeJobIDs(f.DB, true),
		RunE: func(c *cobra.Command, args []string) error {
			o.id = args[0]
			return runShow(c.Context(), o)
		},
	}
	addOutputFlag(c.Flags(), &o.output)
	return c
}

// showJSON is a job with what show adds to it.
type showJSON struct {
	view.Job
	MailsTo       string     `json:"mails_to"` // the job's mailto, else the scheduler's; "": none
	NextFireTimes []string   `json:"next_fire_times"`
	Runs          []view.Run `json:"runs"`
}

func runShow(ctx context.Context, o *showOptions) error {
	id := o.id
	if err := checkOutput(o.output); err != nil {
		return err
	}
	var j *store.Job
	var runs []*store.Run
	var set store.Settings
	err := viewDB(ctx, o.db, func(tx store.Tx) (err error) {
		if j, err = tx.Job(id); err != nil {
			return err
		}
		if set, err = tx.Settings(); err != nil {
			return err
		}
		runs, err = tx.Runs(id, showRuns)
		return err
	})
	if err != nil {
		return err
	}
	now := o.now()
	fires := nextFireTimes(j, now)
	if o.output == outputJSON {
		v := showJSON{Job: view.NewJob(j), MailsTo: j.Options.Recipients(set), NextFireTimes: []string{}, Runs: []view.Run{}}
		for _, t := range fires {
			v.NextFireTimes = append(v.NextFireTimes, *view.Time(t, j.Location()))
		}
		for _, r := range runs {
			v.Runs = append(v.Runs, view.NewRun(r, j.Location()))
		}
		return writeJSON(o.io.Out, v)
	}
	return writeShow(o.io.Out, j, set, fires, runs, now)
}

// nextFireTimes are the job's next fire times from now, as its trigger
// says (whether or not it is paused); none for a broken job.
func nextFireTimes(j *store.Job, now time.Time) []time.Time {
	if j.Broken != "" {
		return nil
	}
	t, err := j.ParseTrigger()
	if err != nil {
		return nil
	}
	var out []time.Time
	for x := now; len(out) < showFireTimes; {
		if x = t.Next(x); x.IsZero() {
			break
		}
		out = append(out, x)
	}
	return out
}

func writeShow(w io.Writer, j *store.Job, set store.Settings, fires []time.Time, runs []*store.Run, now time.Time) error {
	var b strings.Builder
	field := func(k, v string) { fmt.Fprintf(&b, "%-15s %s\n", k+":", v) }
	loc := j.Location()
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return view.WhenRelative(t, now, loc) + alsoLocal(t, loc)
	}
	o := j.Options
	field("ID", j.ID)
	field("Name", orDash(j.Name))
	field("Command", j.Command)
	state := view.State(j)
	if j.Broken != "" {
		state += ": " + j.Broken
	}
	field("State", state)
	field("Trigger", orDash(j.Trigger.String()))
	field("Time zone", zoneName(loc))
	if j.NextRun.IsZero() && j.State == store.Active && j.FiresAtStart() {
		field("Next run", atNextStart)
	} else {
		field("Next run", at(j.NextRun))
	}
	field("Misfire grace", jobfile.FormatGrace(o.MisfireGrace))
	field("Coalesce", strconv.FormatBool(o.Coalesce))
	field("Max instances", strconv.Itoa(o.MaxInstances))
	field("Executor", o.Executor)
	field("Timeout", durationOrNone(o.Timeout))
	field("Jitter", durationOrNone(o.Jitter))
	field("Directory", orDash(o.Dir))
	field("Environment", orDash(strings.Join(o.Env, " ")))
	field("Recover", strconv.FormatBool(o.Recover))
	field("Retries", retriesText(o.Retry))
	field("Overlap", o.Overlap.String())
	if p := j.Retry; p != nil {
		field("Retry pending", fmt.Sprintf("attempt %d of the fire time %s, at %s", p.Attempt, view.ZoneTime(p.FireTime, loc), at(p.At)))
	}
	if n := len(j.Buffered); n > 0 {
		field("Waiting", fmt.Sprintf("%d %s for an instance to end, the oldest %s", n, plural(n, "fire time", "fire times"), view.ZoneTime(j.Buffered[0].FireTime, loc)))
	}
	field("Mail to", mailTo(o, set))
	field("Mail on", o.MailOn.String())
	field("Ping", orDash(o.Ping))
	field("Anchor", at(j.Anchor))
	field("Created", at(j.Created))
	field("Updated", at(j.Updated))
	fmt.Fprintf(&b, "\nNext fire times:\n")
	switch {
	case j.FiresAtStart():
		b.WriteString("  none of its own: it fires at each scheduler start\n")
	case len(fires) == 0:
		b.WriteString("  none\n")
	}
	for _, t := range fires {
		fmt.Fprintf(&b, "  %s\n", at(t))
	}
	fmt.Fprintf(&b, "\nLast runs:\n")
	if len(runs) == 0 {
		b.WriteString("  none\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil || len(runs) == 0 {
		return err
	}
	t := &table{header: append([]string{"  RUN"}, runHeader...)}
	for _, r := range runs {
		t.add(append([]string{"  " + strconv.FormatUint(r.Seq, 10)}, runCells(r, now, loc)...)...)
	}
	return t.write(w, useColor(w))
}

// alsoLocal is t in the viewer's local zone, when that reads differently
// from the job's zone loc: ", 15:00:00 +01:00 here".
func alsoLocal(t time.Time, loc *time.Location) string {
	_, off := t.In(loc).Zone()
	if _, here := t.Local().Zone(); here == off {
		return ""
	}
	return ", " + t.Local().Format("2006-01-02 15:04:05 -07:00") + " here"
}

// zoneName names loc for people; a job stored without a zone by an older
// jobctl is read in each reader's local zone.
func zoneName(loc *time.Location) string {
	if loc == time.Local {
		return "local (stored without a zone: read in each reader's local zone)"
	}
	return loc.String()
}

// mailTo says where o's runs are mailed, and who said so.
func mailTo(o store.Options, set store.Settings) string {
	switch to := o.Recipients(set); {
	case o.MailTo != nil && to == "":
		return `none (mailto "")`
	case o.MailTo != nil:
		return to
	case to == "":
		return "none (no mailto, nor one of the scheduler's)"
	default:
		return to + " (the scheduler's mailto)"
	}
}

func durationOrNone(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return schedule.FormatDuration(d)
}

// retriesText says how a job retries: "none", or "3, after 10s, x2 each
// time, at most 5m".
func retriesText(r schedule.Retry) string {
	if r.Max == 0 {
		return "none"
	}
	r = r.WithDefaults()
	s := fmt.Sprintf("%d, after %s", r.Max, schedule.FormatDuration(r.Delay))
	if r.Backoff != 1 {
		s += fmt.Sprintf(", x%g each time", r.Backoff)
	}
	if r.MaxDelay > 0 {
		s += ", at most " + schedule.FormatDuration(r.MaxDelay)
	}
	return s + " (±10%)"
}
