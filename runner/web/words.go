package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jobctl/jobctl/schedule"
)

// triggerWords says when a trigger fires in plain words, for the common
// forms ("every day at 02:30", "every 15 minutes"); "" for the others,
// which the page shows as written only.
func triggerWords(s schedule.Spec) string {
	switch {
	case s.Every != "":
		return "every " + s.Every
	case s.At != "":
		return "once, at " + s.At
	case s.OnStart != "":
		return s.String() // in words already
	case s.Cron != "":
		return cronWords(s.Cron)
	}
	return ""
}

var dayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

var monthNames = []string{"", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

// cronWords reads a five-field crontab line (or a macro, by the fields it
// stands for) whose fields are *, */N, a number, or (the day of the week)
// numbers separated by commas; a month only with a day of the month, as
// @yearly has.
func cronWords(expr string) string {
	if fields, ok := schedule.ExpandMacro(expr); ok {
		expr = fields
	}
	f := strings.Fields(expr)
	if len(f) != 5 {
		return ""
	}
	minute, hour, dom, month, dow := f[0], f[1], f[2], f[3], f[4]
	mon := 0
	if month != "*" {
		n, ok := number(month, 12)
		if _, day := number(dom, 31); !ok || n == 0 || !day || dow != "*" {
			return ""
		}
		mon = n
	}
	m, mOK := number(minute, 59)
	h, hOK := number(hour, 23)
	var when string
	switch {
	case minute == "*" && hour == "*":
		when = "every minute"
	case every(minute, 60) > 0 && hour == "*":
		when = fmt.Sprintf("every %d minutes", every(minute, 60))
	case mOK && hour == "*":
		when = fmt.Sprintf("every hour at minute %d", m)
	case mOK && every(hour, 24) > 0:
		when = fmt.Sprintf("every %d hours at minute %d", every(hour, 24), m)
	case mOK && hOK:
		when = fmt.Sprintf("at %02d:%02d", h, m)
	default:
		return ""
	}
	if mOK && hOK {
		switch d, ok := number(dom, 31); {
		case dom == "*" && dow == "*":
			return "every day " + when
		case ok && mon > 0:
			return fmt.Sprintf("every year on %d %s %s", d, monthNames[mon], when)
		case ok && dow == "*":
			return fmt.Sprintf("on day %d of every month %s", d, when)
		case dom == "*":
			if days := dayList(dow); days != "" {
				return "every " + days + " " + when
			}
		}
		return ""
	}
	if dom != "*" || dow != "*" {
		return ""
	}
	return when
}

// number reads a field that is one number from 0 to most.
func number(field string, most int) (int, bool) {
	n, err := strconv.Atoi(field)
	return n, err == nil && n >= 0 && n <= most
}

// every is N of a field */N, or 0; and 0 unless N divides span, the
// field's range (60 minutes, 24 hours): */7 minutes fires at :56 and then
// :00, four minutes later, which "every 7 minutes" would not say.
func every(field string, span int) int {
	n, ok := strings.CutPrefix(field, "*/")
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(n)
	if err != nil || v <= 0 || span%v != 0 {
		return 0
	}
	return v
}

// dayList names the days of a day-of-week field of numbers ("1,3"; 1-5
// too); "" for any other.
func dayList(field string) string {
	if field == "1-5" {
		return "Monday to Friday"
	}
	var names []string
	for _, d := range strings.Split(field, ",") {
		n, ok := number(d, 7)
		if !ok {
			return ""
		}
		names = append(names, dayNames[n])
	}
	return strings.Join(names, ", ")
}
