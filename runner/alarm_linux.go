package runner

import (
	"math"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// NewAlarm returns an alarm on a timerfd of CLOCK_REALTIME with an absolute
// expiry: the kernel re-arms it when the wall clock is set, and it goes off
// on time after a suspend, neither of which a timer on elapsed time does.
// If no timerfd can be had, it falls back to the portable alarm.
func (RealClock) NewAlarm() Alarm {
	fd, err := unix.TimerfdCreate(unix.CLOCK_REALTIME, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK)
	if err != nil {
		return newPollAlarm()
	}
	// A non-blocking descriptor becomes a pollable File: Read parks the
	// goroutine in the runtime's poller, and Close wakes it.
	a := &fdAlarm{fd: fd, f: os.NewFile(uintptr(fd), "timerfd"), c: make(chan struct{}, 1)}
	go a.read()
	return a
}

type fdAlarm struct {
	mu sync.Mutex // guards fd against Set after Close
	fd int
	f  *os.File
	c  chan struct{}
}

func (a *fdAlarm) C() <-chan struct{} { return a.c }

func (a *fdAlarm) read() {
	var buf [8]byte // the count of expirations
	for {
		if _, err := a.f.Read(buf[:]); err != nil {
			return // closed
		}
		select {
		case a.c <- struct{}{}:
		default:
		}
	}
}

func (a *fdAlarm) Set(at time.Time) {
	var spec unix.ItimerSpec // zero: disarmed
	switch {
	case at.IsZero():
	case at.Unix() <= 0:
		spec.Value.Nsec = 1 // long past: at once (a zero value would disarm)
	default:
		// In seconds, not nanoseconds, which overflow after 2262 (the
		// kernel waits until then at most). Where seconds overflow too
		// (after 2038, with 32 bits), the alarm goes off at the last
		// second they hold, and is set again then.
		var err error
		if spec.Value, err = unix.TimeToTimespec(at); err != nil {
			spec.Value = unix.NsecToTimespec(math.MaxInt32 * int64(time.Second))
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fd >= 0 {
		// Cannot fail for a valid descriptor and a non-negative time.
		unix.TimerfdSettime(a.fd, unix.TFD_TIMER_ABSTIME, &spec, nil)
	}
}

func (a *fdAlarm) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fd >= 0 {
		a.fd = -1
		a.f.Close()
	}
}
