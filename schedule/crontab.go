package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	secondField = field{name: "second field", lo: 0, hi: 59, hint: "0-59"}
	minuteField = field{name: "minute field", lo: 0, hi: 59, hint: "0-59"}
	hourField   = field{name: "hour field", lo: 0, hi: 23, hint: "0-23"}
	domField    = field{name: "day-of-month field", lo: 1, hi: 31, hint: "1-31"}
	monthField  = field{name: "month field", lo: 1, hi: 12, names: monthNames, hint: "1-12 or jan-dec"}
	// Crontab counts the week from Sunday, which is both 0 and 7.
	crontabDOW = field{name: "day-of-week field", lo: 0, hi: 7, names: sundayFirst, hint: "0-7 or sun-sat", sunday7: true}
)

var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// ExpandMacro returns the five fields (minute hour day-of-month month
// day-of-week) that a crontab macro such as @daily stands for, in any case
// and surrounding space; ok is false for any other text.
func ExpandMacro(expr string) (fields string, ok bool) {
	fields, ok = macros[strings.ToLower(strings.TrimSpace(expr))]
	return fields, ok
}

// ParseCrontab parses a crontab expression: 5 fields (minute hour
// day-of-month month day-of-week), 6 with seconds first, or a macro such as
// @daily. The trigger matches wall-clock time in loc.
func ParseCrontab(expr string, loc *time.Location) (Trigger, error) {
	if loc == nil {
		return nil, errors.New("no time zone")
	}
	text := strings.TrimSpace(expr)
	if strings.HasPrefix(text, "@") {
		m, ok := ExpandMacro(text)
		if !ok {
			return nil, fmt.Errorf("unknown macro %q (want @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)", text)
		}
		text = m
	}
	fs := strings.Fields(text)
	switch len(fs) {
	case 5:
		fs = append([]string{"0"}, fs...)
	case 6:
	default:
		return nil, fmt.Errorf("%q has %d fields, want 5 (minute hour day-of-month month day-of-week) or 6 (second first)", expr, len(fs))
	}
	c := &cron{loc: loc, desc: "cron " + strings.Join(strings.Fields(expr), " ") + " " + loc.String()}
	var err error
	for _, p := range []struct {
		f    *field
		text string
		set  *uint64
	}{
		{&secondField, fs[0], &c.sec},
		{&minuteField, fs[1], &c.min},
		{&hourField, fs[2], &c.hour},
		{&domField, fs[3], &c.dom},
		{&monthField, fs[4], &c.month},
	} {
		if *p.set, err = p.f.parseList(p.text); err != nil {
			return nil, err
		}
	}
	dow, err := crontabDOW.parseList(fs[5])
	if err != nil {
		return nil, err
	}
	if dow&(1<<7) != 0 {
		dow = dow&^(1<<7) | 1
	}
	c.setWeekdays(dow)
	// Vixie cron: a day field starting with * is unrestricted, and only
	// two restricted day fields are ORed.
	c.or = !strings.HasPrefix(fs[3], "*") && !strings.HasPrefix(fs[5], "*")
	c.everyHour = c.hour == allHours
	if !c.feasible() {
		return nil, fmt.Errorf("%q never fires: no date has day-of-month %s in month %s", expr, fs[3], fs[4])
	}
	return c, nil
}

// setWeekdays fills dowDays from a weekday set (bit 0 = Sunday).
func (c *cron) setWeekdays(dow uint64) {
	for wd1 := range 7 {
		var days uint64
		for d := 1; d <= 31; d++ {
			if dow&(1<<((wd1+d-1)%7)) != 0 {
				days |= 1 << d
			}
		}
		c.dowDays[wd1] = days
	}
}
