package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store/migrate"
)

type migrateOptions struct {
	io  Streams
	now func() time.Time
	db  *database // only to refuse --db and --store, which would say a third database

	from, to string
	force    bool
	dryRun   bool
}

func newMigrateCmd(f *Factory) *cobra.Command {
	o := &migrateOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:   "migrate --from DB --to DB [--force] [--dry-run]",
		Short: "Copy the jobs and their history from one database to another",
		Long: `migrate copies the scheduler's settings, every job as it is stored (its state
and next run included) and each job's runs, with their numbers, from the
database --from names to the one --to names, which is created if need be.
Either is a database file path (--db is not used). The journal of changes is not copied: it
tells the schedulers running on the source what changed there. migrate
records its own changes on the target, as every command does.

Each job is copied with its whole history in one transaction, some jobs at a
time, so a migrate that fails part way leaves whole jobs behind, and running
it again copies the rest. A job the target holds as the source does is left
alone: running migrate again copies nothing.

The target must have no jobs, or only what an earlier migrate from this
source copied; a target with other jobs, jobs that differ from the source's
(or whose runs do), or jobs and other settings is refused, and nothing is
written. --force copies anyway: the target's jobs of the source's ids are
replaced, their history too, its other jobs are left alone, and its settings
become the source's.

Stop the scheduler on the source first: migrate refuses a source a scheduler
runs on, which would change under the copy. Broken jobs (that cannot be
decoded, or whose trigger no longer parses) cannot be copied: they are named
on standard error, the others are copied, and the exit status is 1.

migrate prints one line per job it copies on stdout ("+ id" added, "~ id"
replaced), and what it did on standard error; --dry-run prints them and
writes nothing.`,
		Example: `  jobctl migrate --from ~/.local/share/jobctl/jobs.db --to /srv/jobctl/jobs.db
  jobctl migrate --from old.db --to new.db --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runMigrate(c.Context(), o) },
	}
	fs := c.Flags()
	fs.StringVar(&o.from, "from", "", "the database to copy from (required)")
	fs.StringVar(&o.to, "to", "", "the database to copy to (required)")
	fs.BoolVar(&o.force, "force", false, "replace the target's jobs of the same ids, and leave its others")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would be copied, and write nothing")
	_ = c.MarkFlagFilename("from", "db")
	_ = c.MarkFlagFilename("to", "db")
	return c
}

func runMigrate(ctx context.Context, o *migrateOptions) error {
	if o.db.path != "" {
		return usagef("--db %q: migrate names its databases with --from and --to", o.db.path)
	}
	if o.db.store != "" {
		return usagef("--store %q: migrate names its databases with --from and --to", o.db.store)
	}
	from, err := parseLocation("--from", o.from)
	if err != nil {
		return err
	}
	to, err := parseLocation("--to", o.to)
	if err != nil {
		return err
	}
	if err := from.check(true); err != nil {
		return err
	}
	if err := to.check(false); err != nil {
		return err
	}
	if from.same(to) {
		return usagef("--from %q and --to %q are the same database", from, to)
	}
	if err := checkSchedulers(o, from, to); err != nil {
		return err
	}

	src, err := from.open(forReading)
	if err != nil {
		return err
	}
	defer src.Close()
	mode := forWriting
	if o.dryRun {
		mode = forDryRun
	}
	dst, err := to.open(mode)
	if err != nil {
		return err
	}
	defer dst.Close()

	rep, err := migrate.Copy(ctx, src, dst, migrate.Options{Force: o.force, DryRun: o.dryRun, Now: o.now()})
	var conflict *migrate.ConflictError
	if errors.As(err, &conflict) {
		return fmt.Errorf("%s: %w; with --force, its jobs of the source's ids are replaced and its others left alone", to, err)
	}
	if rep != nil {
		writeMigrate(o, from, to, rep)
	}
	if err != nil {
		return err
	}
	if n := len(rep.Broken); n > 0 {
		return fmt.Errorf("%s: %d broken %s not copied (see above)", from, n, plural(n, "job", "jobs"))
	}
	return nil
}

// checkSchedulers refuses a source a scheduler runs on, whose jobs and runs
// would change under the copy (a dry run only warns), and warns of one on
// the target, which runs the jobs as they land.
func checkSchedulers(o *migrateOptions, from, to *location) error {
	for _, l := range []*location{from, to} {
		running, pid, err := l.scheduler()
		if err != nil {
			return err
		}
		if !running {
			continue
		}
		who := "a scheduler"
		if pid != 0 {
			who += fmt.Sprintf(" (pid %d)", pid)
		}
		switch {
		case l == to:
			fmt.Fprintf(o.io.Err, "warning: %s runs on %s: it runs the jobs as they are copied\n", who, to)
		case o.dryRun:
			fmt.Fprintf(o.io.Err, "warning: %s runs on %s: stop it before migrating, or its jobs and runs change under the copy\n", who, from)
		default:
			return fmt.Errorf("%s runs on %s: stop it first, or its jobs and runs change under the copy", who, from)
		}
	}
	return nil
}

// writeMigrate prints the jobs copied on stdout, and the broken ones and a
// summary on stderr.
func writeMigrate(o *migrateOptions, from, to *location, rep *migrate.Report) {
	for _, l := range []struct {
		mark string
		ids  []string
	}{{"+", rep.Copied}, {"~", rep.Replaced}} {
		for _, id := range l.ids {
			fmt.Fprintf(o.io.Out, "%s %s\n", l.mark, id)
		}
	}
	for _, j := range rep.Broken {
		fmt.Fprintf(o.io.Err, "warning: job %s is broken (%s): not copied\n", j.ID, j.Broken)
	}
	jobs := len(rep.Copied) + len(rep.Replaced)
	verb := "copied"
	if o.dryRun {
		verb = "would copy (dry run, nothing written)"
	}
	replaced := ""
	if n := len(rep.Replaced); n > 0 {
		replaced = fmt.Sprintf(" (%d replaced)", n)
	}
	msg := fmt.Sprintf("%s %d %s%s and %d %s from %s to %s", verb, jobs, plural(jobs, "job", "jobs"), replaced,
		rep.Runs, plural(rep.Runs, "run", "runs"), from, to)
	switch {
	case jobs == 0 && !rep.Settings:
		msg = fmt.Sprintf("nothing to copy from %s to %s", from, to)
	case rep.Settings:
		msg += ", and the settings"
	}
	if n := len(rep.Unchanged); n > 0 {
		msg += fmt.Sprintf("; %d %s there already", n, plural(n, "job", "jobs"))
	}
	if n := len(rep.Kept); n > 0 {
		msg += fmt.Sprintf("; %d %s of the target's own left alone", n, plural(n, "job", "jobs"))
	}
	fmt.Fprintln(o.io.Err, msg)
}
