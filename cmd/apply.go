package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/jobfile"
)

type applyOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	file   string
	prune  bool
	dryRun bool
}

func newApplyCmd(f *Factory) *cobra.Command {
	o := &applyOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:   "apply -f FILE|- [--prune] [--dry-run]",
		Short: "Store the jobs of a jobfile",
		Long: `apply adds or updates every job of a TOML jobfile, matched by id, in one
transaction: if the file has an error, nothing changes. A job whose trigger
did not change keeps its next run, so applying the same file again changes
nothing. The file decides whether a job is paused. --prune also removes the
jobs the file does not name.

The file speaks for the scheduler too: its [executors] and [[listener]]
tables replace the stored ones (a file with none leaves none), and jobctl
run uses them, with or without -f; a running scheduler takes them at its
next start. Its [scheduler] history_limit, when set, replaces the stored
one; a file that does not set it leaves it as it is.

apply prints one line per job that changes on stdout ("+ id" added, "~ id"
changed, "- id" removed); --dry-run prints them without changing anything.
See testdata/jobfile.toml for a documented example.

A jobfile that names stores ([stores.NAME] tables, jobctl(5)) is applied to
each of them, in a transaction per store: each gets the jobs the file puts
in it, and the file's executors and listeners; --prune removes, from each,
the jobs the file does not put there. A stored job that the file puts in
another store is removed from this one, --prune or not: it has moved. Each
line then says the store, as "+ STORE/ID". --store NAME applies to that
store alone.`,
		Example: `  jobctl apply -f jobs.toml --dry-run
  jobctl apply -f jobs.toml --prune`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runApply(c.Context(), o) },
	}
	c.Flags().StringVarP(&o.file, "file", "f", "", "the jobfile (required); - reads standard input")
	c.Flags().BoolVar(&o.prune, "prune", false, "remove the stored jobs the file does not name")
	c.Flags().BoolVar(&o.dryRun, "dry-run", false, "print what would change, and change nothing")
	_ = c.MarkFlagRequired("file")
	_ = c.MarkFlagFilename("file", "toml")
	return c
}

func runApply(ctx context.Context, o *applyOptions) error {
	f, err := loadJobfile(o.file, o.io.In)
	if err != nil {
		return err
	}
	// With named stores, a job is written STORE/ID: ids are unique in a
	// store only, and have no slash.
	stores, named, err := o.db.stores(f)
	if err != nil {
		return err
	}
	for _, s := range stores {
		var r jobfile.Report
		err = updateAt(ctx, s.loc.open, o.dryRun, func(tx store.Tx) (err error) {
			r, err = jobfile.Apply(tx, f.File, o.now(), jobfile.ApplyOptions{Prune: o.prune, Store: s.name})
			return err
		})
		if err != nil {
			return storeErr(s.name, named, err)
		}
		writeApply(o, r, s.name, named)
	}
	return nil
}

// writeApply says what applying the jobfile to one store did: named says
// that the jobfile names stores, and so each line its store.
func writeApply(o *applyOptions, r jobfile.Report, storeName string, named bool) {
	job := func(id string) string { return id }
	to := ""
	if named {
		job = func(id string) string { return storeName + "/" + id }
		to = " to store " + storeName
	}
	for _, l := range []struct {
		mark string
		ids  []string
	}{{"+", r.Added}, {"~", r.Changed}, {"-", r.Removed}} {
		for _, id := range l.ids {
			fmt.Fprintf(o.io.Out, "%s %s\n", l.mark, job(id))
		}
	}
	for _, id := range r.Finished {
		fmt.Fprintf(o.io.Err, "warning: job %s has no fire times left: stored finished\n", job(id))
	}
	verb := "applied"
	if o.dryRun {
		verb = "would apply (dry run, nothing changed)"
	}
	settings := ""
	if r.Settings {
		settings = "; the scheduler's settings changed"
	}
	fmt.Fprintf(o.io.Err, "%s %s%s: %d added, %d changed, %d removed, %d unchanged%s\n", verb, inputName(o.file), to,
		len(r.Added), len(r.Changed), len(r.Removed), len(r.Unchanged), settings)
}

// loadJobfile reads the jobfile at path, or from in for "-", and checks its
// stores; its problems are usage errors, one per line.
func loadJobfile(path string, in io.Reader) (*loadedJobfile, error) {
	var f *jobfile.File
	var stores []namedStore
	var err error
	if path == "-" {
		f, err = jobfile.Read(inputName(path), in)
	} else {
		f, err = jobfile.Load(path)
	}
	if err == nil {
		stores, err = checkStores(f)
	}
	var es jobfile.Errors
	if errors.As(err, &es) {
		return nil, asUsage(fmt.Errorf("%d %s in %s:\n%w", len(es), plural(len(es), "error", "errors"), inputName(path), es))
	}
	if err != nil {
		return nil, asUsage(err)
	}
	return &loadedJobfile{f, stores}, nil
}

// loadPrivateJobfile is loadJobfile for a jobfile whose commands run as
// this user (jobctl run's): it is refused if others could have written it.
// Standard input is what this user gave it.
func loadPrivateJobfile(path string, in io.Reader) (*loadedJobfile, error) {
	if path != "-" {
		if err := checkPrivate(path); err != nil {
			return nil, err
		}
	}
	return loadJobfile(path, in)
}

// inputName names a file argument in messages: "-" is standard input.
func inputName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}
