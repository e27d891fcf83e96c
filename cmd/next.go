package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/schedule"
)

// maxNext bounds -n: a preview, not an export of a trigger's whole future.
const maxNext = 10000

type nextOptions struct {
	io  Streams
	now func() time.Time

	trigger triggerFlags
	from    string
	n       int
}

func newNextCmd(f *Factory) *cobra.Command {
	o := &nextOptions{io: f.IO, now: f.Now}
	c := &cobra.Command{
		Use:   "next [TRIGGER FLAGS] [--tz NAME] [--from TIME] [-n N]",
		Short: "Print a trigger's next fire times",
		Long: `next prints the next N fire times of a trigger, one per line in RFC 3339 with
the zone's offset; the first is the first fire time at or after --from. It
prints fewer when the trigger ends, and none (saying why on stderr, with
exit status 0) when it has no fire times left.

TIME is RFC 3339, a local YYYY-MM-DD[ HH:MM[:SS]] read in the trigger's zone,
or now. Cron triggers match wall-clock time: a time that a DST change skips
fires once when the gap ends, a repeated time fires at its first occurrence,
and a trigger whose hour field matches every hour fires in elapsed time.`,
		Example: `  jobctl next --cron '30 2 * * *' --tz Europe/Berlin --from 2026-03-28
  jobctl next --day-of-week mon-fri --hour 9 --minute 30 -n 10
  jobctl next --every 1h30m --start '2026-07-01 08:00'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runNext(c.Context(), o) },
	}
	o.trigger.register(c.Flags())
	c.Flags().StringVar(&o.from, "from", "now", "TIME to start from (the first line is at or after it)")
	c.Flags().IntVarP(&o.n, "count", "n", 5, fmt.Sprintf("how many fire times to print (1-%d)", maxNext))
	return c
}

func runNext(_ context.Context, o *nextOptions) error {
	spec, ok, err := o.trigger.spec()
	if err != nil {
		return err
	}
	if !ok {
		return usagef("no trigger: give --cron, --every, --at, --on-start or keyword fields such as --hour")
	}
	if o.n < 1 || o.n > maxNext {
		return usagef("-n: %d is out of range 1-%d", o.n, maxNext)
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
	if _, ok := trig.(schedule.OnStart); ok {
		// Not an error either: the trigger is valid, its fire times are
		// not a trigger's to know.
		fmt.Fprintf(o.io.Err, "trigger %s has no fire times of its own: it fires once each time a scheduler starts (jobctl run)\n", spec)
		return nil
	}
	t := from.Add(-time.Nanosecond)
	for i := range o.n {
		if t = trig.Next(t); t.IsZero() {
			if i == 0 {
				// Not an error (the trigger is valid, and the conformance
				// contract wants exit status 0), but an empty stdout alone
				// does not say why.
				fmt.Fprintln(o.io.Err, noFireTimes(spec, "at or after "+formatTime(from.In(loc))))
			}
			break
		}
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
