package schedule

import (
	"testing"
	"time"
)

var fuzzZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "Pacific/Apia"}

// checkNext follows a few fire times of tr from the instant sec and fails
// unless each is strictly later than the one before.
func checkNext(t *testing.T, tr Trigger, sec int64) {
	// Clamp into the years triggers cover, with a margin on both sides.
	from := time.Unix(minUnix-86400+((sec%(maxUnix-minUnix+2*86400))+(maxUnix-minUnix+2*86400))%(maxUnix-minUnix+2*86400), 0)
	for range 5 {
		next := tr.Next(from)
		if next.IsZero() {
			return
		}
		if !next.After(from) {
			t.Fatalf("%s: Next(%v) = %v, not after it", tr, from, next)
		}
		from = next
	}
}

func FuzzParseCrontab(f *testing.F) {
	for _, s := range []string{"* * * * *", "*/5 * * * *", "0 0 29 2 *", "30 2 * * *", "0 0 13 * 5",
		"15,45 9-17 * * mon-fri", "59 59 23 31 12 *", "@weekly", "0 0 */2 * sun-sat", "5/15 1-3 * jan-mar 7", "0 0 30 feb *"} {
		f.Add(s, uint8(1), int64(1767225600))
	}
	f.Fuzz(func(t *testing.T, expr string, zone uint8, sec int64) {
		loc := mustLoad(t, fuzzZones[int(zone)%len(fuzzZones)])
		tr, err := ParseCrontab(expr, loc)
		if err != nil {
			return
		}
		checkNext(t, tr, sec)
	})
}

func FuzzParseFields(f *testing.F) {
	f.Add("", "", "last", "", "", "23", "59", "", uint8(2), int64(1767225600))
	f.Add("2026", "11", "4th thu", "", "", "12", "", "", uint8(0), int64(1767225600))
	f.Add("*/2", "", "", "*/2", "mon", "", "", "", uint8(3), int64(0))
	f.Add("", "2", "29", "", "", "", "", "*/30", uint8(4), int64(-1))
	f.Add("9999", "12", "31", "53", "fri", "", "", "", uint8(5), int64(253402300799))
	f.Fuzz(func(t *testing.T, year, month, day, week, dow, hour, minute, second string, zone uint8, sec int64) {
		loc := mustLoad(t, fuzzZones[int(zone)%len(fuzzZones)])
		tr, err := ParseFields(Fields{year, month, day, week, dow, hour, minute, second}, loc)
		if err != nil {
			return
		}
		checkNext(t, tr, sec)
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "1h30m", "2d", "1w2d", "1.5d", "-1h", "0", "250ms", "1µs", "2562047h", "106751d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		// What FormatDuration writes, ParseDuration reads back.
		if back, err := ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Fatalf("%q: %v formats as %q, which parses as %v, %v", s, d, FormatDuration(d), back, err)
		}
		if d > 0 {
			iv := interval{start: time.Unix(0, 0), every: d}
			checkNext(t, iv, int64(d))
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-03-29T02:30:00+02:00", "2026-03-29 02:30", "2026-10-25T02:30", "now",
		"2026-02-29", "9999-12-31 23:59:59", "0001-01-01", "2026-06-01T08:15:30.5Z"} {
		f.Add(s, uint8(1))
	}
	ref := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string, zone uint8) {
		loc := mustLoad(t, fuzzZones[int(zone)%len(fuzzZones)])
		tm, err := ParseTime(s, loc, ref)
		if err != nil {
			return
		}
		// A TIME is something RFC 3339 can write (in UTC: local mean time
		// offsets have seconds, which RFC 3339 cannot write), and reads
		// back as the same instant.
		back, err := time.Parse(time.RFC3339Nano, tm.UTC().Format(time.RFC3339Nano))
		if err != nil || !back.Equal(tm) {
			t.Fatalf("%q: %v does not round-trip through RFC 3339: %v, %v", s, tm, back, err)
		}
		checkNext(t, date{at: tm}, tm.Unix()-1)
	})
}
