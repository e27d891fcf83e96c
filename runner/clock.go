package runner

import "time"

// A Clock tells the scheduler the time and wakes it. Two kinds of waiting
// are kept apart because they answer different questions: a Timer measures
// elapsed time (a timeout, a kill grace, a jitter delay: setting the wall
// clock must not shorten or stretch them), an Alarm waits for the wall clock
// to read an instant (a fire time: when the wall clock is set forward past
// it, the alarm goes off then).
type Clock interface {
	Now() time.Time
	// NewTimer returns a Timer that fires once d has elapsed.
	NewTimer(d time.Duration) Timer
	// NewAlarm returns an Alarm that is not set.
	NewAlarm() Alarm
}

// A Timer fires once, as time.Timer does. Timer and Alarm are aliases of
// interface types, not types of their own, so that a Clock can be written
// without importing runner: package clocktest does, for runner's tests.
type Timer = interface {
	C() <-chan time.Time
	// Stop prevents the Timer from firing, if it has not yet.
	Stop()
}

// An Alarm goes off when the wall clock reads its instant or later. It can
// be set again any number of times; signals coalesce, as on a channel of
// capacity one.
type Alarm = interface {
	C() <-chan struct{}
	// Set arms the alarm for at (the zero Time disarms it). An instant
	// already past goes off at once.
	Set(at time.Time)
	// Close disarms the alarm and releases what it holds.
	Close()
}

// RealClock is the system's clock.
type RealClock struct{}

func (RealClock) Now() time.Time { return time.Now() }

func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop()               { t.t.Stop() }
