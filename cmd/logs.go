package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

type logsOptions struct {
	io Streams
	db *database

	id     string
	seq    string // RUN, the run's number, as given
	hasSeq bool   // RUN was given; else the latest run that ran
}

func newLogsCmd(f *Factory) *cobra.Command {
	o := &logsOptions{io: f.IO, db: f.DB}
	return &cobra.Command{
		Use:   "logs ID [RUN]",
		Short: "Print the output of a job's run",
		Long: `logs prints what a run of a job printed (stdout and stderr, as they came),
as far as its record keeps it: the last 64 KiB. RUN is the run's number, as
jobctl history shows it; without it, the latest run that ran. A run's output
is recorded when it ends (jobctl run --log-dir keeps complete logs as they
are written).`,
		Example: `  jobctl logs backup
  jobctl logs backup 12`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeJobIDs(f.DB, false),
		RunE: func(c *cobra.Command, args []string) error {
			o.id = args[0]
			if len(args) == 2 {
				o.seq, o.hasSeq = args[1], true
			}
			return runLogs(c.Context(), o)
		},
	}
}

func runLogs(ctx context.Context, o *logsOptions) error {
	id := o.id
	var seq uint64
	if o.hasSeq {
		n, err := strconv.ParseUint(o.seq, 10, 64)
		if err != nil || n == 0 {
			return usagef("run %q: want a run number (1, 2, ...) as jobctl history shows it", o.seq)
		}
		seq = n
	}
	var r *store.Run
	var j *store.Job
	err := viewDB(ctx, o.db, func(tx store.Tx) (err error) {
		if j, err = tx.Job(id); err != nil {
			return err
		}
		if seq != 0 {
			r, err = tx.Run(id, seq)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("job %s has no run %d (jobctl history %s lists those kept)", id, seq, id)
			}
			return err
		}
		r, err = latestRan(tx, id)
		return err
	})
	if err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("job %s has not run yet", id)
	}
	status := fmt.Sprintf("run %d of job %s, fire time %s: %s", r.Seq, id, view.ZoneTime(r.FireTime, j.Location()), view.RunResult(r))
	if r.Outcome == store.Running {
		status += "; its output is recorded when it ends"
	}
	fmt.Fprintln(o.io.Err, status)
	_, err = io.WriteString(o.io.Out, r.Output)
	return err
}

// latestRan returns the job's latest run that ran to an end (nil: none).
// Runs that were not run (missed, skipped) have no output, nor have runs in
// progress yet.
func latestRan(tx store.Tx, id string) (*store.Run, error) {
	runs, err := tx.Runs(id, 0)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if !r.Started.IsZero() && r.Outcome != store.Running {
			return r, nil
		}
	}
	return nil, nil
}
