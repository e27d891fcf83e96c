package cmd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/jobctl/jobctl/store"
)

type modifyOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	id       string
	options  optionFlags
	flags    *pflag.FlagSet // which options were given
	command  string
	unsetEnv []string
}

func newModifyCmd(f *Factory) *cobra.Command {
	o := &modifyOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:   "modify ID [OPTIONS]",
		Short: "Change a job's options or command",
		Long: `modify changes the options given and leaves the others as they are. The
trigger and next run stay (change the trigger with jobctl reschedule).
--env sets one variable, keeping the others; --unset-env removes one.`,
		Example: `  jobctl modify backup --timeout 3h --misfire-grace none
  jobctl modify backup --command 'restic backup /home /etc'`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeJobIDs(f.DB, true),
		RunE: func(c *cobra.Command, args []string) error {
			o.id = args[0]
			return runModify(c.Context(), o)
		},
	}
	o.flags = c.Flags()
	o.options.register(c, f.DB, false)
	c.Flags().StringVar(&o.command, "command", "", "the new shell command")
	c.Flags().StringArrayVar(&o.unsetEnv, "unset-env", nil, "KEY of an environment variable to remove; repeatable")
	return c
}

func runModify(ctx context.Context, o *modifyOptions) error {
	if o.flags.NFlag() == 0 {
		return usagef("nothing to change: give the options to change, such as --timeout 1h")
	}
	if o.flags.Changed("command") && strings.TrimSpace(o.command) == "" {
		return usagef("--command: empty")
	}
	return updateJobs(ctx, o.db, []string{o.id}, o.now(), o.io.Err, func(j *store.Job) (bool, string, error) {
		before := *j
		before.Options.Env = slices.Clone(j.Options.Env)
		if err := o.options.apply(o.flags, j, false); err != nil {
			return false, "", err
		}
		if o.flags.Changed("command") {
			j.Command = o.command
		}
		for _, k := range o.unsetEnv {
			j.Options.Env = unsetEnv(j.Options.Env, k)
		}
		if j.Name == before.Name && j.Command == before.Command && j.Options.Equal(before.Options) {
			return false, fmt.Sprintf("job %s already has these options", j.ID), nil
		}
		return true, fmt.Sprintf("modified job %s", j.ID), nil
	})
}
