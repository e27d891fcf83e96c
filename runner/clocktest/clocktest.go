// Package clocktest provides a fake runner.Clock for tests: it moves only
// when told to, so that a test drives a scheduler through hours of fire
// times instantly and checks its history exactly. It does not import
// runner (runner's own tests use it).
package clocktest

import (
	"sync"
	"time"
)

// Timer is runner.Timer: the same interface type.
type Timer = interface {
	C() <-chan time.Time
	Stop()
}

// Alarm is runner.Alarm: the same interface type.
type Alarm = interface {
	C() <-chan struct{}
	Set(at time.Time)
	Close()
}

// Clock is a runner.Clock that moves only when told to, for tests: every
// scheduling rule can then be checked instantly and exactly. Its wall clock
// and its elapsed time are separate, as on a real machine: Advance moves
// both, Set moves only the wall clock (the clock being set), so Timers do
// not notice a Set and Alarms do. It is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	elapsed time.Duration
	timers  map[*fakeTimer]struct{}
	alarms  map[*fakeAlarm]struct{}
}

// New returns a Clock reading t.
func New(t time.Time) *Clock {
	return &Clock{
		now:    t,
		timers: make(map[*fakeTimer]struct{}),
		alarms: make(map[*fakeAlarm]struct{}),
	}
}

// Now returns the wall clock's reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d, firing the timers and alarms that
// come due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.elapsed += d
	c.fire()
}

// Set sets the wall clock to t, forward or back, as an administrator or NTP
// would: alarms whose instant it reaches go off; timers are not affected.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	c.fire()
}

// Waiters returns how many timers and alarms are armed.
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.timers)
	for a := range c.alarms {
		if !a.at.IsZero() {
			n++
		}
	}
	return n
}

// NextAlarm returns the earliest instant an alarm is set for (ok false:
// none is set).
func (c *Clock) NextAlarm() (at time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for a := range c.alarms {
		if !a.at.IsZero() && (!ok || a.at.Before(at)) {
			at, ok = a.at, true
		}
	}
	return at, ok
}

// fire runs with c.mu held.
func (c *Clock) fire() {
	for t := range c.timers {
		if c.elapsed >= t.due {
			delete(c.timers, t)
			t.c <- c.now // buffered, and sent once
		}
	}
	for a := range c.alarms {
		if !a.at.IsZero() && !c.now.Before(a.at) {
			a.at = time.Time{}
			a.ring()
		}
	}
}

// NewTimer returns a Timer that fires once the clock has been advanced by
// d.
func (c *Clock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, due: c.elapsed + d, c: make(chan time.Time, 1)}
	c.timers[t] = struct{}{}
	c.fire()
	return t
}

type fakeTimer struct {
	clock *Clock
	due   time.Duration // in the clock's elapsed time
	c     chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.timers, t)
}

// NewAlarm returns an Alarm that is not set.
func (c *Clock) NewAlarm() Alarm {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := &fakeAlarm{clock: c, c: make(chan struct{}, 1)}
	c.alarms[a] = struct{}{}
	return a
}

type fakeAlarm struct {
	clock *Clock
	at    time.Time // zero: not set
	c     chan struct{}
}

func (a *fakeAlarm) C() <-chan struct{} { return a.c }

func (a *fakeAlarm) ring() {
	select {
	case a.c <- struct{}{}:
	default:
	}
}

func (a *fakeAlarm) Set(at time.Time) {
	c := a.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	a.at = at
	c.fire()
}

func (a *fakeAlarm) Close() {
	c := a.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.alarms, a)
}
