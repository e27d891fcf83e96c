package cmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

type historyOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	id     string // empty: every job
	n      int
	output string
}

func newHistoryCmd(f *Factory) *cobra.Command {
	o := &historyOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:   "history [ID] [-n N] [-o table|json]",
		Short: "Show the runs of a job, or of every job",
		Long: `history prints the run records of one job, or of every job, newest first:
each fire time the scheduler dealt with and what became of it - success,
failed, timeout, interrupted (the scheduler stopped while it ran), missed
(later than its misfire grace; not run), skipped (max instances were running;
not run) or running - with how many earlier fire times were coalesced into
it, which attempt at its fire time it is when not the first (a job with
--recover runs a fire time again when its scheduler dies mid-run), and why
it failed or was not run. jobctl logs shows a run's output.

In JSON, times are RFC 3339 and absent ones (a run not started) null, as are
exit codes of runs that did not exit.`,
		Example: `  jobctl history
  jobctl history backup -n 5
  jobctl history backup -o json`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeJobIDs(f.DB, false),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.id = args[0]
			}
			return runHistory(c.Context(), o)
		},
	}
	c.Flags().IntVarP(&o.n, "limit", "n", 20, "show the newest N runs (0: all)")
	addOutputFlag(c.Flags(), &o.output)
	return c
}

func runHistory(ctx context.Context, o *historyOptions) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	if o.n < 0 {
		return usagef("-n: %d is negative", o.n)
	}
	var runs []*store.Run
	var zones map[string]*time.Location
	err := viewDB(ctx, o.db, func(tx store.Tx) (err error) {
		if runs, err = tx.Runs(o.id, o.n); err != nil {
			return err
		}
		zones, err = jobZones(tx, runs)
		return err
	})
	if err != nil {
		return err
	}
	if o.output == outputJSON {
		out := make([]view.Run, len(runs))
		for i, r := range runs {
			out[i] = view.NewRun(r, zones[r.JobID])
		}
		return writeJSON(o.io.Out, out)
	}
	if len(runs) == 0 {
		if o.id == "" {
			fmt.Fprintln(o.io.Err, "no runs yet")
		} else {
			fmt.Fprintf(o.io.Err, "job %s has no runs yet\n", o.id)
		}
		return nil
	}
	now := o.now()
	t := &table{header: append([]string{"JOB", "RUN"}, runHeader...)}
	for _, r := range runs {
		t.add(append([]string{r.JobID, strconv.FormatUint(r.Seq, 10)}, runCells(r, now, zones[r.JobID])...)...)
	}
	return t.write(o.io.Out, useColor(o.io.Out))
}

// runHeader heads the columns of runCells.
var runHeader = []string{"FIRE TIME", "STARTED", "DURATION", "RESULT", "NOTE"}

// runCells are the columns a table of runs gives each run, in history and
// in show alike; loc is the zone of the run's job.
func runCells(r *store.Run, now time.Time, loc *time.Location) []string {
	started, took := "-", "-"
	if !r.Started.IsZero() {
		started = view.Relative(r.Started, now)
		if !r.Ended.IsZero() {
			took = schedule.FormatDuration(r.Ended.Sub(r.Started).Round(time.Millisecond))
		}
	}
	return []string{view.ZoneTime(r.FireTime, loc), started, took, view.RunResult(r), orDash(runNote(r))}
}

// jobZones maps the jobs of runs to their zones, in which their times are
// shown.
func jobZones(tx store.Tx, runs []*store.Run) (map[string]*time.Location, error) {
	zones := make(map[string]*time.Location)
	for _, r := range runs {
		if zones[r.JobID] != nil {
			continue
		}
		j, err := tx.Job(r.JobID)
		if err != nil {
			return nil, err
		}
		zones[r.JobID] = j.Location()
	}
	return zones, nil
}

// runNote says why a run ended as it did, and what it stands for.
func runNote(r *store.Run) string {
	var parts []string
	if n := r.AttemptNumber(); n > 1 {
		parts = append(parts, fmt.Sprintf("attempt %d", n))
	}
	if !r.Buffered.IsZero() {
		parts = append(parts, "waited for an instance to end from "+r.Buffered.In(r.FireTime.Location()).Format(time.TimeOnly))
	}
	if n := r.Coalesced; n > 0 {
		// Due stops counting at CountLimit-1.
		atLeast := ""
		if n >= schedule.CountLimit-1 {
			atLeast = "at least "
		}
		if r.Outcome == store.Missed {
			// The fire times folded into a missed record were missed
			// too, whether the job coalesces or not.
			parts = append(parts, fmt.Sprintf("stands for %s%d missed fire times, up to this one", atLeast, n+1))
		} else {
			parts = append(parts, fmt.Sprintf("%s%d earlier %s coalesced", atLeast, n, plural(n, "fire time", "fire times")))
		}
	}
	if r.Requested {
		note := "run-now"
		if late := r.Started.Sub(r.FireTime); !r.Started.IsZero() && late >= time.Second {
			note += ", started " + schedule.FormatDuration(late.Round(time.Second)) + " late"
		}
		parts = append(parts, note)
	}
	// A failure's exit code or signal is in the result already; a run that
	// could not start has only its reason to say why.
	if r.Reason != "" && (r.Outcome != store.Failed || r.ExitCode == nil && r.Signal == "") {
		parts = append(parts, r.Reason)
	}
	if !r.RetryAt.IsZero() {
		parts = append(parts, fmt.Sprintf("retry (attempt %d) at %s", r.AttemptNumber()+1, r.RetryAt.In(r.FireTime.Location()).Format(time.TimeOnly)))
	}
	return strings.Join(parts, "; ")
}
