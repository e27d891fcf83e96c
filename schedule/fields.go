package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	kwYear   = field{name: "year field", lo: minYear, hi: maxYear, hint: "1970-9999"}
	kwMonth  = field{name: "month field", lo: 1, hi: 12, names: monthNames, hint: "1-12 or jan-dec"}
	kwDay    = field{name: "day field", lo: 1, hi: 31, hint: "1-31, last, 1st-5th or last followed by a weekday"}
	kwWeek   = field{name: "week field", lo: 1, hi: 53, hint: "1-53"}
	kwDOW    = field{name: "day-of-week field", lo: 0, hi: 6, names: mondayFirst, hint: "mon-sun, or 0-6 with 0 = Monday"}
	kwHour   = field{name: "hour field", lo: 0, hi: 23, hint: "0-23"}
	kwMinute = field{name: "minute field", lo: 0, hi: 59, hint: "0-59"}
	kwSecond = field{name: "second field", lo: 0, hi: 59, hint: "0-59"}
)

// ParseFields builds a cron trigger from keyword fields with the syntax and
// semantics of APScheduler 3.x's CronTrigger: day and day_of_week must both
// match, day_of_week counts 0 = Monday, and a field not given is "*" when a
// less significant field is given, else its minimum (month and day 1, hour,
// minute and second 0; week and day_of_week stay "*").
func ParseFields(f Fields, loc *time.Location) (Trigger, error) {
	if loc == nil {
		return nil, errors.New("no time zone")
	}
	texts := []string{f.Year, f.Month, f.Day, f.Week, f.DayOfWeek, f.Hour, f.Minute, f.Second}
	names := []string{"year", "month", "day", "week", "day_of_week", "hour", "minute", "second"}
	defaults := []string{"*", "1", "1", "*", "*", "0", "0", "0"}
	last := -1
	var desc []string
	for i, t := range texts {
		if strings.TrimSpace(t) != "" {
			last = i
			desc = append(desc, names[i]+"="+strings.TrimSpace(t))
		}
	}
	if last < 0 {
		return nil, errors.New("no field given")
	}
	for i, t := range texts {
		switch {
		case strings.TrimSpace(t) != "":
		case i > last:
			texts[i] = defaults[i]
		default:
			texts[i] = "*"
		}
	}
	c := &cron{loc: loc, desc: "cron " + strings.Join(desc, " ") + " " + loc.String()}
	var err error
	if texts[0] != "*" {
		if c.years, err = parseYears(texts[0]); err != nil {
			return nil, err
		}
	}
	if c.month, err = kwMonth.parseList(texts[1]); err != nil {
		return nil, err
	}
	if err = c.parseDay(texts[2]); err != nil {
		return nil, err
	}
	if texts[3] != "*" {
		if c.weeks, err = kwWeek.parseList(texts[3]); err != nil {
			return nil, err
		}
	}
	dow, err := kwDOW.parseList(texts[4])
	if err != nil {
		return nil, err
	}
	// APScheduler's Monday-first weekdays to time.Weekday's Sunday-first.
	c.setWeekdays((dow<<1 | dow>>6) & 0x7f)
	for _, p := range []struct {
		f    *field
		text string
		set  *uint64
	}{{&kwHour, texts[5], &c.hour}, {&kwMinute, texts[6], &c.min}, {&kwSecond, texts[7], &c.sec}} {
		if *p.set, err = p.f.parseList(p.text); err != nil {
			return nil, err
		}
	}
	c.everyHour = c.hour == allHours
	if !c.feasible() {
		return nil, fmt.Errorf("%s never fires: no date matches its year, month, day, week and day_of_week", strings.Join(desc, " "))
	}
	return c, nil
}

// parseDay parses APScheduler's day field: the usual items plus "last" (the
// last day of the month) and "xth y" / "last y" (the x-th or last weekday y
// of the month).
func (c *cron) parseDay(text string) error {
	for item := range strings.SplitSeq(text, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		if item == "last" {
			c.lastDay = true
			continue
		}
		if pos, wd, ok := strings.Cut(item, " "); ok {
			wd = strings.TrimSpace(wd)
			w := -1
			for i, n := range sundayFirst {
				if wd == n {
					w = i
				}
			}
			k := -1
			for i, n := range nthPositions {
				if pos == n {
					k = i
				}
			}
			if pos == "last" {
				k = 5
			}
			if w < 0 || k < 0 {
				return fmt.Errorf("%s: %q is not a valid value (want %s)", kwDay.name, item, kwDay.hint)
			}
			c.nth[w] |= 1 << k
			continue
		}
		s, err := kwDay.parseItem(item)
		if err != nil {
			return err
		}
		for v := s.lo; v <= s.hi; v += s.step {
			c.dom |= 1 << v
		}
	}
	return nil
}

// parseYears parses the year field into a bitset from minYear.
func parseYears(text string) ([]uint64, error) {
	set := make([]uint64, (maxYear-minYear)/64+1)
	for item := range strings.SplitSeq(text, ",") {
		s, err := kwYear.parseItem(strings.TrimSpace(item))
		if err != nil {
			return nil, err
		}
		for v := s.lo; v <= s.hi; v += s.step {
			set[(v-minYear)/64] |= 1 << ((v - minYear) % 64)
		}
	}
	return set, nil
}
