package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/crontab"
	"github.com/jobctl/jobctl/store/jobfile"
)

type importOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	crontab string
	system  bool
	user    string
	prefix  string
	dryRun  bool
}

func newImportCmd(f *Factory) *cobra.Command {
	o := &importOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:   "import --crontab FILE|- [--system [--user NAME]] [--prefix PREFIX] [--dry-run]",
		Short: "Turn the lines of a crontab into jobs",
		Long: `import reads a crontab (FILE, or standard input for -) and stores a job for
each of its lines, in one transaction: a cron trigger on the line's five fields
(or its @macro) and its command. Each job's id is --prefix and a hash of the
line, so importing the same crontab again changes nothing, and importing an
edited one changes only the jobs of the edited lines (jobs of lines since
removed stay; remove them with jobctl remove). A job paused since the last
import stays paused.

Variable lines (NAME=value) become the environment of the jobs below them.
CRON_TZ is the time zone of the triggers below it, and TZ too where no CRON_TZ
is set. A SHELL other than /bin/sh runs the command ("exec SHELL -c ..."). The
input cron gives a command after an unescaped % becomes a here-document.
@reboot becomes a job that runs at each start of jobctl run (--on-start: not at once
if one is running). MAILTO is the mailto of the jobs below it, as in cron
(MAILTO="" mails nothing; above any MAILTO, a job mails where the
scheduler's [scheduler] mailto says); MAILFROM is ignored.

--system reads the user column of /etc/crontab and /etc/cron.d files. jobctl
runs every job as the user running jobctl run, so only the lines of --user
(default: you) are imported, and the others are skipped with a warning.

Lines that cannot be converted are reported on standard error as FILE:LINE:
reason; the others are imported and the exit status is 1. --dry-run prints
what would be done, with the same report and exit status, and writes nothing.`,
		Example: `  crontab -l | jobctl import --crontab -
  sudo jobctl import --crontab /etc/crontab --system --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runImport(c.Context(), o) },
	}
	fs := c.Flags()
	fs.StringVar(&o.crontab, "crontab", "", "the crontab to import; - reads standard input")
	fs.BoolVar(&o.system, "system", false, "the crontab has a user column (/etc/crontab, /etc/cron.d)")
	fs.StringVar(&o.user, "user", "", "with --system: import the lines of this user (default: the current user)")
	fs.StringVar(&o.prefix, "prefix", crontab.DefaultPrefix, "start every job id with PREFIX")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would be imported and write nothing")
	_ = c.MarkFlagFilename("crontab")
	return c
}

func runImport(ctx context.Context, o *importOptions) error {
	if o.crontab == "" {
		return usagef("--crontab: no file given (want a crontab FILE, or - for standard input)")
	}
	if err := crontab.CheckPrefix(o.prefix); err != nil {
		return usagef("--prefix: %v", err)
	}
	if o.user != "" && !o.system {
		return usagef("--user %s: only a system crontab (--system) has users", o.user)
	}
	who := o.user
	if o.system && who == "" {
		u, err := user.Current()
		if err != nil {
			return fmt.Errorf("--system: %v; name the user with --user", err)
		}
		who = u.Username
	}
	name, in := inputName(o.crontab), o.io.In
	if o.crontab != "-" {
		// A crontab that cannot be read is bad input, as a jobfile is.
		f, err := os.Open(name)
		if err != nil {
			return asUsage(err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return usagef("%s: is a directory, not a crontab", name)
		}
		in = f
	}
	zone, err := store.LocalZone()
	if err != nil {
		return asUsage(err)
	}
	res, err := crontab.Parse(in, crontab.Options{System: o.system, User: who, Prefix: o.prefix, Defaults: store.DefaultOptions(), Zone: zone})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, p := range res.Warnings {
		fmt.Fprintf(o.io.Err, "%s:%d: warning: %s\n", name, p.Line, p.Reason)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(o.io.Err, "%s:%d: %s\n", name, p.Line, p.Reason)
	}

	var report jobfile.Report
	if len(res.Entries) > 0 {
		// Apply reads no Defaults: the jobs' options are resolved.
		file := &jobfile.File{}
		for _, e := range res.Entries {
			j := e.Job
			j.State = store.Active
			file.Jobs = append(file.Jobs, jobfile.Job{Job: j})
		}
		err := update(ctx, o.db, o.dryRun, func(tx store.Tx) (err error) {
			if err := keepPaused(tx, file); err != nil {
				return err
			}
			report, err = jobfile.Apply(tx, file, o.now(), jobfile.ApplyOptions{JobsOnly: true})
			return err
		})
		if err != nil {
			return err
		}
		if err := writeImport(o.io.Out, res.Entries, report); err != nil {
			return err
		}
	}
	for _, id := range report.Finished {
		fmt.Fprintf(o.io.Err, "warning: job %s has no fire times left: stored finished\n", id)
	}
	verb := "imported"
	if o.dryRun {
		verb = "would import (dry run, nothing written)"
	}
	fmt.Fprintf(o.io.Err, "%s %d %s from %s: %d added, %d changed, %d unchanged\n", verb, len(res.Entries),
		plural(len(res.Entries), "job", "jobs"), name, len(report.Added), len(report.Changed), len(report.Unchanged))
	if n := len(res.Problems); n > 0 {
		return fmt.Errorf("%s: %d %s not imported (see above)", name, n, plural(n, "line", "lines"))
	}
	return nil
}

// keepPaused marks paused the file's jobs that are stored paused: a crontab
// says nothing about pausing, and re-importing one must not resume a job
// its user paused.
func keepPaused(tx store.Tx, f *jobfile.File) error {
	for i := range f.Jobs {
		old, err := tx.Job(f.Jobs[i].ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case old.State == store.Paused:
			f.Jobs[i].State = store.Paused
		}
	}
	return nil
}

// writeImport prints a table of the crontab's jobs: what the import did
// with each, its id, its line, its trigger and its command on one line.
func writeImport(w io.Writer, entries []crontab.Entry, r jobfile.Report) error {
	action := map[string]string{}
	for _, l := range []struct {
		ids  []string
		verb string
	}{{r.Added, "added"}, {r.Changed, "changed"}, {r.Unchanged, "unchanged"}} {
		for _, id := range l.ids {
			action[id] = l.verb
		}
	}
	t := table{header: []string{"ACTION", "ID", "LINE", "TRIGGER", "COMMAND"}}
	for _, e := range entries {
		t.add(action[e.Job.ID], e.Job.ID, strconv.Itoa(e.Line), e.Job.Trigger.String(), strings.ReplaceAll(e.Job.Command, "\n", `\n`))
	}
	return t.write(w, useColor(w))
}
