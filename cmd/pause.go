package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
)

// pauseOptions are those of pause and of resume.
type pauseOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	ids []string
}

func newPauseCmd(f *Factory) *cobra.Command {
	o := &pauseOptions{io: f.IO, now: f.Now, db: f.DB}
	return &cobra.Command{
		Use:   "pause ID...",
		Short: "Pause jobs: keep them, but do not run them",
		Long: `pause stops jobs from running until jobctl resume; runs in progress finish.
All the jobs are paused or, if one id is unknown, none is. Pausing a paused
job does nothing. (To pause the whole scheduler, see jobctl scheduler.)`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeJobIDs(f.DB, false),
		RunE: func(c *cobra.Command, ids []string) error {
			o.ids = ids
			return runPause(c.Context(), o)
		},
	}
}

func newResumeCmd(f *Factory) *cobra.Command {
	o := &pauseOptions{io: f.IO, now: f.Now, db: f.DB}
	return &cobra.Command{
		Use:   "resume ID...",
		Short: "Resume paused jobs",
		Long: `resume makes paused jobs run again. Their next run is their trigger's first
fire time from now on: the fire times that passed while a job was paused are
not made up for; they are recorded as one skipped run (the latest of them,
the others coalesced into it), which jobctl why explains. A job whose trigger has no fire times left is finished.`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeJobIDs(f.DB, false),
		RunE: func(c *cobra.Command, ids []string) error {
			o.ids = ids
			return runResume(c.Context(), o)
		},
	}
}

func runPause(ctx context.Context, o *pauseOptions) error {
	now := o.now()
	return updateJobs(ctx, o.db, o.ids, now, o.io.Err, func(j *store.Job) (bool, string, error) {
		switch j.State {
		case store.Paused:
			return false, fmt.Sprintf("job %s is already paused", j.ID), nil
		case store.Finished:
			return false, fmt.Sprintf("job %s is finished: nothing to pause", j.ID), nil
		}
		j.Pause(now)
		return true, fmt.Sprintf("paused job %s", j.ID), nil
	})
}

func runResume(ctx context.Context, o *pauseOptions) error {
	now := o.now()
	return updateJobsTx(ctx, o.db, o.ids, now, o.io.Err, func(tx store.Tx, j *store.Job) (bool, string, error) {
		switch j.State {
		case store.Active:
			return false, fmt.Sprintf("job %s is not paused", j.ID), nil
		case store.Finished:
			return false, fmt.Sprintf("job %s is finished: its trigger has no fire times left (give it a new one with jobctl reschedule)", j.ID), nil
		}
		// The fire times passed over go into the history (jobctl why).
		if _, err := store.ResumePaused(tx, j, now); err != nil {
			return false, "", err
		}
		return true, fmt.Sprintf("resumed job %s: %s", j.ID, nextRunText(j, now)), nil
	})
}
