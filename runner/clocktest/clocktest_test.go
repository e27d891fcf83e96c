package clocktest

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

// Advance moves elapsed time and the wall clock; Set only the wall clock:
// timers hear only of the first, alarms of both.
func TestClock(t *testing.T) {
	c := New(t0)
	timer := c.NewTimer(time.Minute)
	alarm := c.NewAlarm()
	alarm.Set(t0.Add(time.Hour))
	if n := c.Waiters(); n != 2 {
		t.Fatalf("%d waiters, want 2", n)
	}
	if at, ok := c.NextAlarm(); !ok || !at.Equal(t0.Add(time.Hour)) {
		t.Errorf("next alarm %v %v", at, ok)
	}
	c.Set(t0.Add(2 * time.Hour)) // the wall clock set forward
	select {
	case <-alarm.C():
	default:
		t.Error("the alarm did not go off when the wall clock passed it")
	}
	select {
	case <-timer.C():
		t.Error("the timer fired when the wall clock was set")
	default:
	}
	c.Advance(time.Minute - time.Nanosecond)
	select {
	case <-timer.C():
		t.Error("the timer fired early")
	default:
	}
	c.Advance(time.Nanosecond)
	select {
	case at := <-timer.C():
		if !at.Equal(t0.Add(2*time.Hour + time.Minute)) {
			t.Errorf("timer fired at %v", at)
		}
	default:
		t.Error("the timer did not fire")
	}
	if n := c.Waiters(); n != 0 {
		t.Errorf("%d waiters left", n)
	}
	alarm.Close()
}
