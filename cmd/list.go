package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

type listOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	output string
}

func newListCmd(f *Factory) *cobra.Command {
	o := &listOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:     "list [-o table|json]",
		Aliases: []string{"ls"},
		Short:   "List the jobs",
		Long: `list prints every job, in id order: its trigger, its next run (local time,
and how far away), its state (active, paused, finished, or broken when the
stored job can no longer be read) and the result of its last run.

When $JOBCTL_JOBFILE names stores ([stores.NAME] tables), list lists the
jobs of every one of them, store by store, with a STORE column (and a store
field in JSON); --store NAME lists one.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runList(c.Context(), o) },
	}
	addOutputFlag(c.Flags(), &o.output)
	return c
}

// listed is a job, its store and its last run (nil: none yet).
type listed struct {
	store string
	job   *store.Job
	last  *store.Run
}

func runList(ctx context.Context, o *listOptions) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	stores, named, err := o.db.every()
	if err != nil {
		return err
	}
	var jobs []listed
	for _, s := range stores {
		err := viewAt(ctx, s.loc.open, func(tx store.Tx) error {
			return tx.Jobs(func(j *store.Job) error {
				l := listed{store: s.name, job: j}
				runs, err := tx.Runs(j.ID, 1)
				if err != nil {
					return err
				}
				if len(runs) > 0 {
					l.last = runs[0]
				}
				jobs = append(jobs, l)
				return nil
			})
		})
		if err != nil {
			return storeErr(s.name, named, err)
		}
	}
	if o.output == outputJSON {
		out := make([]view.Job, len(jobs))
		for i, l := range jobs {
			out[i] = view.NewJob(l.job)
			if named {
				out[i].Store = l.store
			}
		}
		return writeJSON(o.io.Out, out)
	}
	if len(jobs) == 0 {
		fmt.Fprintln(o.io.Err, "no jobs (add one with jobctl add, or jobctl apply -f FILE)")
		return nil
	}
	now := o.now()
	t := &table{header: []string{"ID", "NAME", "TRIGGER", "NEXT RUN", "STATE", "LAST RESULT"}}
	if named {
		t.header = append([]string{"STORE"}, t.header...)
	}
	for _, l := range jobs {
		j := l.job
		next := "-"
		if at, words := view.NextRun(j); !at.IsZero() {
			next = view.WhenRelative(at, now, j.Location())
		} else if words != "" {
			next = words
		}
		last := "-"
		if l.last != nil {
			last = view.RunResult(l.last)
			if at := view.LastTime(l.last); !at.IsZero() {
				last += " " + view.Relative(at, now)
			}
		}
		row := []string{j.ID, orDash(j.Name), orDash(j.Trigger.String()), next, view.State(j), last}
		if named {
			row = append([]string{l.store}, row...)
		}
		t.add(row...)
	}
	if err := t.write(o.io.Out, useColor(o.io.Out)); err != nil {
		return err
	}
	for _, l := range jobs {
		if l.job.Broken != "" {
			in := ""
			if named {
				in = " (store " + l.store + ")"
			}
			fmt.Fprintf(o.io.Err, "job %s%s is broken: %s\n", l.job.ID, in, l.job.Broken)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
