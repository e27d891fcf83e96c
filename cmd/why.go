package cmd

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/explain"
	"github.com/jobctl/jobctl/store/view"
)

type whyOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	id     string
	last   int
	output string
}

func newWhyCmd(f *Factory) *cobra.Command {
	o := &whyOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:   "why ID [--last N] [-o table|json]",
		Short: "Explain what became of a job's last fire times, and when it runs next",
		Long: `why explains, in plain words and with the numbers, what became of a job's
last fire times, newest first: ran (succeeded or failed, exit code or
signal, duration, attempt k of n), missed (late by how much against its
misfire grace, because no scheduler ran from when to when, or the scheduler
was paused, or all the workers of its executor were busy), coalesced (how
many fire times were folded into which run), skipped (max instances, the job
paused from when to when), interrupted (which scheduler died, or was shut
down, while it ran); and then when and why the job runs next, or why it
does not (the job paused or finished, the scheduler paused, no scheduler
running).

It reads the history only: the runs, and the sessions and pauses every
scheduler records (the latest 100 of each), so it explains the past of a
scheduler that died too. A scheduler that left no clean stop died; its last
run of the job is when it was last seen.

In JSON (-o json): job_id; runs, newest first, each with seq, fire_time,
coalesced, outcome, attempt, attempts, exit_code, signal, duration_seconds
(null: did not run to its end), reason (as recorded), cause (one of
scheduler_down, scheduler_paused, job_paused, workers_busy, max_instances,
scheduler_died; absent when the outcome says it all), cause_from and
cause_to (the period the cause names, null when unknown or not over) and
explanation; and next, with next_run_time (null: none) and explanation.
Times are RFC 3339 in the job's zone.`,
		Example: `  jobctl why backup
  jobctl why backup --last 3
  jobctl why backup -o json`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeJobIDs(f.DB, true),
		RunE: func(c *cobra.Command, args []string) error {
			o.id = args[0]
			return runWhy(c.Context(), o)
		},
	}
	c.Flags().IntVar(&o.last, "last", 10, "explain the last N runs (0: every one kept)")
	addOutputFlag(c.Flags(), &o.output)
	return c
}

// whyJSON is what why says, in JSON.
type whyJSON struct {
	JobID string       `json:"job_id"`
	Runs  []whyRunJSON `json:"runs"` // newest first
	Next  whyNextJSON  `json:"next"`
}

type whyRunJSON struct {
	Seq             uint64   `json:"seq"`
	FireTime        *string  `json:"fire_time"`
	Coalesced       int      `json:"coalesced"`
	Outcome         string   `json:"outcome"`
	Attempt         int      `json:"attempt"`
	Attempts        int      `json:"attempts"`
	ExitCode        *int     `json:"exit_code"`
	Signal          string   `json:"signal,omitempty"`
	DurationSeconds *float64 `json:"duration_seconds"`
	Reason          string   `json:"reason,omitempty"`
	Cause           string   `json:"cause,omitempty"`
	CauseFrom       *string  `json:"cause_from"`
	CauseTo         *string  `json:"cause_to"`
	Explanation     string   `json:"explanation"`
}

type whyNextJSON struct {
	NextRunTime *string `json:"next_run_time"`
	Explanation string  `json:"explanation"`
}

func runWhy(ctx context.Context, o *whyOptions) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	if o.last < 0 {
		return usagef("--last: %d is negative", o.last)
	}
	l, err := o.db.location()
	if err != nil {
		return err
	}
	var in explain.Input
	var fleet fleetView
	err = viewAt(ctx, l.open, func(tx store.Tx) (err error) {
		in = explain.Input{}
		if in.Job, err = tx.Job(o.id); err != nil {
			return err
		}
		if in.Runs, err = tx.Runs(o.id, o.last); err != nil {
			return err
		}
		if in.Sessions, err = tx.Periods(store.SessionPeriod); err != nil {
			return err
		}
		if in.Pauses, err = tx.Periods(store.PausePeriod); err != nil {
			return err
		}
		set, err := tx.Settings()
		if err != nil {
			return err
		}
		in.Paused = set.Paused
		fleet, err = readFleet(tx)
		return err
	})
	if err != nil {
		return err
	}
	// Whether a scheduler runs is found as jobctl scheduler status finds it.
	if fleet.on {
		in.SchedulerRunning = fleet.running()
	} else if in.SchedulerRunning, _, err = l.scheduler(); err != nil {
		return err
	}
	in.Now = o.now()
	rep := explain.Explain(in)
	if o.output == outputJSON {
		return writeJSON(o.io.Out, newWhyJSON(in.Job, rep))
	}
	return writeWhy(o.io, in.Job, rep)
}

func newWhyJSON(j *store.Job, rep explain.Report) whyJSON {
	loc := j.Location()
	v := whyJSON{JobID: j.ID, Runs: []whyRunJSON{}, Next: whyNextJSON{NextRunTime: view.Time(rep.Next.Time, loc), Explanation: rep.Next.Text}}
	for _, e := range rep.Entries {
		r := e.Run
		w := whyRunJSON{Seq: r.Seq, FireTime: view.Time(r.FireTime, loc), Coalesced: r.Coalesced, Outcome: string(r.Outcome),
			Attempt: r.AttemptNumber(), Attempts: e.Attempts, ExitCode: r.ExitCode, Signal: r.Signal, Reason: r.Reason,
			Cause: string(e.Cause), CauseFrom: view.Time(e.From, loc), CauseTo: view.Time(e.To, loc), Explanation: e.Text}
		if !r.Started.IsZero() && !r.Ended.IsZero() {
			s := e.Duration.Seconds()
			w.DurationSeconds = &s
		}
		v.Runs = append(v.Runs, w)
	}
	return v
}

// writeWhy writes rep for people: a table of the runs, newest first, then
// the next run.
func writeWhy(s Streams, j *store.Job, rep explain.Report) error {
	if len(rep.Entries) == 0 {
		fmt.Fprintf(s.Err, "job %s has no runs yet\n", j.ID)
	} else {
		t := &table{header: []string{"RUN", "FIRE TIME", "OUTCOME", "WHAT HAPPENED, AND WHY"}}
		for _, e := range rep.Entries {
			t.add("#"+strconv.FormatUint(e.Run.Seq, 10), view.ZoneTime(e.Run.FireTime, j.Location()), string(e.Run.Outcome), e.Text)
		}
		if err := t.write(s.Out, useColor(s.Out)); err != nil {
			return err
		}
		fmt.Fprintln(s.Out)
	}
	_, err := io.WriteString(s.Out, "Next run: "+rep.Next.Text+"\n")
	return err
}
