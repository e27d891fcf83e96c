package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
)

type runNowOptions struct {
	now func() time.Time
}

func newRunNowCmd(s Streams) *cobra.Command {
	o := &runNowOptions{now: time.Now}
	return &cobra.Command{
		Use:   "run-now ID...",
		Short: "Make jobs due now, keeping their triggers",
		Long: `run-now sets the next run of jobs to now, so a running scheduler runs each
once within a second (or the next scheduler to start does). After that run
the job follows its trigger again. A finished job runs once more and stays
finished; a paused job must be resumed first.`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeJobIDs(false),
		RunE:              func(_ *cobra.Command, ids []string) error { return runRunNow(o, s, ids) },
	}
}

func init() { commands = append(commands, newRunNowCmd) }

func runRunNow(o *runNowOptions, s Streams, ids []string) error {
	now := o.now()
	return updateJobs(ids, now, s.Err, func(j *store.Job) (bool, string, error) {
		if j.State == store.Paused {
			return false, "", fmt.Errorf("paused: resume it first (jobctl resume %s)", j.ID)
		}
		j.State, j.NextRun = store.Active, now
		return true, fmt.Sprintf("job %s is due now", j.ID), nil
	})
}
