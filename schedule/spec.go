package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Spec is a trigger as a user writes it, in a jobfile or with flags: the form
// jobs are stored in and re-parsed from. Exactly one of Cron, Fields, Every,
// At, OnStart, Any and All is set. OnStart stands alone: it takes no start or
// end and is no child of Any or All (a start is no instant to bound or to
// agree on), and its zone means nothing.
type Spec struct {
	Cron   string  `json:"cron,omitempty"`   // crontab syntax
	Fields *Fields `json:"fields,omitempty"` // keyword fields (APScheduler CronTrigger)
	Every  string  `json:"every,omitempty"`  // interval, a Duration
	At     string  `json:"at,omitempty"`     // one fire time, a TIME
	Any    []Spec  `json:"any,omitempty"`    // union of the fire times
	All    []Spec  `json:"all,omitempty"`    // instants all of them agree on
	// OnStart is the delay, a Duration ("0s": at once), after each start of
	// a scheduler at which the job fires (see OnStart).
	OnStart string `json:"on_start,omitempty"`

	Timezone string `json:"timezone,omitempty"` // IANA name; empty: inherited, else local
	Start    string `json:"start,omitempty"`    // inclusive bound, and an interval's anchor
	End      string `json:"end,omitempty"`      // inclusive bound
}

// Fields are the keyword fields of a cron trigger, as APScheduler 3.x's
// CronTrigger takes them. An empty string is an unset field.
type Fields struct {
	Year      string `json:"year,omitempty"`
	Month     string `json:"month,omitempty"`
	Day       string `json:"day,omitempty"`
	Week      string `json:"week,omitempty"`
	DayOfWeek string `json:"day_of_week,omitempty"`
	Hour      string `json:"hour,omitempty"`
	Minute    string `json:"minute,omitempty"`
	Second    string `json:"second,omitempty"`
}

// MinInterval is the shortest interval a Spec may give. A scheduler wakes
// for each fire time and records a run for each, so an interval of
// nanoseconds would make it record misses about 1,000 times a second; cron
// triggers, with their whole seconds, cannot go below a second either.
const MinInterval = time.Second

// Parse builds the Trigger that s describes. loc is the zone used when s
// names none; ref is the instant relative parts of s are read against
// ("now" in Start, and the anchor of an interval without Start, which first
// fires one interval after ref). The Timezone, Start and End of a node with
// Any or All apply to each child that has none of its own.
func (s Spec) Parse(loc *time.Location, ref time.Time) (Trigger, error) {
	if s.Timezone != "" {
		var err error
		if loc, err = LoadLocation(s.Timezone); err != nil {
			return nil, err
		}
	}
	if loc == nil {
		loc = time.Local
	}
	kind, err := s.kind()
	if err != nil {
		return nil, err
	}
	if kind == "on_start" {
		if s.Start != "" || s.End != "" {
			return nil, fmt.Errorf("on_start: takes no start or end (it fires at each scheduler start)")
		}
		return parseOnStart(s.OnStart)
	}
	if kind == "any" || kind == "all" {
		children := s.Any
		if kind == "all" {
			children = s.All
		}
		ts := make([]Trigger, len(children))
		for i, c := range children {
			if c.Start == "" {
				c.Start = s.Start
			}
			if c.End == "" {
				c.End = s.End
			}
			if c.OnStart != "" {
				return nil, fmt.Errorf("%s[%d]: on_start cannot be combined with other triggers: it fires only at a scheduler's start", kind, i)
			}
			if ts[i], err = c.Parse(loc, ref); err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", kind, i, err)
			}
		}
		if kind == "all" {
			return allOf(ts), nil
		}
		return anyOf(ts), nil
	}
	var start, end time.Time
	if s.Start != "" {
		if start, err = ParseTime(s.Start, loc, ref); err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
	}
	if s.End != "" {
		if end, err = ParseTime(s.End, loc, ref); err != nil {
			return nil, fmt.Errorf("end: %w", err)
		}
		if !start.IsZero() && end.Before(start) {
			return nil, fmt.Errorf("end %s is before start %s", s.End, s.Start)
		}
	}
	var t Trigger
	switch kind {
	case "cron":
		if t, err = ParseCrontab(s.Cron, loc); err != nil {
			return nil, fmt.Errorf("cron: %w", err)
		}
	case "fields":
		if t, err = ParseFields(*s.Fields, loc); err != nil {
			return nil, fmt.Errorf("cron fields: %w", err)
		}
	case "every":
		d, err := ParseDuration(s.Every)
		if err != nil {
			return nil, fmt.Errorf("every: %w", err)
		}
		if d <= 0 {
			return nil, fmt.Errorf("every: %s is not a positive duration", s.Every)
		}
		if d < MinInterval {
			return nil, fmt.Errorf("every: %s is shorter than the shortest interval, %s", s.Every, MinInterval)
		}
		anchor := start
		if anchor.IsZero() {
			anchor = ref.Add(d)
		}
		t = interval{start: anchor.In(loc), every: d}
	case "at":
		at, err := ParseTime(s.At, loc, ref)
		if err != nil {
			return nil, fmt.Errorf("at: %w", err)
		}
		t = date{at: at.In(loc)}
	}
	if start.IsZero() && end.IsZero() {
		return t, nil
	}
	return bounded{Trigger: t, start: start, end: end}, nil
}

