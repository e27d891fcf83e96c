package schedule

import (
	"fmt"
	"strings"
	"time"
)

// A wall clock reading is handled as "local seconds": the Unix time the
// reading would have in UTC. An instant u with zone offset o reads u+o.

// Fire times and TIME values exist from year 1 to year 9999 (RFC 3339 and
// JSON cannot write other years), so every search has an end.
var (
	minUnix = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxUnix = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

const maxYear = 9999

// maxWall ends every search: the wall reading at the end of year 9999 in
// any zone (offsets stay within a day of UTC).
var maxWall = maxUnix + 1 + secondsPerDay

// segment is a stretch of time with one zone offset: [start, end), with
// start = minUnix-1 and end = maxUnix+1 standing for "no transition".
type segment struct {
	start, end int64
	offset     int64
}

// segmentAt returns the zone segment of loc holding the instant u.
func segmentAt(loc *time.Location, u int64) segment {
	t := time.Unix(u, 0).In(loc)
	_, off := t.Zone()
	s, e := t.ZoneBounds()
	seg := segment{start: minUnix - 1, end: maxUnix + 1, offset: int64(off)}
	if !s.IsZero() {
		seg.start = s.Unix()
	}
	if !e.IsZero() {
		seg.end = e.Unix()
	}
	// Beyond its table of transitions (after 2037) Go derives segments
	// from the zone's rule year by year, and on December 31 of a leap year
	// reports a segment ending at that day's start, before u. Nothing
	// changes there: the segment runs on to the next year.
	if seg.end <= u {
		y, _, _ := civilFromDays(floorDiv(u, secondsPerDay))
		seg.end = daysFromCivil(y+1, 1, 1) * secondsPerDay
	}
	seg.start = min(seg.start, u)
	return seg
}

// resolve maps a wall reading L to an instant by jobctl's DST rule: a
// reading that exists maps to its first occurrence, one that a transition
// skips maps to the instant the gap ends. resolve is monotonic in L.
func resolve(loc *time.Location, L int64) int64 {
	// Offsets stay within a day of UTC, so every instant that reads L lies
	// within a day of L; walk the segments from two days before it.
	x := L - 2*secondsPerDay
	for range 64 { // a zone has at most a few transitions in four days
		seg := segmentAt(loc, x)
		if seg.start+seg.offset > L {
			// The wall clock jumped from below L to above it: L was skipped.
			return seg.start
		}
		if u := L - seg.offset; u >= seg.start && u < seg.end {
			return u
		}
		if seg.end > maxUnix {
			break
		}
		x = seg.end
	}
	return L - segmentAt(loc, L).offset
}

// LoadLocation returns the zone named name: an IANA name such as
// Europe/Berlin, "UTC", or "Local" for the host's zone.
func LoadLocation(name string) (*time.Location, error) {
	switch {
	case name == "":
		return nil, fmt.Errorf("time zone: empty name (want an IANA name such as Europe/Berlin)")
	case strings.EqualFold(name, "local"):
		return time.Local, nil
	case strings.EqualFold(name, "utc"):
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: unknown (want an IANA name such as Europe/Berlin)", name)
	}
	return loc, nil
}
