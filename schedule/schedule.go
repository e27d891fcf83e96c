// Package schedule computes when jobs fire. It holds the triggers (cron in
// crontab and keyword form, interval, date, and their combinations) and the
// pure decisions the scheduler makes when fire times come due (Due): which
// to run, which were missed, which were coalesced.
//
// The package does no I/O and keeps no global state; every function takes the
// time it reasons about as a parameter, and every Trigger is safe for
// concurrent use.
//
// # Triggers
//
//   - Crontab (ParseCrontab): 5 fields (minute hour day-of-month month
//     day-of-week) or 6 with seconds first; each a list of *, a, a-b, with
//     an optional /step (a/n runs from a to the field's end); month names
//     jan-dec and weekday names sun-sat; day-of-week 0 and 7 are Sunday,
//     and a range ending at Sunday after a later start runs to 7 (mon-sun,
//     1-0) while sun-sun is Sunday alone; macros @yearly @annually
//     @monthly @weekly @daily @midnight @hourly.
//     When day-of-month and day-of-week are both restricted a day matching
//     either matches; as in Vixie cron, a day field starting with * (*, */2)
//     counts as unrestricted.
//   - Keyword fields (ParseFields), as APScheduler 3.x's CronTrigger: year
//     (1970-9999), month, day, week (ISO week 1-53), day_of_week (0 =
//     Monday), hour, minute, second. The day field also takes last, and
//     "1st".."5th" or "last" followed by a weekday name. Day and day_of_week
//     must both match. A field not given is * when a less significant field
//     is given, else its minimum (month and day 1, hour, minute, second 0;
//     week and day_of_week stay *). */n steps from the field's minimum, so
//     week */2 is the odd weeks and year */2 the even years.
//   - Interval: start + k·every for k >= 0, in elapsed time; every is at
//     least MinInterval.
//   - Date: one fire time.
//   - OnStart: no fire time of its own; the scheduler fires it once at
//     each start, after its delay (crontab's @reboot).
//   - Any and All: the union of their triggers' fire times, or the instants
//     all of them share (found in a bounded search: triggers that never
//     agree end rather than loop).
//
// Every trigger may be bounded by a start and an end, both inclusive. An
// expression that matches no date in any year (0 0 30 feb *) is an error.
// Fire times exist from year 1 to 9999; a search looks at most 400 years
// ahead (the Gregorian calendar repeats after 400 years), or up to the last
// year of a year field, so no Next call runs unbounded.
//
// # Daylight-saving time
//
// Cron triggers match wall-clock time in their zone, with cron's rule:
//
//   - A wall time that a DST change skips fires once, when the gap ends (30
//     2 * * * fires at 03:00 on that day in Europe/Berlin); several skipped
//     times collapse into that one instant.
//   - A wall time that occurs twice fires once, at its first occurrence.
//   - A trigger whose hour field matches every hour (*, */1, 0-23; in
//     keyword form also an hour left *) fires at every instant whose wall
//     reading matches: in both occurrences of a repeated hour, never in a
//     skipped one.
//
// This is deliberately not APScheduler 3.x's behaviour. Interval triggers
// count elapsed time and ignore DST; a local TIME (ParseTime) that is
// skipped or repeated resolves like a fixed wall time.
package schedule

import "time"

// A Trigger decides when a job fires.
type Trigger interface {
	// Next returns the first fire time strictly after t, or the zero Time
	// when the trigger has no more fire times.
	Next(t time.Time) time.Time
	// String describes the trigger for people ("cron 30 2 * * * Europe/Berlin").
	String() string
}

// Grace is how late a fire time may still start (APScheduler's
// misfire_grace_time). NoGrace means there is no limit.
type Grace time.Duration

// NoGrace is the Grace of a job whose runs are never too late ("none").
const NoGrace Grace = -1

// Late reports whether a run for fire time fire, starting at now, is beyond
// the grace period and so missed.
func (g Grace) Late(fire, now time.Time) bool {
	return g >= 0 && now.Sub(fire) > time.Duration(g)
}
