// Package cmd is jobctl's command line, shaped as GitHub's CLI is. A
// Factory holds what commands share: the streams, the clock and the
// database (--db, opened only through db.go, the one file that knows the
// store's engines). NewRoot builds the tree from one Factory, listing the
// commands. Each command is a file with an options struct (what it reads
// from the Factory, its flags and arguments), a constructor
// newXCmd(f *Factory) *cobra.Command that wires them, and a run function
// runX(ctx, opts) error that calls the schedule, store or runner package and
// formats the result: data to stdout, human status to stderr. No package
// state: two trees never share a flag.
package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes, documented in the README.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command could not do its work
	ExitUsage   = 2 // bad flags, arguments or input
)

// Streams are a command's standard input and outputs.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Factory is what every command is built from.
type Factory struct {
	IO  Streams
	Now func() time.Time // the clock: "now" for every command; nil is time.Now
	DB  *database        // the database --db names; NewRoot makes one if nil
}

// NewFactory returns the Factory of a real run: the streams s, the system
// clock, and the database of --db (else $JOBCTL_DB, else the XDG data
// directory).
func NewFactory(s Streams) *Factory {
	return &Factory{IO: s, Now: time.Now, DB: &database{}}
}

// usageError marks an error as the user's input being wrong (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error (exit status 2).
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// asUsage marks err, if not nil, as a usage error.
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// NewRoot builds the whole command tree from f, binding --db to f.DB.
func NewRoot(f *Factory) *cobra.Command {
	// A Factory built outside the package cannot set DB (its type is
	// unexported), and may leave Now out.
	if f.DB == nil {
		f.DB = &database{}
	}
	if f.Now == nil {
		f.Now = time.Now
	}
	root := &cobra.Command{
		Use:   "jobctl",
		Short: "A cron replacement with APScheduler's scheduling model",
		Long: `jobctl keeps jobs in a local bbolt file, manages them from the shell and runs
them with a foreground scheduler (jobctl run): date, interval and cron
triggers, misfire grace, coalescing, max instances, timeouts and run history.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return asUsage(err) })
	root.PersistentFlags().StringVar(&f.DB.path, "db", "", "database file (default: the [stores.default] of the jobfile of -f, else of $JOBCTL_JOBFILE, else $JOBCTL_DB, else $XDG_DATA_HOME/jobctl/jobs.db)")
	root.PersistentFlags().StringVar(&f.DB.store, "store", "", "the store of this name, a [stores.NAME] of the jobfile of -f, else of $JOBCTL_JOBFILE (default: default)")
	_ = root.RegisterFlagCompletionFunc("store", completeStores(f.DB))
	root.AddCommand(
		newAddCmd(f),
		newApplyCmd(f),
		newExportCmd(f),
		newHistoryCmd(f),
		newImportCmd(f),
		newLintCmd(f),
		newListCmd(f),
		newLogsCmd(f),
		newMigrateCmd(f),
		newModifyCmd(f),
		newNextCmd(f),
		newPauseCmd(f),
		newRemoveCmd(f),
		newRescheduleCmd(f),
		newResumeCmd(f),
		newRunCmd(f),
		newRunNowCmd(f),
		newSchedulerCmd(f),
		newShowCmd(f),
		newVersionCmd(f),
		newWhyCmd(f),
		newCompletionCmd(f, root),
	)
	completeCommonFlags(root)
	markArgsErrorsAsUsage(root)
	return root
}

// markArgsErrorsAsUsage makes every command's argument-count errors usage
// errors (exit status 2), as flag errors are.
func markArgsErrorsAsUsage(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(c *cobra.Command, args []string) error { return asUsage(check(c, args)) }
	}
	for _, sub := range c.Commands() {
		markArgsErrorsAsUsage(sub)
	}
}

// Main runs jobctl with args and returns its exit status.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	root := NewRoot(NewFactory(Streams{In: in, Out: out, Err: errOut}))
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(errOut, "jobctl: %v\n", err)
	var ue usageError
	// cobra reports an unknown subcommand with an error of no type of its own.
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		return ExitUsage
	}
	return ExitFailure
}
