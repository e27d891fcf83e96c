package cmd

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/jobctl/jobctl/schedule"
)

// triggerFlags are the flags that describe a trigger, shared by next, add and
// reschedule so they read the same everywhere.
type triggerFlags struct {
	cron    []string
	fields  schedule.Fields
	every   []string
	at      []string
	onStart string
	start   string
	end     string
	tz      string
	combine string
	fs      *pflag.FlagSet // to tell a keyword field set empty from one not given
}

func (f *triggerFlags) register(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringArrayVar(&f.cron, "cron", nil, "crontab expression: 5 fields (min hour dom mon dow), 6 with seconds first, or @daily etc.; repeatable")
	fs.StringVar(&f.fields.Year, "year", "", "keyword cron field: year (4 digits)")
	fs.StringVar(&f.fields.Month, "month", "", "keyword cron field: month (1-12 or jan-dec)")
	fs.StringVar(&f.fields.Day, "day", "", "keyword cron field: day of month (1-31, last, '2nd fri', 'last sun')")
	fs.StringVar(&f.fields.Week, "week", "", "keyword cron field: ISO week (1-53)")
	fs.StringVar(&f.fields.DayOfWeek, "day-of-week", "", "keyword cron field: day of week, 0 = Monday as in APScheduler (prefer names: mon-fri)")
	fs.StringVar(&f.fields.Hour, "hour", "", "keyword cron field: hour (0-23)")
	fs.StringVar(&f.fields.Minute, "minute", "", "keyword cron field: minute (0-59)")
	fs.StringVar(&f.fields.Second, "second", "", "keyword cron field: second (0-59)")
	fs.StringArrayVar(&f.every, "every", nil, "interval trigger: a duration such as 90s, 1h30m, 2d, 1w (1s at least); repeatable")
	fs.StringArrayVar(&f.at, "at", nil, "date trigger: fire once at TIME; repeatable")
	fs.StringVar(&f.onStart, "on-start", "", "run at each scheduler start, after DELAY (--on-start alone: at once; --on-start=30s); stands alone")
	fs.Lookup("on-start").NoOptDefVal = "0s"
	fs.StringVar(&f.start, "start", "", "TIME the trigger starts (inclusive; an interval's anchor; 'now')")
	fs.StringVar(&f.end, "end", "", "TIME the trigger ends (inclusive)")
	fs.StringVar(&f.tz, "tz", "", "IANA time zone of the trigger (default: the local zone's name, stored with the job)")
	fs.StringVar(&f.combine, "combine", "any", "with several triggers: any (union of fire times) or all (instants all agree on)")
}

// fieldFlags are the keyword cron fields' flags.
var fieldFlags = []string{"year", "month", "day", "week", "day-of-week", "hour", "minute", "second"}

// spec returns the Spec the flags describe; ok is false when no trigger flag
// was given (start, end and tz alone make no trigger, but are in s).
func (f *triggerFlags) spec() (s schedule.Spec, ok bool, err error) {
	// An empty value would read as no trigger of its kind: said here, in
	// the flag's words, rather than as a Spec with none.
	for _, e := range []struct {
		flag, want string
		values     []string
	}{
		{"cron", "expression (want e.g. '30 2 * * *' or @daily)", f.cron},
		{"every", "duration (want e.g. 90s, 1h30m, 2d, 1w)", f.every},
		{"at", "time (want RFC 3339, a local YYYY-MM-DD[ HH:MM[:SS]], or now)", f.at},
		{"on-start", "delay (want e.g. --on-start, --on-start=30s)", f.onStartGiven()},
	} {
		for _, v := range e.values {
			if strings.TrimSpace(v) == "" {
				return s, false, usagef("--%s: empty %s", e.flag, e.want)
			}
		}
	}
	for _, name := range fieldFlags {
		if f.fs != nil && f.fs.Changed(name) && strings.TrimSpace(f.fs.Lookup(name).Value.String()) == "" {
			return s, false, usagef("--%s: empty field (want e.g. --hour 9, --day-of-week mon-fri)", name)
		}
	}
	var parts []schedule.Spec
	for _, c := range f.cron {
		parts = append(parts, schedule.Spec{Cron: c})
	}
	if f.fields != (schedule.Fields{}) {
		fields := f.fields
		parts = append(parts, schedule.Spec{Fields: &fields})
	}
	for _, e := range f.every {
		parts = append(parts, schedule.Spec{Every: e})
	}
	for _, a := range f.at {
		parts = append(parts, schedule.Spec{At: a})
	}
	if len(f.onStartGiven()) > 0 {
		if len(parts) > 0 {
			return s, false, usagef("--on-start: cannot be combined with other triggers (it fires only when a scheduler starts)")
		}
		parts = append(parts, schedule.Spec{OnStart: f.onStart})
	}
	switch f.combine {
	case "any", "all":
	default:
		return s, false, usagef("--combine: %q is not any or all", f.combine)
	}
	switch {
	case len(parts) == 0:
	case len(parts) == 1:
		s = parts[0]
	case f.combine == "all":
		s = schedule.Spec{All: parts}
	default:
		s = schedule.Spec{Any: parts}
	}
	s.Timezone, s.Start, s.End = f.tz, f.start, f.end
	return s, len(parts) > 0, nil
}

// onStartGiven is --on-start's value as a list: empty when not given.
func (f *triggerFlags) onStartGiven() []string {
	if f.onStart != "" || (f.fs != nil && f.fs.Changed("on-start")) {
		return []string{f.onStart}
	}
	return nil
}
