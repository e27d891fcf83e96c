package jobfile

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// Lint returns warnings about jobs that are valid but probably not what
// their author meant: a crontab with both day fields restricted (cron
// fires when either matches), a step that does not divide its field's range
// (*/35 minutes fires at :00 and :35), fixed times that fall in a DST gap or
// a repeated hour of the job's zone within a year of now, triggers with
// no fire times left, run policies at odds with the trigger (retries that
// outlast the time between fire times), mail that is not sent (see
// mailPitfalls), and on_start in a store shared by a fleet (it fires once
// per start of the fleet, not on each machine).
func Lint(f *File, now time.Time) []*Error {
	var ws []*Error
	for _, j := range f.Jobs {
		warn := func(format string, args ...any) {
			ws = append(ws, &Error{File: f.Name, Pos: j.TriggerPos, Msg: fmt.Sprintf("job %q: ", j.ID) + fmt.Sprintf(format, args...)})
		}
		walkCron(j.Trigger, "", func(s schedule.Spec, tz string) {
			for _, m := range cronPitfalls(s) {
				warn("%s", m)
			}
			if m := dstPitfall(s, tz, now); m != "" {
				warn("%s", m)
			}
		})
		if j.FiresAtStart() {
			if m := onStartPitfall(f, j); m != "" {
				warn("%s", m)
			}
			continue // no fire times of its own, and never finished
		}
		t, err := j.ParseTrigger()
		for _, m := range policyPitfalls(j, t, now) {
			warn("%s", m)
		}
		if err == nil && t.Next(now.Add(-time.Nanosecond)).IsZero() {
			why := ""
			if j.Trigger.End != "" {
				why = fmt.Sprintf(" (its end %s is past)", j.Trigger.End)
			}
			warn("the trigger has no fire times after now%s: the job would be stored finished and never run", why)
		}
	}
	ws = append(ws, mailPitfalls(f)...)
	if f.Scheduler.PingEvery != 0 && f.Scheduler.Ping == "" {
		ws = append(ws, &Error{File: f.Name, Msg: "[scheduler] ping_every, but no ping: the scheduler pings nothing"})
	}
	slices.SortStableFunc(ws, func(a, b *Error) int { return cmp.Compare(a.Pos.Line, b.Pos.Line) })
	return ws
}

// onStartPitfall warns of an on-start job going into a store with a URL
// (a PostgreSQL database a fleet of schedulers may share): there it fires
// once per start of the fleet, on one member, where crontab's @reboot runs
// on each machine.
func onStartPitfall(f *File, j Job) string {
	name := j.Store
	if name == "" {
		name = DefaultStore
	}
	st, ok := f.Store(name)
	if !ok || !strings.Contains(st.URL, "://") {
		return ""
	}
	return fmt.Sprintf("on_start in store %q, a database schedulers may share: a fleet fires it once per start of the fleet (when none of them was running), on whichever scheduler claims it, not once on each machine", name)
}

// walkCron calls fn for every cron trigger (crontab or keyword fields) and
// every date trigger at a local wall time in s, with the zone it is read in
// ("" for local).
func walkCron(s schedule.Spec, tz string, fn func(schedule.Spec, string)) {
	if s.Timezone != "" {
		tz = s.Timezone
	}
	for _, c := range append(s.Any, s.All...) {
		walkCron(c, tz, fn)
	}
	if s.Cron != "" || s.Fields != nil || (s.At != "" && isWallTime(s.At)) {
		fn(s, tz)
	}
}

// isWallTime reports whether a TIME is a local wall time rather than an
// instant (RFC 3339, or "now").
func isWallTime(at string) bool {
	if strings.EqualFold(strings.TrimSpace(at), "now") {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(at))
	return err != nil
}

// cronField is what the step check needs to know of a field.
type cronField struct {
	name     string
	lo, size int    // first value and number of values
	unit     string // what the values count
	cycle    string // what the field restarts with
}

var (
	secondF = cronField{"second", 0, 60, "seconds", "minute"}
	minuteF = cronField{"minute", 0, 60, "minutes", "hour"}
	hourF   = cronField{"hour", 0, 24, "hours", "day"}
	// Months have 28 to 31 days, so a day step is uneven at every month end.
	dayF   = cronField{"day", 1, 31, "days", "month"}
	monthF = cronField{"month", 1, 12, "months", "year"}
	dowF   = cronField{"day-of-week", 0, 7, "days", "week"}
)

// cronPitfalls checks the text of a cron trigger's fields; the parser has
// already accepted them.
func cronPitfalls(s schedule.Spec) []string {
	type item struct {
		f    cronField
		text string
	}
	var items []item
	var warns []string
	switch {
	case s.Cron != "":
		fs := strings.Fields(s.Cron)
		if len(fs) == 5 {
			fs = append([]string{"0"}, fs...)
		}
		if len(fs) != 6 { // a macro such as @daily
			return nil
		}
		items = []item{{secondF, fs[0]}, {minuteF, fs[1]}, {hourF, fs[2]}, {dayF, fs[3]}, {monthF, fs[4]}, {dowF, fs[5]}}
		if !strings.HasPrefix(fs[3], "*") && !strings.HasPrefix(fs[5], "*") {
			warns = append(warns, fmt.Sprintf("crontab %q restricts both day-of-month (%s) and day-of-week (%s): cron fires on days matching EITHER; "+
				"for both, use keyword fields (day = %q, day_of_week = ...)", s.Cron, fs[3], fs[5], fs[3]))
		}
	case s.Fields != nil:
		f := s.Fields
		items = []item{{secondF, f.Second}, {minuteF, f.Minute}, {hourF, f.Hour}, {dayF, f.Day}, {monthF, f.Month}, {dowF, f.DayOfWeek}}
	}
	for _, it := range items {
		for part := range strings.SplitSeq(it.text, ",") {
			if w := stepPitfall(it.f, strings.TrimSpace(part)); w != "" {
				warns = append(warns, w)
			}
		}
	}
	return warns
}

