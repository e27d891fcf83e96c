package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

type rescheduleOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	id      string
	trigger triggerFlags
}

func newRescheduleCmd(f *Factory) *cobra.Command {
	o := &rescheduleOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:   "reschedule ID TRIGGER FLAGS",
		Short: "Give a job a new trigger",
		Long: `reschedule replaces a job's trigger (the flags are those of jobctl next) and
computes its next run from now. A paused job stays paused; a finished one
becomes active again.`,
		Example: `  jobctl reschedule backup --cron '0 4 * * *'
  jobctl reschedule heartbeat --every 1m --start now`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeJobIDs(f.DB, true),
		RunE: func(c *cobra.Command, args []string) error {
			o.id = args[0]
			return runReschedule(c.Context(), o)
		},
	}
	o.trigger.register(c.Flags())
	return c
}

func runReschedule(ctx context.Context, o *rescheduleOptions) error {
	spec, ok, err := checkTriggerFlags(&o.trigger)
	if err != nil {
		return err
	}
	if !ok {
		return usagef("no trigger: give --cron, --every, --at, --on-start or keyword fields such as --hour")
	}
	now := o.now()
	return updateJobs(ctx, o.db, []string{o.id}, now, o.io.Err, func(j *store.Job) (bool, string, error) {
		paused := j.State == store.Paused
		j.Trigger, j.State = spec, store.Active
		if err := j.SetTrigger(now); err != nil {
			return false, "", asUsage(err)
		}
		if j.State == store.Finished {
			return false, "", usagef("%s", noFireTimes(j.Trigger, "after now ("+view.ZoneTime(now, j.Location())+")"))
		}
		if paused {
			j.Pause(now)
		}
		return true, fmt.Sprintf("rescheduled job %s (%s): %s", j.ID, j.Trigger, nextRunText(j, now)), nil
	})
}
