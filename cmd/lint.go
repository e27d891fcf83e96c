package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store/jobfile"
)

type lintOptions struct {
	io  Streams
	now func() time.Time

	files []string
}

func newLintCmd(f *Factory) *cobra.Command {
	o := &lintOptions{io: f.IO, now: f.Now}
	return &cobra.Command{
		Use:   "lint FILE...",
		Short: "Check jobfiles without applying them",
		Long: `lint reads jobfiles (- is standard input) and reports every error, each
with its line and column,
and warns about the pitfalls of valid files: a crontab that restricts both
day-of-month and day-of-week (cron fires when EITHER matches), a step that
does not divide its range (*/35 minutes fires at :00 and :35), fixed times
in a DST gap or a repeated hour of the job's zone within the next year,
triggers with no fire times left, mail that would not be sent (a mail_on
with no mailto; jobs that mail when no sendmail is found here), retries
that outlast the time between fire times, and on_start in a store with a
URL (a fleet sharing the database fires it once per start of the fleet,
not on each machine).

Everything lint says goes to stderr. It exits 2 when a file has errors, and
0 otherwise, warnings or not.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, files []string) error {
			o.files = files
			return runLint(c.Context(), o)
		},
	}
}

func runLint(_ context.Context, o *lintOptions) error {
	bad := 0
	for _, path := range o.files {
		f, err := loadJobfile(path, o.io.In)
		if err != nil {
			fmt.Fprintln(o.io.Err, err)
			bad++
			continue
		}
		ws := jobfile.Lint(f.File, o.now())
		for _, w := range ws {
			fmt.Fprintf(o.io.Err, "warning: %s\n", w)
		}
		fmt.Fprintf(o.io.Err, "%s: %d %s, %d %s\n", inputName(path), len(f.Jobs), plural(len(f.Jobs), "job", "jobs"),
			len(ws), plural(len(ws), "warning", "warnings"))
	}
	if bad > 0 {
		return usagef("%d of %d %s had errors", bad, len(o.files), plural(len(o.files), "file", "files"))
	}
	return nil
}
