package schedule

import (
	"fmt"
	"strconv"
	"strings"
)

// field describes one field of a cron expression for parsing.
type field struct {
	name   string   // for errors: "minute field"
	lo, hi int      // value range
	names  []string // names of lo, lo+1, ... (months, weekdays); nil: numbers only
	hint   string   // what a value looks like, for errors
	// sunday7 reads a range's end of 0 after a later start as 7
	// (crontab day-of-week, where Sunday is 0 and 7), as cronie and
	// croniter do: mon-sun and 1-0 run to Sunday, but sun-sun stays
	// Sunday alone rather than 0-7, the whole week.
	sunday7 bool
}

// span is a-b/step, the compiled form of one item of a field's list.
type span struct{ lo, hi, step int }

var (
	monthNames   = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	sundayFirst  = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	mondayFirst  = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	nthPositions = []string{"1st", "2nd", "3rd", "4th", "5th"}
)

// parseItem parses one list item: *, a, a-b, each optionally /step (a/n
// is a to the field's maximum).
func (f *field) parseItem(item string) (span, error) {
	base, step, hasStep := strings.Cut(item, "/")
	s := span{step: 1}
	if base == "*" {
		s.lo, s.hi = f.lo, f.hi
	} else {
		a, b, isRange := strings.Cut(base, "-")
		var err error
		if s.lo, err = f.value(a); err != nil {
			return s, err
		}
		switch {
		case isRange:
			if s.hi, err = f.value(b); err != nil {
				return s, err
			}
			if f.sunday7 && s.hi == 0 && s.lo > 0 {
				s.hi = 7
			}
			if s.lo > s.hi {
				return s, fmt.Errorf("%s: range %q runs backwards (%d > %d)", f.name, base, s.lo, s.hi)
			}
		case hasStep:
			s.hi = f.hi
		default:
			s.hi = s.lo
		}
	}
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n < 1 || !isDigits(step) {
			return s, fmt.Errorf("%s: step %q in %q is not a whole number of at least 1", f.name, step, item)
		}
		// A step beyond its range is a mistake (*/60 in minutes), except
		// over a single value (sun-sun/6), which cron reads as that value.
		if s.lo < s.hi && n > s.hi-s.lo {
			return s, fmt.Errorf("%s: step %d in %q is larger than its range %d-%d", f.name, n, item, s.lo, s.hi)
		}
		s.step = n
	}
	return s, nil
}

// value parses a number or, for fields with names, a name.
func (f *field) value(v string) (int, error) {
	if isDigits(v) {
		n, err := strconv.Atoi(v)
		if err != nil || n < f.lo || n > f.hi {
			return 0, fmt.Errorf("%s: %s is out of range %d-%d", f.name, v, f.lo, f.hi)
		}
		return n, nil
	}
	low := strings.ToLower(v)
	for i, name := range f.names {
		if low == name {
			return f.lo + i, nil
		}
	}
	if v == "" {
		return 0, fmt.Errorf("%s: missing value (want %s)", f.name, f.hint)
	}
	return 0, fmt.Errorf("%s: %q is not a valid value (want %s)", f.name, v, f.hint)
}

// parseList parses a comma-separated list of items into a bitset of the
// matching values (the field's values must be below 64).
func (f *field) parseList(text string) (uint64, error) {
	var set uint64
	for item := range strings.SplitSeq(text, ",") {
		s, err := f.parseItem(strings.TrimSpace(item))
		if err != nil {
			return 0, err
		}
		for v := s.lo; v <= s.hi; v += s.step {
			set |= 1 << v
		}
	}
	return set, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
