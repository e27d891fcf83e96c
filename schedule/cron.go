package schedule

import (
	"math/bits"
	"time"
)

// cron is a cron trigger in either syntax, compiled to bitsets: bit v of a
// field's set means the value v matches. Matching works on civil (wall
// clock) time; Next maps civil times to instants by the DST rule in the
// package doc.
type cron struct {
	sec, min, hour uint64 // bits 0-59, 0-59, 0-23
	dom            uint64 // bits 1-31
	month          uint64 // bits 1-12
	// dowDays[w] holds, for a month whose 1st falls on weekday w (0 =
	// Sunday), the days 1-31 whose weekday is in the day-of-week field.
	dowDays [7]uint64
	// or is the classic cron rule: day-of-month and day-of-week both
	// restricted, so a day matching either matches.
	or bool

	// Keyword (APScheduler) extras of the day field, ORed with dom.
	lastDay bool     // "last"
	nth     [7]uint8 // nth[w] bit k-1: k-th weekday w of the month (k 1-5); bit 5: the last one
	weeks   uint64   // ISO weeks, bits 1-53; 0: unrestricted
	years   []uint64 // bit y-minYear; nil: every year

	// everyHour is set when the hour field matches every hour: the trigger
	// then fires at every instant whose wall reading matches, in elapsed
	// time through DST changes, instead of once per wall-clock time.
	everyHour bool

	loc  *time.Location
	desc string
}

const (
	minYear  = 1970 // APScheduler's smallest year
	allHours = 1<<24 - 1
	// cycleYears is the period of the Gregorian calendar (146097 days, a
	// whole number of weeks): a date pattern that matches nothing in that
	// many years never matches.
	cycleYears   = 400
	daysPerCycle = 146097
)

func (c *cron) String() string { return c.desc }

// daysOf returns the days (bits 1-31) of month m of year y that match.
func (c *cron) daysOf(y, m int64) uint64 {
	n := monthLen(y, m)
	valid := uint64(1)<<(n+1) - 2
	first := daysFromCivil(y, m, 1)
	wd1 := weekday(first)
	dom := c.dom
	if c.lastDay {
		dom |= 1 << n
	}
	for w, ks := range c.nth {
		if ks == 0 {
			continue
		}
		d0 := 1 + (w-wd1+7)%7 // first weekday w of the month
		for k := 0; k < 5; k++ {
			if d := d0 + 7*k; ks&(1<<k) != 0 && d <= n {
				dom |= 1 << d
			}
		}
		if ks&(1<<5) != 0 {
			dom |= 1 << (d0 + 7*((n-d0)/7))
		}
	}
	var days uint64
	if c.or {
		days = (dom | c.dowDays[wd1]) & valid
	} else {
		days = dom & c.dowDays[wd1] & valid
	}
	if c.weeks != 0 && days != 0 {
		days &= c.weekDays(first, n, wd1)
	}
	return days
}

// weekDays returns the days 1-n of the month starting on day number first
// (weekday wd1) whose ISO week is in c.weeks.
func (c *cron) weekDays(first int64, n, wd1 int) uint64 {
	var days uint64
	d := 1
	for d <= n {
		// A week runs Monday to Sunday; find the end of d's week.
		end := d + (7-(wd1+d-1)%7)%7
		if end > n {
			end = n
		}
		if c.weeks&(1<<isoWeek(first+int64(d-1))) != 0 {
			days |= (uint64(1)<<(end+1) - 1) &^ (uint64(1)<<d - 1)
		}
		d = end + 1
	}
	return days
}

// nextYear returns the first year >= y in the year set, or noYear.
func (c *cron) nextYear(y int64) int64 {
	if c.years == nil {
		return y
	}
	if y < minYear {
		y = minYear
	}
	for i := (y - minYear) / 64; i < int64(len(c.years)); i++ {
		w := c.years[i]
		if i == (y-minYear)/64 {
			w &^= uint64(1)<<((y-minYear)%64) - 1
		}
		if w != 0 {
			return minYear + i*64 + int64(bits.TrailingZeros64(w))
		}
	}
	return noYear
}

// noYear is later than any search goes.
const noYear = 1 << 40

// timeOfDay returns the first matching time of day at or after h:m:s.
func (c *cron) timeOfDay(h, m, s int) (int, int, int, bool) {
	for h < 24 {
		hs := c.hour &^ (uint64(1)<<h - 1)
		if hs == 0 {
			return 0, 0, 0, false
		}
		if nh := bits.TrailingZeros64(hs); nh != h {
			h, m, s = nh, 0, 0
		}
		ms := c.min &^ (uint64(1)<<m - 1)
		if ms == 0 {
			h, m, s = h+1, 0, 0
			continue
		}
		if nm := bits.TrailingZeros64(ms); nm != m {
			m, s = nm, 0
		}
		ss := c.sec &^ (uint64(1)<<s - 1)
		if ss == 0 {
			m, s = m+1, 0
			continue
		}
		return h, m, bits.TrailingZeros64(ss), true
	}
	return 0, 0, 0, false
}