// kind names the one trigger kind set in s.
func (s Spec) kind() (string, error) {
	var kinds []string
	if s.Cron != "" {
		kinds = append(kinds, "cron")
	}
	if s.Fields != nil {
		kinds = append(kinds, "fields")
	}
	if s.Every != "" {
		kinds = append(kinds, "every")
	}
	if s.At != "" {
		kinds = append(kinds, "at")
	}
	if s.OnStart != "" {
		kinds = append(kinds, "on_start")
	}
	if s.Any != nil {
		kinds = append(kinds, "any")
	}
	if s.All != nil {
		kinds = append(kinds, "all")
	}
	switch {
	case len(kinds) == 0:
		return "", errors.New("no trigger: want one of cron, fields, every, at, on_start, any, all")
	case len(kinds) > 1:
		return "", fmt.Errorf("several triggers (%s) in one: want exactly one, or combine them with any or all", strings.Join(kinds, ", "))
	case (s.Any != nil && len(s.Any) == 0) || (s.All != nil && len(s.All) == 0):
		return "", fmt.Errorf("%s: empty list of triggers", kinds[0])
	}
	return kinds[0], nil
}

// Validate reports the first error in s, naming the field, as Parse would.
func (s Spec) Validate() error {
	_, err := s.Parse(time.UTC, time.Unix(0, 0))
	return err
}

// String describes s as a user wrote it, on one line:
// "cron 30 2 * * * tz=Europe/Berlin", "every 1h30m start=now"; an on-start
// trigger in words: "at each scheduler start, after 30s".
func (s Spec) String() string {
	var parts []string
	switch {
	case s.Cron != "":
		parts = append(parts, "cron "+strings.Join(strings.Fields(s.Cron), " "))
	case s.Fields != nil:
		f := s.Fields
		p := []string{"cron"}
		for _, kv := range [][2]string{{"year", f.Year}, {"month", f.Month}, {"day", f.Day}, {"week", f.Week},
			{"day_of_week", f.DayOfWeek}, {"hour", f.Hour}, {"minute", f.Minute}, {"second", f.Second}} {
			if kv[1] != "" {
				p = append(p, kv[0]+"="+quoteSpaces(kv[1]))
			}
		}
		parts = append(parts, strings.Join(p, " "))
	case s.Every != "":
		parts = append(parts, "every "+s.Every)
	case s.At != "":
		parts = append(parts, "at "+quoteSpaces(s.At))
	case s.OnStart != "":
		// In words, as the Trigger says it; a zone means nothing to it.
		if d, err := ParseDuration(s.OnStart); err == nil {
			return describeOnStart(d)
		}
		return "on_start " + quoteSpaces(s.OnStart)
	case s.Any != nil || s.All != nil:
		name, children := "any", s.Any
		if s.All != nil {
			name, children = "all", s.All
		}
		var cs []string
		for _, c := range children {
			cs = append(cs, c.String())
		}
		parts = append(parts, name+"("+strings.Join(cs, "; ")+")")
	}
	for _, kv := range [][2]string{{"tz", s.Timezone}, {"start", s.Start}, {"end", s.End}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+quoteSpaces(kv[1]))
		}
	}
	return strings.Join(parts, " ")
}

func quoteSpaces(v string) string {
	if strings.ContainsAny(v, " \t") {
		return strconv.Quote(v)
	}
	return v
}
