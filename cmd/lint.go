package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store/jobfile"
)

type lintOptions struct {
	now func() time.Time
}

func newLintCmd(s Streams) *cobra.Command {
	o := &lintOptions{now: time.Now}
	return &cobra.Command{
		Use:   "lint FILE...",
		Short: "Check jobfiles without applying them",
		Long: `lint reads jobfiles (- is standard input) and reports every error, each
with its line and column,
and warns about the pitfalls of valid files: a crontab that restricts both
day-of-month and day-of-week (cron fires when EITHER matches), a step that
does not divide its range (*/35 minutes fires at :00 and :35), fixed times
in a DST gap or a repeated hour of the job's zone within the next year, and
triggers with no fire times left.

Everything lint says goes to stderr. It exits 2 when a file has errors, and
0 otherwise, warnings or not.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, files []string) error { return runLint(o, s, files) },
	}
}

func init() { commands = append(commands, newLintCmd) }

func runLint(o *lintOptions, s Streams, files []string) error {
	bad := 0
	for _, path := range files {
		f, err := loadJobfile(path, s.In)
		if err != nil {
			fmt.Fprintln(s.Err, err)
			bad++
			continue
		}
		ws := jobfile.Lint(f, o.now())
		for _, w := range ws {
			fmt.Fprintf(s.Err, "warning: %s\n", w)
		}
		fmt.Fprintf(s.Err, "%s: %d %s, %d %s\n", inputName(path), len(f.Jobs), plural(len(f.Jobs), "job", "jobs"),
			len(ws), plural(len(ws), "warning", "warnings"))
	}
	if bad > 0 {
		return usagef("%d of %d %s had errors", bad, len(files), plural(len(files), "file", "files"))
	}
	return nil
}
