// Package cmd is jobctl's command line: one file per command, each an options
// struct, a constructor that wires the flags and a run function that calls
// the schedule, store or runner package and formats the result. Data goes to
// stdout, human status to stderr.
package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

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

// NewRoot builds the whole command tree writing to s.
func NewRoot(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "jobctl",
		Short: "A cron replacement with APScheduler's scheduling model",
		Long: `jobctl keeps jobs in a local bbolt file, manages them from the shell and runs
them with a foreground scheduler (jobctl run): date, interval and cron
triggers, misfire grace, coalescing, max instances, timeouts and run history.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return asUsage(err) })
	root.PersistentFlags().StringVar(&dbFlag, "db", "", "database file (default $JOBCTL_DB, else $XDG_DATA_HOME/jobctl/jobs.db)")
	for _, add := range commands {
		root.AddCommand(add(s))
	}
	setUpCompletion(root)
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

// commands lists the constructors of the subcommands; each command's file
// registers itself in an init function.
var commands []func(Streams) *cobra.Command

// Main runs jobctl with args and returns its exit status.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	root := NewRoot(Streams{In: in, Out: out, Err: errOut})
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
