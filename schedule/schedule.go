// Package schedule computes when jobs fire. It holds the triggers (cron in
// crontab and keyword form, interval, date, and their combinations) and the
// pure decisions the scheduler makes when fire times come due: which to run,
// which were missed, which were coalesced.
//
// The package does no I/O and keeps no global state; every function takes the
// time it reasons about as a parameter, and every Trigger is safe for
// concurrent use.
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
