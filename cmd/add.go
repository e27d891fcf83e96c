package cmd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/jobctl/jobctl/internal/shell"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

type addOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	trigger triggerFlags
	options optionFlags
	flags   *pflag.FlagSet // which options were given
	id      string
	paused  bool
	replace bool
	args    []string // the command
}

func newAddCmd(f *Factory) *cobra.Command {
	o := &addOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:   "add [TRIGGER FLAGS] [OPTIONS] -- COMMAND [ARGS...]",
		Short: "Add a job",
		Long: `add stores a job: a shell command and the trigger that says when it runs.
The trigger flags are those of jobctl next; with none, the job runs once, as
soon as possible. A running scheduler picks the job up within a second.
--on-start[=DELAY] runs the job once at each start of jobctl run, after DELAY
(a paused job not); schedulers sharing a PostgreSQL database run it once per
start of the fleet, when none of them was running.

The command is run by the shell. Several arguments after -- are quoted for
the shell and joined; a single argument is used as it is, so it may hold
pipes and redirections. add prints the job's id on stdout.`,
		Example: `  jobctl add --cron '30 2 * * *' --id backup -- restic backup /home
  jobctl add --every 5m --start now --no-coalesce -- 'curl -fsS https://example.com/ping'
  jobctl add --day-of-week mon-fri --hour 9 --tz Europe/Berlin --name standup -- notify-send standup
  jobctl add -- ./migrate.sh --once`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			o.args = args
			return runAdd(c.Context(), o)
		},
	}
	o.flags = c.Flags()
	// Flags end at the command, so "add --every 1h ls -la" needs no "--".
	c.Flags().SetInterspersed(false)
	o.trigger.register(c.Flags())
	o.options.register(c, f.DB, true)
	c.Flags().StringVar(&o.id, "id", "", "the job's id (default: 8 random hex digits)")
	c.Flags().BoolVar(&o.paused, "paused", false, "store the job paused (jobctl resume starts it)")
	c.Flags().BoolVar(&o.replace, "replace", false, "replace a job with the same id instead of failing")
	return c
}

func runAdd(ctx context.Context, o *addOptions) error {
	command, err := commandArg(o.args)
	if err != nil {
		return err
	}
	spec, ok, err := checkTriggerFlags(&o.trigger)
	if err != nil {
		return err
	}
	if !ok {
		// No trigger: once, as soon as possible. start, end and tz still
		// apply (a delayed "once" is --at).
		spec.At = "now"
	}
	// The flags' name and options, over the defaults.
	flagged := &store.Job{Options: store.DefaultOptions()}
	if err := o.options.apply(o.flags, flagged, true); err != nil {
		return err
	}
	id := o.id
	if id != "" {
		if err := store.CheckID(id); err != nil {
			return usagef("--id: %v", err)
		}
	} else {
		id = randomID() // the transaction picks another if it is taken
	}
	now := o.now()
	j, err := store.NewJob(id, command, spec, flagged.Options, now)
	if err != nil {
		return asUsage(err)
	}
	j.Name = flagged.Name
	if j.State == store.Finished {
		return usagef("%s", noFireTimes(j.Trigger, "after now ("+view.ZoneTime(now, j.Location())+")"))
	}
	if o.paused {
		j.Pause(now)
	}

	kind := store.JobAdded
	err = update(ctx, o.db, false, func(tx store.Tx) error {
		kind, j.Created = store.JobAdded, now // fn may run more than once
		if o.id == "" {
			if j.ID, err = freeID(tx, j.ID); err != nil {
				return err
			}
		}
		switch old, err := tx.Job(j.ID); {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case !o.replace:
			return fmt.Errorf("job %q already exists (use --replace to replace it, or jobctl modify)", j.ID)
		default:
			kind, j.Created = store.JobModified, old.Created
		}
		if err := tx.PutJob(j); err != nil {
			return err
		}
		return tx.RecordChange(store.Change{Time: now, Kind: kind, JobID: j.ID})
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(o.io.Out, j.ID)
	verb := "added"
	if kind == store.JobModified {
		verb = "replaced"
	}
	fmt.Fprintf(o.io.Err, "%s job %s (%s): %s\n", verb, j.ID, j.Trigger, nextRunText(j, now))
	return nil
}

// atNextStart is when an active job with an on-start trigger runs next,
// between starts.
const atNextStart = "at the next scheduler start"

// nextRunText says when a job runs next, for status messages.
func nextRunText(j *store.Job, now time.Time) string {
	switch j.State {
	case store.Paused:
		return "paused"
	case store.Finished:
		return "finished: its trigger has no fire times left"
	}
	if j.NextRun.IsZero() && j.FiresAtStart() {
		return "runs " + atNextStart
	}
	return "next run " + view.WhenRelative(j.NextRun, now, j.Location())
}

// commandArg makes the command string from add's arguments: one argument
// is the command as written; several are quoted for the shell and joined.
func commandArg(args []string) (string, error) {
	switch len(args) {
	case 0:
		return "", usagef("no command: give it after --, as in jobctl add --every 1h -- echo hello")
	case 1:
		if strings.TrimSpace(args[0]) == "" {
			return "", usagef("empty command")
		}
		return args[0], nil
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shell.Quote(a)
	}
	return strings.Join(quoted, " "), nil
}

// randomID returns a random id of 8 hex digits.
func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// freeID returns id if tx has no job of that id, else a random id that tx
// does not use.
func freeID(tx store.Tx, id string) (string, error) {
	for range 10 {
		if _, err := tx.Job(id); errors.Is(err, store.ErrNotFound) {
			return id, nil
		} else if err != nil {
			return "", err
		}
		id = randomID()
	}
	return "", errors.New("no free id found; give one with --id")
}
