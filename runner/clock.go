package runner

import (
	"sync"
	"time"
)

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

// A Timer fires once, as time.Timer does.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the Timer from firing, if it has not yet.
	Stop()
}

// An Alarm goes off when the wall clock reads its instant or later. It can
// be set again any number of times; signals coalesce, as on a channel of
// capacity one.
type Alarm interface {
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

// FakeClock is a Clock that moves only when told to, for tests: every
// scheduling rule can then be checked instantly and exactly. Its wall clock
// and its elapsed time are separate, as on a real machine: Advance moves
// both, Set moves only the wall clock (the clock being set), so Timers do
// not notice a Set and Alarms do. It is safe for concurrent use.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	elapsed time.Duration
	timers  map[*fakeTimer]struct{}
	alarms  map[*fakeAlarm]struct{}
	// changed is closed and replaced whenever a timer or alarm is made,
	// set or stopped, for WaitForWaiters.
	changed chan struct{}
}

// NewFakeClock returns a FakeClock reading t.
func NewFakeClock(t time.Time) *FakeClock {
	return &FakeClock{
		now:     t,
		timers:  make(map[*fakeTimer]struct{}),
		alarms:  make(map[*fakeAlarm]struct{}),
		changed: make(chan struct{}),
	}
}

func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d, firing the timers and alarms that
// come due.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.elapsed += d
	c.fire()
}

// Set sets the wall clock to t, forward or back, as an administrator or NTP
// would: alarms whose instant it reaches go off; timers are not affected.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	c.fire()
}

// Waiters returns how many timers and alarms are armed.
func (c *FakeClock) Waiters() int {
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
func (c *FakeClock) NextAlarm() (at time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for a := range c.alarms {
		if !a.at.IsZero() && (!ok || a.at.Before(at)) {
			at, ok = a.at, true
		}
	}
	return at, ok
}

// Changed returns a channel closed at the next change to the clock's timers
// or alarms: a test waits on it for the code under test to arm one.
func (c *FakeClock) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

func (c *FakeClock) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// fire runs with c.mu held.
func (c *FakeClock) fire() {
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
	c.notify()
}

func (c *FakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, due: c.elapsed + d, c: make(chan time.Time, 1)}
	c.timers[t] = struct{}{}
	c.fire()
	return t
}

type fakeTimer struct {
	clock *FakeClock
	due   time.Duration // in the clock's elapsed time
	c     chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.timers, t)
	c.notify()
}

func (c *FakeClock) NewAlarm() Alarm {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := &fakeAlarm{clock: c, c: make(chan struct{}, 1)}
	c.alarms[a] = struct{}{}
	c.notify()
	return a
}

type fakeAlarm struct {
	clock *FakeClock
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
	c.notify()
}
