//go:build !linux

package runner

// NewAlarm returns an alarm that checks the wall clock at least every
// pollAlarmMax, there being no portable timer on the wall clock.
func (RealClock) NewAlarm() Alarm { return newPollAlarm() }
