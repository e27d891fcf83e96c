package runner

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestAlarmFarFuture: an alarm set for a fire time past 2262, which
// nanoseconds since 1970 cannot hold, is set for then (or the latest the
// kernel can wait for), not for a time already past: the scheduler of a job
// due in 2300 would otherwise wake at once, again and again.
func TestAlarmFarFuture(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		a := RealClock{}.NewAlarm()
		fa, ok := a.(*fdAlarm)
		if !ok {
			a.Close()
			t.Skip("no timerfd")
		}
		a.Set(at)
		var cur unix.ItimerSpec
		if err := unix.TimerfdGettime(fa.fd, &cur); err != nil {
			t.Fatal(err)
		}
		a.Close()
		if left := time.Duration(cur.Value.Nano()); left < 200*365*24*time.Hour {
			t.Errorf("an alarm set for %v goes off in %v", at, left)
		}
	}
}