// search returns the first matching wall reading in [L, limit) (local
// seconds). It steps month by month, so its work is proportional to the
// months it scans.
func (c *cron) search(L, limit int64) (int64, bool) {
	days := floorDiv(L, secondsPerDay)
	sod := int(L - days*secondsPerDay)
	y, mo, d := civilFromDays(days)
	h, mi, s := sod/3600, sod/60%60, sod%60
	ly, lmo, _ := civilFromDays(floorDiv(limit-1, secondsPerDay))
	for y < ly || y == ly && mo <= lmo {
		if ny := c.nextYear(y); ny != y {
			y, mo, d, h, mi, s = ny, 1, 1, 0, 0, 0
			continue
		}
		ms := c.month &^ (uint64(1)<<mo - 1)
		if ms == 0 {
			y, mo, d, h, mi, s = y+1, 1, 1, 0, 0, 0
			continue
		}
		if nm := int64(bits.TrailingZeros64(ms)); nm != mo {
			mo, d, h, mi, s = nm, 1, 0, 0, 0
			continue // the new month may lie past the limit
		}
		ds := c.daysOf(y, mo) &^ (uint64(1)<<d - 1)
		for ds != 0 {
			if nd := int64(bits.TrailingZeros64(ds)); nd != d {
				d, h, mi, s = nd, 0, 0, 0
			}
			if hh, mm, ss, ok := c.timeOfDay(h, mi, s); ok {
				found := daysFromCivil(y, mo, d)*secondsPerDay + int64(hh*3600+mm*60+ss)
				return found, found < limit
			}
			ds &^= 1 << d
			d, h, mi, s = d+1, 0, 0, 0
		}
		mo, d, h, mi, s = mo+1, 1, 0, 0, 0
	}
	return 0, false
}

// searchLimit is where a search from wall reading L gives up: a pattern
// that matches at all matches within a 400-year cycle, except that a year
// field may skip centuries and so ends the search itself.
func (c *cron) searchLimit(L int64) int64 {
	end := maxWall
	if c.years == nil {
		end = min(end, L+cycleYears*daysPerCycle*secondsPerDay)
	}
	return end
}

// Next returns the first fire time after t.
func (c *cron) Next(t time.Time) time.Time {
	u := t.Unix() // fire times are whole seconds, so "after t" is "after u"
	if u < minUnix {
		u = minUnix - 1
	}
	if u >= maxUnix {
		return time.Time{}
	}
	var f int64
	var ok bool
	if c.everyHour {
		f, ok = c.nextElapsed(u)
	} else {
		f, ok = c.nextWall(u)
	}
	if !ok || f > maxUnix {
		return time.Time{}
	}
	return time.Unix(f, 0).In(c.loc)
}

// nextWall is Next for a trigger with fixed hours: the first instant after
// u that some matching wall reading resolves to.
func (c *cron) nextWall(u int64) (int64, bool) {
	seg := segmentAt(c.loc, u)
	from := u + seg.offset + 1
	if seg.start >= minUnix && u-seg.start < 2*secondsPerDay {
		// If u lies in the second occurrence of a repeated stretch of
		// wall time, everything in that stretch already fired at its first
		// occurrence: resume at the stretch's end.
		prev := segmentAt(c.loc, seg.start-1)
		if back := prev.offset - seg.offset; back > 0 && u < seg.start+back {
			from = seg.start + prev.offset
		}
	}
	L, ok := c.search(from, c.searchLimit(from))
	if !ok {
		return 0, false
	}
	// Fast path: the reading lies in u's own segment.
	if f := L - seg.offset; f < seg.end {
		return f, true
	}
	return resolve(c.loc, L), true
}

// nextElapsed is Next for a trigger matching every hour: the first instant
// after u whose wall reading matches, walking the zone's segments each with
// its own offset.
func (c *cron) nextElapsed(u int64) (int64, bool) {
	x := u + 1
	limit := c.searchLimit(x)
	for x <= maxUnix {
		seg := segmentAt(c.loc, x)
		// Search this segment's readings only, so that a distant match
		// costs one scan of the months up to it, not one per segment.
		if L, ok := c.search(x+seg.offset, min(limit, seg.end+seg.offset)); ok {
			return L - seg.offset, true
		}
		if seg.end+seg.offset >= limit {
			return 0, false
		}
		x = seg.end
	}
	return 0, false
}

// feasible reports whether c matches any date at all: a pattern matches
// within one 400-year cycle or never (bounded by the year set, if any).
func (c *cron) feasible() bool {
	from := daysFromCivil(2000, 1, 1) * secondsPerDay
	if c.years != nil {
		from = daysFromCivil(c.nextYear(minYear), 1, 1) * secondsPerDay
	}
	_, ok := c.search(from, c.searchLimit(from))
	return ok
}
