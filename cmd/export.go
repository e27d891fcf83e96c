package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/jobfile"
)

type exportOptions struct {
	io Streams
	db *database
}

func newExportCmd(f *Factory) *cobra.Command {
	o := &exportOptions{io: f.IO, db: f.DB}
	return &cobra.Command{
		Use:   "export",
		Short: "Print the stored jobs as a jobfile",
		Long: `export prints every stored job, and the settings a jobfile holds, as a TOML
jobfile on stdout. Applied to an empty database it gives the same jobs;
their next runs start again from the time of that apply. Broken jobs cannot
be written and are left out, with a warning.`,
		Example: `  jobctl export > jobs.toml
  jobctl --db other.db apply -f jobs.toml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runExport(c.Context(), o) },
	}
}

func runExport(ctx context.Context, o *exportOptions) error {
	var jobs []*store.Job
	var settings store.Settings
	err := viewDB(ctx, o.db, func(tx store.Tx) (err error) {
		if settings, err = tx.Settings(); err != nil {
			return err
		}
		return tx.Jobs(func(j *store.Job) error {
			if j.Broken != "" {
				fmt.Fprintf(o.io.Err, "warning: job %s is broken (%s): left out\n", j.ID, j.Broken)
				return nil
			}
			jobs = append(jobs, j)
			return nil
		})
	})
	if err != nil {
		return err
	}
	out, err := jobfile.Export(settings, jobs)
	if err != nil {
		return err
	}
	_, err = o.io.Out.Write(out)
	return err
}
