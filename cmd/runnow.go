package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
)

type runNowOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	ids []string
}

func newRunNowCmd(f *Factory) *cobra.Command {
	o := &runNowOptions{io: f.IO, now: f.Now, db: f.DB}
	return &cobra.Command{
		Use:   "run-now ID...",
		Short: "Make jobs due now, keeping their triggers",
		Long: `run-now asks for one run of each job now, besides its trigger's fire times: a
running scheduler runs it within a second, or the next scheduler to start
does, however much later that is (a requested run is never missed; its
record says how late it started). After that run the job follows its
trigger again. A finished job runs once more and stays finished; a paused
job must be resumed first, and pausing a job drops a run requested of it.`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeJobIDs(f.DB, false),
		RunE: func(c *cobra.Command, ids []string) error {
			o.ids = ids
			return runRunNow(c.Context(), o)
		},
	}
}

func runRunNow(ctx context.Context, o *runNowOptions) error {
	now := o.now()
	return updateJobs(ctx, o.db, o.ids, now, o.io.Err, func(j *store.Job) (bool, string, error) {
		if err := j.RunNow(now); err != nil {
			return false, "", err
		}
		return true, fmt.Sprintf("job %s is due now", j.ID), nil
	})
}
