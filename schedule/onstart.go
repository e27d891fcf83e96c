package schedule

import (
	"fmt"
	"time"
)

// OnStart is the trigger of a job that runs once each time a scheduler
// starts, Delay after the start (crontab's @reboot, systemd's
// OnStartupSec). It has no fire times of its own, so Next always returns
// the zero Time: the scheduler gives it its one fire time (FireAt) as it
// starts, and a job with it waits, active, for the next start.
type OnStart struct {
	Delay time.Duration // >= 0
}

// Next returns the zero Time: a start is not a time a trigger can know.
func (OnStart) Next(time.Time) time.Time { return time.Time{} }

// FireAt is the fire time of a scheduler start at start.
func (o OnStart) FireAt(start time.Time) time.Time { return start.Add(o.Delay) }

func (o OnStart) String() string { return describeOnStart(o.Delay) }

// describeOnStart says when an on-start trigger fires, in words shared by
// the Trigger and the Spec.
func describeOnStart(delay time.Duration) string {
	if delay == 0 {
		return "at each scheduler start"
	}
	return "at each scheduler start, after " + FormatDuration(delay)
}

// parseOnStart reads the delay of an on-start Spec: a Duration, 0 or more.
func parseOnStart(text string) (OnStart, error) {
	d, err := ParseDuration(text)
	if err != nil {
		return OnStart{}, fmt.Errorf("on_start: %w", err)
	}
	if d < 0 {
		return OnStart{}, fmt.Errorf("on_start: %s is a negative delay (want 0s for at once, or e.g. 30s)", text)
	}
	return OnStart{Delay: d}, nil
}
