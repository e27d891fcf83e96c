package runner

import (
	"sync"
	"time"
)

// pollAlarmMax bounds how long a portable alarm sleeps before looking at
// the wall clock again, so that it notices the clock being set (or a
// suspend) within that time. One wake-up a minute costs nothing measurable.
const pollAlarmMax = time.Minute

// pollAlarm is an Alarm from elapsed-time timers that re-reads the wall
// clock at least every pollAlarmMax.
type pollAlarm struct {
	mu     sync.Mutex
	at     time.Time
	timer  *time.Timer
	closed bool
	c      chan struct{}
}

func newPollAlarm() *pollAlarm { return &pollAlarm{c: make(chan struct{}, 1)} }

func (a *pollAlarm) C() <-chan struct{} { return a.c }

func (a *pollAlarm) Set(at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at = at
	a.arm()
}

// arm runs with a.mu held.
func (a *pollAlarm) arm() {
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	if a.at.IsZero() || a.closed {
		return
	}
	d := time.Until(a.at)
	if d <= 0 {
		a.at = time.Time{}
		select {
		case a.c <- struct{}{}:
		default:
		}
		return
	}
	a.timer = time.AfterFunc(min(d, pollAlarmMax), func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.arm()
	})
}

func (a *pollAlarm) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	a.arm()
}
