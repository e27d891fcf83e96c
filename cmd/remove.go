package cmd

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
)

type removeOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	ids []string
	all bool
	yes bool
}

func newRemoveCmd(f *Factory) *cobra.Command {
	o := &removeOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:     "remove ID... | --all --yes",
		Aliases: []string{"rm"},
		Short:   "Remove jobs and their history",
		Long: `remove deletes jobs and their run history. All the jobs are removed or, if
one id is unknown, none is. Runs in progress are not stopped. --all removes
every job, and asks for --yes to be sure.`,
		ValidArgsFunction: completeJobIDs(f.DB, false),
		RunE: func(c *cobra.Command, ids []string) error {
			o.ids = ids
			return runRemove(c.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.all, "all", false, "remove every job")
	c.Flags().BoolVar(&o.yes, "yes", false, "confirm --all")
	return c
}

func runRemove(ctx context.Context, o *removeOptions) error {
	ids := o.ids
	switch {
	case o.all && len(ids) > 0:
		return usagef("--all removes every job: give it without ids")
	case o.all && !o.yes:
		return usagef("--all removes every job and its history: add --yes to confirm")
	case !o.all && len(ids) == 0:
		return usagef("no job ids (or --all --yes to remove every job)")
	}
	now := o.now()
	var gone []string
	err := update(ctx, o.db, false, func(tx store.Tx) error {
		gone = uniq(ids)
		if o.all {
			gone = nil
			err := tx.Jobs(func(j *store.Job) error { gone = append(gone, j.ID); return nil })
			if err != nil {
				return err
			}
		}
		for _, id := range gone {
			if err := tx.DeleteJob(id); err != nil {
				return err
			}
			if err := tx.RecordChange(store.Change{Time: now, Kind: store.JobRemoved, JobID: id}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if o.all {
		fmt.Fprintf(o.io.Err, "removed %d %s\n", len(gone), plural(len(gone), "job", "jobs"))
		return nil
	}
	for _, id := range gone {
		fmt.Fprintf(o.io.Err, "removed job %s\n", id)
	}
	return nil
}

// uniq returns ids without repeats, in order.
func uniq(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
