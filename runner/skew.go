package runner

import (
	"sync/atomic"
	"time"
)

// skewClock is a Clock corrected by an offset: on a store shared by a
// fleet, the store's clock is the one every member goes by (fire times
// are due by it), whatever each host's clock says.
type skewClock struct {
	base Clock
	off  atomic.Int64 // store's clock minus base's, in nanoseconds
}

func (c *skewClock) offset() time.Duration { return time.Duration(c.off.Load()) }

func (c *skewClock) Now() time.Time { return c.base.Now().Add(c.offset()) }

// NewTimer measures elapsed time, which no offset changes.
func (c *skewClock) NewTimer(d time.Duration) Timer { return c.base.NewTimer(d) }

func (c *skewClock) NewAlarm() Alarm { return skewAlarm{c.base.NewAlarm(), c} }

type skewAlarm struct {
	Alarm
	c *skewClock
}

// Set arms the base alarm for when the base clock reads at, less the
// offset as it is now.
func (a skewAlarm) Set(at time.Time) {
	if !at.IsZero() {
		at = at.Add(-a.c.offset())
	}
	a.Alarm.Set(at)
}
