package schedule

import (
	"strings"
	"testing"
	"time"
)

// nexts returns the first n fire times of tr after from, in RFC 3339.
func nexts(tr Trigger, from time.Time, n int) []string {
	var out []string
	for t := from; len(out) < n; {
		if t = tr.Next(t); t.IsZero() {
			break
		}
		out = append(out, t.Format(time.RFC3339))
	}
	return out
}

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestDST pins the DST rule in four zones, both directions: a skipped wall
// time fires when the gap ends, a repeated one at its first occurrence, and
// a trigger matching every hour fires in elapsed time.
func TestDST(t *testing.T) {
	tests := []struct {
		zone, spec, after string
		want              []string
	}{
		// America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
		{"America/New_York", "cron 30 2 * * *", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
		{"America/New_York", "cron 30 1 * * *", "2026-10-31T12:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"America/New_York", "cron 30 1 * * *", "2026-11-01T01:10:00-05:00", // in the second 01:xx
			[]string{"2026-11-02T01:30:00-05:00"}},
		{"America/New_York", "cron 30 * * * *", "2026-11-01T00:00:00-04:00",
			[]string{"2026-11-01T00:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:30:00-05:00"}},
		{"America/New_York", "cron 30 * * * *", "2026-03-08T00:00:00-05:00",
			[]string{"2026-03-08T00:30:00-05:00", "2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"}},
		{"America/New_York", "hour=2 minute=30", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
		{"America/New_York", "minute=*/30", "2026-11-01T01:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"}},
		{"America/New_York", "at 2026-03-08 02:30", "2026-03-01T00:00:00Z", []string{"2026-03-08T03:00:00-04:00"}},
		{"America/New_York", "at 2026-11-01 01:30", "2026-10-01T00:00:00Z", []string{"2026-11-01T01:30:00-04:00"}},

		// Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
		{"Europe/Berlin", "cron 30 2 * * *", "2026-03-28T12:00:00+01:00",
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}},
		{"Europe/Berlin", "cron 0,30 2 * * *", "2026-03-28T12:00:00+01:00", // both skipped: one run
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"}},
		{"Europe/Berlin", "cron 15 30 2 * * *", "2026-10-24T12:00:00+02:00",
			[]string{"2026-10-25T02:30:15+02:00", "2026-10-26T02:30:15+01:00"}},
		{"Europe/Berlin", "cron */30 * * * *", "2026-10-25T01:45:00+02:00",
			[]string{"2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"}},
		{"Europe/Berlin", "hour=0", "2026-03-28T12:00:00+01:00",
			[]string{"2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"}},
		{"Europe/Berlin", "at 2026-10-25T02:30", "2026-10-01T00:00:00Z", []string{"2026-10-25T02:30:00+02:00"}},

		// Australia/Lord_Howe: 2026-04-05 02:00 +11 -> 01:30 +10:30; 2026-10-04 02:00 +10:30 -> 02:30 +11.
		{"Australia/Lord_Howe", "cron 45 1 * * *", "2026-04-04T12:00:00+11:00",
			[]string{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}},
		{"Australia/Lord_Howe", "cron 45 1 * * *", "2026-04-05T01:35:00+10:30",
			[]string{"2026-04-06T01:45:00+10:30"}},
		{"Australia/Lord_Howe", "cron */15 * * * *", "2026-04-05T01:15:00+11:00",
			[]string{"2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30", "2026-04-05T01:45:00+10:30", "2026-04-05T02:00:00+10:30"}},
		{"Australia/Lord_Howe", "cron 15 2 * * *", "2026-10-03T12:00:00+10:30",
			[]string{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}},
		{"Australia/Lord_Howe", "cron */15 * * * *", "2026-10-04T01:40:00+10:30",
			[]string{"2026-10-04T01:45:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"}},
		{"Australia/Lord_Howe", "day_of_week=sun hour=2 minute=15", "2026-10-01T00:00:00+10:30",
			[]string{"2026-10-04T02:30:00+11:00", "2026-10-11T02:15:00+11:00"}},
		{"Australia/Lord_Howe", "at 2026-10-04 02:15", "2026-10-01T00:00:00Z", []string{"2026-10-04T02:30:00+11:00"}},

		// Pacific/Chatham: 2026-04-05 03:45 +13:45 -> 02:45 +12:45; 2026-09-27 02:45 +12:45 -> 03:45 +13:45.
		{"Pacific/Chatham", "cron 0 3 * * *", "2026-09-26T12:00:00+12:45",
			[]string{"2026-09-27T03:45:00+13:45", "2026-09-28T03:00:00+13:45"}},
		{"Pacific/Chatham", "cron 0 3 * * *", "2026-04-04T12:00:00+13:45",
			[]string{"2026-04-05T03:00:00+13:45", "2026-04-06T03:00:00+12:45"}},
		{"Pacific/Chatham", "cron 0 3 * * *", "2026-04-05T02:50:00+12:45",
			[]string{"2026-04-06T03:00:00+12:45"}},
		{"Pacific/Chatham", "cron 0 * * * *", "2026-04-05T02:30:00+13:45",
			[]string{"2026-04-05T03:00:00+13:45", "2026-04-05T03:00:00+12:45", "2026-04-05T04:00:00+12:45"}},
		{"Pacific/Chatham", "cron 0 * * * *", "2026-09-27T01:30:00+12:45",
			[]string{"2026-09-27T02:00:00+12:45", "2026-09-27T04:00:00+13:45"}},
		{"Pacific/Chatham", "hour=3 minute=15", "2026-09-26T12:00:00+12:45",
			[]string{"2026-09-27T03:45:00+13:45", "2026-09-28T03:15:00+13:45"}},
		{"Pacific/Chatham", "at 2026-04-05 03:15", "2026-04-01T00:00:00Z", []string{"2026-04-05T03:15:00+13:45"}},
	}
	for _, tt := range tests {
		t.Run(tt.zone+"/"+tt.spec+"/"+tt.after, func(t *testing.T) {
			loc := mustLoad(t, tt.zone)
			tr := parseTestSpec(t, tt.spec, loc)
			got := nexts(tr, mustTime(t, tt.after), len(tt.want))
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

// parseTestSpec reads a compact spec: "cron EXPR", "at TIME", "every D", or
// keyword fields "hour=2 minute=30 day=last_fri" (_ for a space).
func parseTestSpec(t testing.TB, s string, loc *time.Location) Trigger {
	t.Helper()
	var spec Spec
	kind, rest, _ := strings.Cut(s, " ")
	switch kind {
	case "cron":
		spec.Cron = rest
	case "at":
		spec.At = rest
	case "every":
		spec.Every = rest
	default:
		f := &Fields{}
		for kv := range strings.FieldsSeq(s) {
			k, v, _ := strings.Cut(kv, "=")
			*map[string]*string{"year": &f.Year, "month": &f.Month, "day": &f.Day, "week": &f.Week,
				"day_of_week": &f.DayOfWeek, "hour": &f.Hour, "minute": &f.Minute, "second": &f.Second}[k] = strings.ReplaceAll(v, "_", " ")
		}
		spec.Fields = f
	}
	tr, err := spec.Parse(loc, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestLeapYearEnd covers December 31 of leap years after 2037, where Go's
// zone segments end a day early (see segmentAt).
func TestLeapYearEnd(t *testing.T) {
	loc := mustLoad(t, "Europe/Berlin")
	for _, tt := range []struct{ spec, after, want string }{
		{"cron 0 * * * *", "2040-12-31T00:30:00+01:00", "2040-12-31T01:00:00+01:00"},
		{"cron 30 12 31 12 *", "2040-12-31T00:00:00Z", "2040-12-31T12:30:00+01:00"},
		{"cron 0 0 1 1 *", "2040-12-31T00:00:00Z", "2041-01-01T00:00:00+01:00"},
	} {
		got := nexts(parseTestSpec(t, tt.spec, loc), mustTime(t, tt.after), 1)
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s after %s: got %v, want %s", tt.spec, tt.after, got, tt.want)
		}
	}
}

// TestDistantMatch covers matches decades away in a zone with DST, for a
// trigger matching every hour, which walks the zone's segments.
func TestDistantMatch(t *testing.T) {
	loc := mustLoad(t, "Europe/Berlin")
	for _, tt := range []struct{ spec, after, want string }{
		{"year=9999 month=12 day=31 minute=0", "2026-01-01T00:00:00Z", "9999-12-31T00:00:00+01:00"},
		{"month=2 day=29 day_of_week=mon minute=0", "2026-01-01T00:00:00Z", "2044-02-29T00:00:00+01:00"},
		{"cron 0 * 29 2 1", "2026-01-01T00:00:00Z", "2026-02-02T00:00:00+01:00"}, // OR: or any Monday of February
		{"cron 0 * 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00+01:00"},
	} {
		got := nexts(parseTestSpec(t, tt.spec, loc), mustTime(t, tt.after), 1)
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s after %s: got %v, want %s", tt.spec, tt.after, got, tt.want)
		}
	}
	tr := parseTestSpec(t, "year=9999 month=12 day=31 hour=23 minute=59 second=59", mustLoad(t, "America/New_York"))
	if got := tr.Next(mustTime(t, "9999-12-31T00:00:00Z")); !got.IsZero() {
		t.Errorf("past year 9999 in UTC: got %v, want none", got)
	}
}
