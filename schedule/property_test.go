package schedule

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The property test compares Next with a brute-force reference that steps
// through wall-clock minutes and resolves DST with nothing but
// Time.In(loc).Zone(), sharing only the parsed field sets with the code
// under test.

// refDay reports whether the date matches c's day fields.
func refDay(c *cron, y int, m time.Month, d int) bool {
	date := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	if c.years != nil && (y < minYear || c.years[(y-minYear)/64]&(1<<((y-minYear)%64)) == 0) {
		return false
	}
	if c.month&(1<<int(m)) == 0 {
		return false
	}
	n := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	wd := int(date.Weekday())
	domOK := c.dom&(1<<d) != 0 || c.lastDay && d == n ||
		c.nth[wd]&(1<<((d-1)/7)) != 0 || c.nth[wd]&(1<<5) != 0 && d+7 > n
	dowOK := c.dowDays[wd]&(1<<1) != 0 // a month starting on wd has day 1 on wd
	ok := domOK && dowOK
	if c.or {
		ok = domOK || dowOK
	}
	if _, w := date.ISOWeek(); c.weeks != 0 && c.weeks&(1<<w) == 0 {
		return false
	}
	return ok
}

func refClock(c *cron, h, m, s int) bool {
	return c.hour&(1<<h) != 0 && c.min&(1<<m) != 0 && c.sec&(1<<s) != 0
}

func offsetAt(loc *time.Location, u int64) int64 {
	_, off := time.Unix(u, 0).In(loc).Zone()
	return int64(off)
}

// refResolve maps wall reading L to an instant: the first one that reads L,
// else (L was skipped) the first instant reading later than L.
func refResolve(loc *time.Location, L int64) int64 {
	best := int64(-1 << 62)
	found := false
	for k := int64(-40 * 4); k <= 40*4; k++ {
		o := offsetAt(loc, L+k*900)
		if u := L - o; offsetAt(loc, u) == o && (!found || u < best) {
			best, found = u, true
		}
	}
	if found {
		return best
	}
	u := L - 30*3600
	for u+offsetAt(loc, u) <= L {
		u += 900
	}
	lo, hi := u-900, u // wall(lo) <= L < wall(hi)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if mid+offsetAt(loc, mid) > L {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

const refHorizon = 3 * 24 * 3600

// refNext is Next by brute force, looking refHorizon seconds ahead of t;
// ok is false when it finds nothing there.
func refNext(c *cron, t int64) (int64, bool) {
	if c.everyHour {
		// Every instant whose wall reading matches; offsets are whole
		// minutes in the years tested, so step through instant minutes.
		for u := t - t%60; u <= t+refHorizon; u += 60 {
			w := time.Unix(u, 0).In(c.loc)
			y, m, d := w.Date()
			if !refDay(c, y, m, d) || c.hour&(1<<w.Hour()) == 0 || c.min&(1<<w.Minute()) == 0 {
				continue
			}
			for s := range 60 {
				if u+int64(s) > t && refClock(c, w.Hour(), w.Minute(), s) {
					return u + int64(s), true
				}
			}
		}
		return 0, false
	}
	// Fixed hours: the first matching wall reading in civil order that
	// resolves after t (resolution is monotonic).
	L0 := t + offsetAt(c.loc, t) - 3*3600
	for L := L0 - L0%60; L <= t+refHorizon+14*3600; L += 60 {
		w := time.Unix(L, 0).UTC()
		y, m, d := w.Date()
		if !refDay(c, y, m, d) || c.hour&(1<<w.Hour()) == 0 || c.min&(1<<w.Minute()) == 0 {
			continue
		}
		for s := range 60 {
			if c.sec&(1<<s) != 0 {
				if u := refResolve(c.loc, L+int64(s)); u > t {
					return u, u <= t+refHorizon
				}
			}
		}
	}
	return 0, false
}

func randomCrontab(r *rand.Rand) string {
	pick := func(opts ...string) string { return opts[r.IntN(len(opts))] }
	fields := []string{
		pick("0", "0", "0", "*/20", "15,45"),
		pick("*", "*/15", "0", "30", "0,30", "5-50/15", "45", fmt.Sprint(r.IntN(60))),
		pick("*", "*/2", "1-3", "2", "1", "3", "0", "23", "1,2,3", "*/1", "0-23", fmt.Sprint(r.IntN(24))),
		pick("*", "*", "*/2", "1-7", "4,5", "15", "29-31", "1,15", fmt.Sprint(1+r.IntN(31))),
		pick("*", "*", "3,4,9,10,11", "*/2", "mar-apr"),
		pick("*", "*", "0", "1-5", "sat,sun", "*/2", fmt.Sprint(r.IntN(8))),
	}
	if fields[0] == "0" {
		fields = fields[1:]
	}
	return strings.Join(fields, " ")
}

func randomFields(r *rand.Rand) Fields {
	pick := func(opts ...string) string { return opts[r.IntN(len(opts))] }
	return Fields{
		Month:     pick("", "", "", "3,4,10", "*/2"),
		Day:       pick("", "", "", "last", "2nd sun", "last sun", "1st sun,last sat", "*/3", "25-31"),
		Week:      pick("", "", "", "", "*/2", "10-20,40-53"),
		DayOfWeek: pick("", "", "", "sun", "mon-fri", "5,6"),
		Hour:      pick("", "", "1-3", "2", "*/3", "0"),
		Minute:    pick("", "", "*/15", "30", "0,45"),
		Second:    pick("", "", "", "0", "*/30"),
	}
}

// transitions lists the DST changes of loc in [from, to).
func transitions(loc *time.Location, from, to time.Time) []time.Time {
	var ts []time.Time
	for t := from; t.Before(to); {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			break
		}
		ts = append(ts, end)
		t = end
	}
	return ts
}

func TestNextMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := 1500
	if testing.Short() {
		cases = 200
	}
	zones := []string{"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Chatham", "UTC", "Asia/Kolkata", "America/Sao_Paulo"}
	var starts []time.Time
	for _, z := range zones {
		starts = append(starts, transitions(mustLoad(t, z), time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))...)
	}
	for i := 0; i < cases; i++ {
		loc := mustLoad(t, zones[r.IntN(len(zones))])
		var tr Trigger
		var err error
		var desc string
		if r.IntN(3) == 0 {
			f := randomFields(r)
			if f == (Fields{}) {
				f.Minute = "*/10"
			}
			tr, err = ParseFields(f, loc)
			desc = fmt.Sprintf("%+v", f)
		} else {
			desc = randomCrontab(r)
			tr, err = ParseCrontab(desc, loc)
		}
		if err != nil {
			continue // an infeasible draw
		}
		c := tr.(*cron)
		var from time.Time
		switch near := starts[r.IntN(len(starts))]; r.IntN(4) {
		case 0:
			from = time.Unix(946684800+r.Int64N(40*365*86400), 0)
		case 1: // in or about a skipped or repeated stretch
			from = near.Add(time.Duration(r.Int64N(4*3600)-2*3600) * time.Second)
		default:
			from = near.Add(time.Duration(r.Int64N(3*86400)-2*86400) * time.Second)
		}
		// Follow a few fire times, so that each step starts on a fire time.
		for step := 0; step < 4; step++ {
			got := tr.Next(from)
			want, ok := refNext(c, from.Unix())
			switch {
			case ok && !got.Equal(time.Unix(want, 0)):
				t.Fatalf("%s in %s: Next(%s) = %s, brute force %s", desc, loc, from.In(loc).Format(time.RFC3339),
					got.Format(time.RFC3339), time.Unix(want, 0).In(loc).Format(time.RFC3339))
			case !ok && !got.IsZero() && got.Unix() <= from.Unix()+refHorizon:
				t.Fatalf("%s in %s: Next(%s) = %s, brute force finds none within 3 days", desc, loc,
					from.In(loc).Format(time.RFC3339), got.Format(time.RFC3339))
			}
			if got.IsZero() {
				break
			}
			from = got
		}
	}
}