// stepPitfall warns about "*/n" or "a/n", which run to the end of the
// field's range and restart with the next cycle, when n does not divide the
// range: the last gap of each cycle is shorter than n.
func stepPitfall(f cronField, item string) string {
	base, step, ok := strings.Cut(item, "/")
	if !ok || strings.Contains(base, "-") {
		return ""
	}
	n, err := strconv.Atoi(step)
	if err != nil || n < 2 {
		return ""
	}
	first := f.lo
	if base != "*" {
		if first, err = strconv.Atoi(base); err != nil {
			return "" // a name such as jan/2; rare enough to let be
		}
	}
	if f.size%n == 0 && (f != dayF) {
		return ""
	}
	var vals []string
	for v := first; v < f.lo+f.size; v += n {
		vals = append(vals, strconv.Itoa(v))
	}
	return fmt.Sprintf("%s field %q fires at %s %s of each %s and starts again with the next %s: not every %d %s",
		f.name, item, f.name, strings.Join(vals, ", "), f.cycle, f.cycle, n, f.unit)
}

// dstPitfall reports the first fixed wall time of s that a DST change in
// zone tz skips or repeats within a year of now. Triggers that fire every
// hour run in elapsed time and are not affected.
func dstPitfall(s schedule.Spec, tz string, now time.Time) string {
	loc := time.Local
	if tz != "" {
		var err error
		if loc, err = schedule.LoadLocation(tz); err != nil {
			return ""
		}
	}
	// Parsed in UTC, a wall-clock trigger's fire times read as the wall
	// times it matches in any zone.
	wall := schedule.Spec{Cron: s.Cron, Fields: s.Fields, At: s.At}
	walls, err := wall.Parse(time.UTC, now)
	if err != nil {
		return ""
	}
	limit := now.AddDate(1, 0, 0)
	for t := now.In(loc); ; {
		_, end := t.ZoneBounds()
		if end.IsZero() || end.After(limit) {
			return ""
		}
		end = end.In(loc)
		_, before := t.Zone()
		_, after := end.Zone()
		t = end
		if before == after {
			continue
		}
		// The wall times the change skips (forward) or repeats (back).
		lo := time.Unix(end.Unix()+int64(min(before, after)), 0).UTC()
		hi := time.Unix(end.Unix()+int64(max(before, after)), 0).UTC()
		fire := walls.Next(lo.Add(-time.Nanosecond))
		if fire.IsZero() || !fire.Before(hi) || (s.At == "" && everyHour(walls, fire)) {
			continue
		}
		span := lo.Format("15:04") + "-" + hi.Format("15:04")
		if after > before {
			return fmt.Sprintf("fires at %s local time, which the DST change on %s skips in %s (%s does not exist): it runs at %s instead",
				fire.Format("15:04:05"), lo.Format("2006-01-02"), loc, span, hi.Format("15:04"))
		}
		return fmt.Sprintf("fires at %s local time, which occurs twice on %s in %s (%s is repeated when clocks go back): it runs once, at the first",
			fire.Format("15:04:05"), lo.Format("2006-01-02"), loc, span)
	}
}

// everyHour reports whether the wall trigger fires in every hour of the day
// of fire, in which case it runs in elapsed time across DST changes.
func everyHour(walls schedule.Trigger, fire time.Time) bool {
	day := time.Date(fire.Year(), fire.Month(), fire.Day(), 0, 0, 0, 0, time.UTC)
	for h := range 24 {
		from := day.Add(time.Duration(h) * time.Hour)
		if next := walls.Next(from.Add(-time.Nanosecond)); next.IsZero() || !next.Before(from.Add(time.Hour)) {
			return false
		}
	}
	return true
}

// mailPitfalls warns of a job with a mail_on but nowhere to mail, and,
// once, of jobs that mail when no sendmail can be found (looked up as a
// scheduler on this machine would: store.FindSendmail).
func mailPitfalls(f *File) []*Error {
	var ws []*Error
	set := store.Settings{MailTo: f.Scheduler.MailTo}
	var first *Job
	for i := range f.Jobs {
		j := &f.Jobs[i]
		switch {
		case j.Options.Recipients(set) != "":
			if first == nil {
				first = j
			}
		case j.Options.MailOn != store.MailOnOutput:
			ws = append(ws, &Error{File: f.Name, Pos: j.Pos, Msg: fmt.Sprintf(
				"job %q: mail_on = %q, but no mailto (neither its own nor [scheduler] mailto): nothing is mailed", j.ID, j.Options.MailOn)})
		}
	}
	if first == nil {
		return ws
	}
	if _, err := store.FindSendmail(f.Scheduler.Sendmail); err != nil {
		ws = append(ws, &Error{File: f.Name, Pos: first.Pos, Msg: fmt.Sprintf(
			"job %q (and any other that mails): its runs are mailed to %q, but there is no sendmail here (%v): set [scheduler] sendmail, or install one where jobctl run runs",
			first.ID, first.Options.Recipients(set), err)})
	}
	return ws
}
