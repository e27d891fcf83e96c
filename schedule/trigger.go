package schedule

import (
	"math/bits"
	"strings"
	"time"
)

// interval fires at start + k·every (k >= 0), in elapsed time.
type interval struct {
	start time.Time
	every time.Duration // > 0
}

func (iv interval) Next(t time.Time) time.Time {
	if t.Before(iv.start) {
		return iv.start
	}
	// k = floor((t - start) / every) + 1. The difference can exceed a
	// Duration (292 years), so divide in 128 bits.
	sec := uint64(t.Unix() - iv.start.Unix())
	ns := int64(t.Nanosecond()) - int64(iv.start.Nanosecond())
	hi, lo := bits.Mul64(sec, 1e9)
	lo, carry := bits.Add64(lo, uint64(ns), 0) // a negative ns adds 2^64+ns: drop the carry
	if ns < 0 {
		hi -= 1 - carry
	} else {
		hi += carry
	}
	every := uint64(iv.every)
	if hi >= every {
		return time.Time{} // beyond any supported time
	}
	k, _ := bits.Div64(hi, lo, every)
	k++
	// start + k·every, again in 128 bits.
	hi, lo = bits.Mul64(k, every)
	if hi >= 1e9 {
		return time.Time{}
	}
	s, n := bits.Div64(hi, lo, 1e9)
	if s > uint64(maxUnix-iv.start.Unix()) {
		return time.Time{}
	}
	return time.Unix(iv.start.Unix()+int64(s), int64(iv.start.Nanosecond())+int64(n)).In(iv.start.Location())
}

func (iv interval) String() string {
	return "every " + FormatDuration(iv.every) + " from " + iv.start.Format(time.RFC3339)
}

// date fires once.
type date struct{ at time.Time }

func (d date) Next(t time.Time) time.Time {
	if t.Before(d.at) {
		return d.at
	}
	return time.Time{}
}

func (d date) String() string { return "at " + d.at.Format(time.RFC3339) }

// bounded limits a trigger to [start, end], both inclusive; a zero bound
// is open.
type bounded struct {
	Trigger
	start, end time.Time
}

func (b bounded) Next(t time.Time) time.Time {
	if !b.start.IsZero() && t.Before(b.start) {
		t = b.start.Add(-time.Nanosecond)
	}
	f := b.Trigger.Next(t)
	if !b.end.IsZero() && f.After(b.end) {
		return time.Time{}
	}
	return f
}

func (b bounded) String() string {
	s := b.Trigger.String()
	if !b.start.IsZero() {
		s += " from " + b.start.Format(time.RFC3339)
	}
	if !b.end.IsZero() {
		s += " until " + b.end.Format(time.RFC3339)
	}
	return s
}

// anyOf fires at the union of its triggers' fire times.
type anyOf []Trigger

func (a anyOf) Next(t time.Time) time.Time {
	var first time.Time
	for _, tr := range a {
		if f := tr.Next(t); !f.IsZero() && (first.IsZero() || f.Before(first)) {
			first = f
		}
	}
	return first
}

func (a anyOf) String() string { return "any(" + join(a) + ")" }

// allOf fires at the instants all its triggers agree on.
type allOf []Trigger

// allRounds bounds allOf's search: triggers that never agree (APScheduler
// 3's AndTrigger loops forever on them) end after this many rounds.
const allRounds = 10000

func (a allOf) Next(t time.Time) time.Time {
	// m is the latest of the next fire times; every round either finds all
	// triggers firing at m or moves m strictly later.
	var m time.Time
	for _, tr := range a {
		f := tr.Next(t)
		if f.IsZero() {
			return f
		}
		if f.After(m) {
			m = f
		}
	}
	for range allRounds {
		agree, later := true, m
		for _, tr := range a {
			f := tr.Next(m.Add(-time.Nanosecond))
			if f.IsZero() {
				return f
			}
			if !f.Equal(m) {
				agree = false
			}
			if f.After(later) {
				later = f
			}
		}
		if agree {
			return m
		}
		m = later
	}
	return time.Time{}
}

func (a allOf) String() string { return "all(" + join(a) + ")" }

func join(ts []Trigger) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, t.String())
	}
	return strings.Join(parts, ", ")
}
