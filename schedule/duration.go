package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	day  = 24 * time.Hour
	week = 7 * day
)

// maxDuration is the longest time.Duration, about 292 years.
const maxDuration = time.Duration(1<<63 - 1)

// units are the units ParseDuration reads, with their sizes: Go's, a day
// and a week.
var units = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond, "μs": time.Microsecond,
	"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": day, "w": week,
}

// isDecimal reports whether num is a decimal number as time.ParseDuration
// reads it: digits with at most one point, and at least one digit.
func isDecimal(num string) bool {
	return strings.Count(num, ".") <= 1 && strings.Trim(num, ".") != ""
}

// ParseDuration parses a duration in Go's syntax (time.ParseDuration) with
// two more units: d (24h) and w (7d), as in "90s", "1h30m", "2d", "1w2d".
func ParseDuration(s string) (time.Duration, error) {
	text := strings.TrimSpace(s)
	if text == "" {
		return 0, fmt.Errorf("duration: empty (want e.g. 90s, 1h30m, 2d, 1w)")
	}
	neg := false
	rest := text
	if rest[0] == '-' || rest[0] == '+' {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	if rest == "0" {
		return 0, nil
	}
	tooLong := func() error {
		return fmt.Errorf("duration %q: too long (at most %s, about 292 years)", s, FormatDuration(maxDuration.Truncate(time.Second)))
	}
	var total time.Duration
	for rest != "" {
		// One term: a decimal number and a unit.
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		j := i
		for j < len(rest) && !(rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		mult, known := units[unit]
		if !known || !isDecimal(num) {
			return 0, fmt.Errorf("duration %q: %q is not a number with a unit (ns, us, ms, s, m, h, d, w)", s, num+unit)
		}
		// The syntax is good: time.ParseDuration fails only by overflow.
		// It knows hours, and a day or a week is a whole number of them.
		goUnit := unit
		if mult >= day {
			goUnit = "h"
		}
		term, err := time.ParseDuration(num + goUnit)
		if err != nil || mult >= day && term > maxDuration/(mult/time.Hour) {
			return 0, tooLong()
		}
		if mult >= day {
			term *= mult / time.Hour
		}
		if total > maxDuration-term {
			return 0, tooLong()
		}
		total += term
	}
	if neg {
		total = -total
	}
	return total, nil
}

// FormatDuration writes d the way people write durations, in the syntax
// ParseDuration reads: 1h30m, 2d, 1w2d, 1m30s, 1.5s, 250ms.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		if d == -d { // the most negative Duration has no positive twin
			return d.String()
		}
		return "-" + FormatDuration(-d)
	}
	if d < time.Second {
		return d.String()
	}
	var b strings.Builder
	for _, u := range []struct {
		unit string
		size time.Duration
	}{{"w", week}, {"d", day}, {"h", time.Hour}, {"m", time.Minute}} {
		if n := d / u.size; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.unit)
			d -= n * u.size
		}
	}
	if d > 0 {
		b.WriteString(strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s")
	}
	return b.String()
}
