package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store/view"
)

// maxNext bounds -n: a preview, not an export of a trigger's whole future.
const maxNext = 10000

type nextOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	id      string // a stored job's, in place of trigger flags
	trigger triggerFlags
	from    string
	down    string // FROM..TO: preview an outage (with id)
	n       int
	output  string
	flags   *pflag.FlagSet
}

func newNextCmd(f *Factory) *cobra.Command {
	o := &nextOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:   "next [TRIGGER FLAGS | ID] [--tz NAME] [--from TIME | --down FROM..TO] [-n N]",
		Short: "Print a trigger's next fire times, or what an outage does to a job",
		Long: `next prints the next N fire times of a trigger, one per line in RFC 3339 with
the zone's offset; the first is the first fire time at or after --from. It
prints fewer when the trigger ends, and none (saying why on stderr, with
exit status 0) when it has no fire times left.

TIME is RFC 3339, a local YYYY-MM-DD[ HH:MM[:SS]] read in the trigger's zone,
or now. Cron triggers match wall-clock time: a time that a DST change skips
fires once when the gap ends, a repeated time fires at its first occurrence,
and a trigger whose hour field matches every hour fires in elapsed time.

With a job's ID in place of trigger flags, next prints that job's fire times,
in its zone. An on-start trigger (--on-start) has none of its own: it fires
once each time a scheduler starts, after its delay.

--down FROM..TO previews a maintenance window: if the scheduler is down from
FROM until it restarts at TO (TIMEs as --from takes them, in the job's zone),
which of the job's fire times fall in the window and what the restart does
about them, by the rules the scheduler applies: with coalescing, one run for
the latest (or nothing but a missed run when that one is later than the
misfire grace); without, a run for each fire time within the grace, the
older ones recorded missed as one, and at most 100 catch-up runs, the last
standing for the rest. The catch-up runs of a job run one after another, as
one instance. A pending retry runs first, and holds an instance as it
runs, so the catch-up meets the job's overlap policy (skipped, or waiting);
fire times that waited for an instance to end before the outage start
then, if still within the grace. An on-start job runs at the restart,
after its delay. Then
come the next N fire times after TO. -o json prints the same as an object.`,
		Example: `  jobctl next --cron '30 2 * * *' --tz Europe/Berlin --from 2026-03-28
  jobctl next --day-of-week mon-fri --hour 9 --minute 30 -n 10
  jobctl next --every 1h30m --start '2026-07-01 08:00'
  jobctl next backup --down '2026-07-04 01:00..2026-07-04 05:00'`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeJobIDs(f.DB, true),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.id = args[0]
			}
			return runNext(c.Context(), o)
		},
	}
	o.flags = c.Flags()
	o.trigger.register(c.Flags())
	c.Flags().StringVar(&o.down, "down", "", "with ID: FROM..TO, a window the scheduler is down; print what its restart at TO does")
	addOutputFlag(c.Flags(), &o.output)
	c.Flags().StringVar(&o.from, "from", "now", "TIME to start from (the first line is at or after it)")
	c.Flags().IntVarP(&o.n, "count", "n", 5, fmt.Sprintf("how many fire times to print (1-%d)", maxNext))
	return c
}

func runNext(ctx context.Context, o *nextOptions) error {
	spec, ok, err := o.trigger.spec()
	if err != nil {
		return err
	}
	if o.id != "" {
		if ok || spec.Timezone != "" || spec.Start != "" || spec.End != "" {
			return usagef("give a job ID or trigger flags, not both")
		}
		return runNextJob(ctx, o)
	}
	if !ok {
		return usagef("no trigger: give --cron, --every, --at, --on-start or keyword fields such as --hour, or a job's ID")
	}
	if o.down != "" {
		return usagef("--down: give a job's ID (its coalescing, misfire grace and run policies decide what a restart does)")
	}
	if err := checkNextFlags(o); err != nil {
		return err
	}
	loc := time.Local
	if spec.Timezone != "" {
		if loc, err = schedule.LoadLocation(spec.Timezone); err != nil {
			return asUsage(fmt.Errorf("--tz: %w", err))
		}
	}
	now := o.now()
	from, err := schedule.ParseTime(o.from, loc, now)
	if err != nil {
		return asUsage(fmt.Errorf("--from: %w", err))
	}
	trig, err := spec.Parse(loc, from)
	if err != nil {
		return asUsage(err)
	}
	return printNext(o, spec, trig, from, loc)
}

// checkNextFlags checks the flags both forms of next take.
func checkNextFlags(o *nextOptions) error {
	if o.n < 1 || o.n > maxNext {
		return usagef("-n: %d is out of range 1-%d", o.n, maxNext)
	}
	return checkOutput(o.output)
}

// printNext prints the first o.n fire times of trig at or after from.
func printNext(o *nextOptions, spec schedule.Spec, trig schedule.Trigger, from time.Time, loc *time.Location) error {
	var fires []time.Time
	for t := from.Add(-time.Nanosecond); len(fires) < o.n; {
		if t = trig.Next(t); t.IsZero() {
			break
		}
		fires = append(fires, t)
	}
	if _, onStart := trig.(schedule.OnStart); onStart {
		// Not an error either: the trigger is valid, and its fire times
		// are not a trigger's to know.
		fmt.Fprintf(o.io.Err, "trigger %s has no fire times of its own: it fires once each time a scheduler starts (jobctl run)\n", spec)
	} else if len(fires) == 0 {
		// Not an error (the trigger is valid, and the conformance
		// contract wants exit status 0), but an empty stdout alone
		// does not say why.
		fmt.Fprintln(o.io.Err, noFireTimes(spec, "at or after "+formatTime(from.In(loc))))
	}
	if o.output == outputJSON {
		out := []string{}
		for _, t := range fires {
			out = append(out, *view.Time(t, loc))
		}
		return writeJSON(o.io.Out, out)
	}
	for _, t := range fires {
		fmt.Fprintln(o.io.Out, formatTime(t.In(loc)))
	}
	return nil
}

// noFireTimes says that the trigger of spec has no fire times when, and
// why that may be.
func noFireTimes(spec schedule.Spec, when string) string {
	msg := fmt.Sprintf("trigger %s has no fire times %s", spec, when)
	if spec.All != nil {
		msg += ": with --combine all, it fires only at instants all its triggers agree on"
	}
	return msg
}

// formatTime writes t in RFC 3339 with its zone's offset, or in UTC when the
// offset has seconds (local mean time before about 1900), which RFC 3339
// cannot write.
func formatTime(t time.Time) string {
	if _, off := t.Zone(); off%60 != 0 {
		t = t.UTC()
	}
	return t.Format(time.RFC3339Nano)
}
