package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime parses a TIME: RFC 3339 ("2026-03-29T02:30:00+02:00"), a local
// wall time "YYYY-MM-DD[ HH:MM[:SS]]" (or with a T) read in loc, or "now",
// which is ref. A local time that a DST change skips is the instant the gap
// ends; one that occurs twice is its first occurrence.
func ParseTime(s string, loc *time.Location, ref time.Time) (time.Time, error) {
	text := strings.TrimSpace(s)
	if strings.EqualFold(text, "now") {
		return ref, nil
	}
	// Checked first: with an offset out of range, RFC 3339 fails and the
	// message of the local form would blame the time of day.
	if err := checkOffset(text); err != nil {
		return time.Time{}, fmt.Errorf("time %q: %v", s, err)
	}
	t, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		L, err := parseWall(text)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %v (want RFC 3339 such as 2026-03-29T02:30:00+02:00, a local YYYY-MM-DD[ HH:MM[:SS]], or now)", s, err)
		}
		t = time.Unix(resolve(loc, L), 0).In(loc)
	}
	if u := t.Unix(); u < minUnix || u > maxUnix {
		return time.Time{}, fmt.Errorf("time %q: out of range (years 1-9999 in UTC)", s)
	}
	return t, nil
}

// parseWall reads YYYY-MM-DD[( |T)HH:MM[:SS]] as local seconds.
func parseWall(s string) (int64, error) {
	date, clock, hasClock := strings.Cut(s, " ")
	if !hasClock {
		date, clock, hasClock = strings.Cut(s, "T")
	}
	ds := strings.Split(date, "-")
	if len(ds) != 3 || len(ds[0]) != 4 || len(ds[1]) != 2 || len(ds[2]) != 2 {
		return 0, fmt.Errorf("date %q is not YYYY-MM-DD", date)
	}
	var v [6]int
	names := [6]string{"year", "month", "day", "hour", "minute", "second"}
	parts := ds
	if hasClock {
		cs := strings.Split(strings.TrimSpace(clock), ":")
		if len(cs) < 2 || len(cs) > 3 {
			return 0, fmt.Errorf("time of day %q is not HH:MM[:SS]", clock)
		}
		parts = append(parts, cs...)
	}
	for i, p := range parts {
		if !isDigits(p) || (i > 0 && len(p) != 2) {
			return 0, fmt.Errorf("%s %q is not a number of 2 digits", names[i], p)
		}
		v[i], _ = strconv.Atoi(p)
	}
	y, m, d := int64(v[0]), int64(v[1]), v[2]
	switch {
	case y < 1:
		return 0, fmt.Errorf("year %d is out of range 1-9999", y)
	case m < 1 || m > 12:
		return 0, fmt.Errorf("month %d is out of range 1-12", m)
	case d < 1 || d > monthLen(y, m):
		return 0, fmt.Errorf("day %d is out of range 1-%d for %04d-%02d", d, monthLen(y, m), y, m)
	case v[3] > 23:
		return 0, fmt.Errorf("hour %d is out of range 0-23", v[3])
	case v[4] > 59:
		return 0, fmt.Errorf("minute %d is out of range 0-59", v[4])
	case v[5] > 59:
		return 0, fmt.Errorf("second %d is out of range 0-59", v[5])
	}
	return daysFromCivil(y, m, int64(d))*secondsPerDay + int64(v[3]*3600+v[4]*60+v[5]), nil
}

// checkOffset checks the numeric offset ("+HH:MM") text ends with, if any:
// RFC 3339 takes hours 00-23 and minutes 00-59 (Go's time.Parse lets
// +24:00 and +23:60 through, and refuses +25:00 in words of its own).
func checkOffset(text string) error {
	n := len(text)
	if n < 6 || (text[n-6] != '+' && text[n-6] != '-') || text[n-3] != ':' ||
		!isDigits(text[n-5:n-3]) || !isDigits(text[n-2:]) {
		return nil
	}
	off := text[n-6:]
	hh, _ := strconv.Atoi(off[1:3])
	mm, _ := strconv.Atoi(off[4:])
	if hh > 23 || mm > 59 {
		return fmt.Errorf("offset %s is out of range (want -23:59 to +23:59)", off)
	}
	return nil
}
