package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestCronNext(t *testing.T) {
	tests := []struct {
		spec, zone, after string
		want              []string
	}{
		{"cron 0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", // robfig gives up here; across 2100 (no leap day)
			[]string{"2104-02-29T00:00:00Z", "2108-02-29T00:00:00Z"}},
		{"cron 0 0 13 * 5", "UTC", "2026-02-01T00:00:00Z", // the 13th OR a Friday
			[]string{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z"}},
		{"cron 0 0 */2 * 1", "UTC", "2026-05-31T00:00:00Z", // * first in day-of-month: AND (Vixie)
			[]string{"2026-06-01T00:00:00Z", "2026-06-15T00:00:00Z", "2026-06-29T00:00:00Z"}},
		{"cron 0 0 1-31 * 1", "UTC", "2026-06-01T12:00:00Z", // 1-31 is restricted: OR
			[]string{"2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z"}},
		{"cron 0 12 * * mon-sun", "UTC", "2026-06-01T12:00:00Z",
			[]string{"2026-06-02T12:00:00Z"}},
		{"cron 0 12 * * 7", "UTC", "2026-06-01T00:00:00Z", []string{"2026-06-07T12:00:00Z"}},
		{"cron 30 8 1 * sun-sun", "UTC", "2030-06-13T00:00:00Z", // the 1st OR a Sunday
			[]string{"2030-06-16T08:30:00Z", "2030-06-23T08:30:00Z", "2030-06-30T08:30:00Z",
				"2030-07-01T08:30:00Z", "2030-07-07T08:30:00Z"}},
		{"cron 59 59 23 31 12 *", "UTC", "2026-12-31T23:59:59Z", []string{"2027-12-31T23:59:59Z"}},
		{"cron @weekly", "UTC", "2026-06-01T00:00:00Z", []string{"2026-06-07T00:00:00Z"}},
		{"cron 30/15 * * * *", "UTC", "2026-06-01T00:00:00Z",
			[]string{"2026-06-01T00:30:00Z", "2026-06-01T00:45:00Z", "2026-06-01T01:30:00Z"}},
		{"cron 0 0 31 * *", "Asia/Kolkata", "2026-04-01T00:00:00+05:30",
			[]string{"2026-05-31T00:00:00+05:30", "2026-07-31T00:00:00+05:30"}},
		{"day=last hour=23 minute=59 second=59", "UTC", "2028-01-31T23:59:59Z",
			[]string{"2028-02-29T23:59:59Z", "2028-03-31T23:59:59Z"}},
		{"day=5th_fri hour=8", "UTC", "2026-01-01T00:00:00Z",
			[]string{"2026-01-30T08:00:00Z", "2026-05-29T08:00:00Z"}},
		{"month=11 day=4th_thu hour=12", "UTC", "2026-01-01T00:00:00Z",
			[]string{"2026-11-26T12:00:00Z", "2027-11-25T12:00:00Z"}},
		{"day=1 minute=5", "UTC", "2026-06-01T00:00:00Z", // hour stays * (defaults rule)
			[]string{"2026-06-01T00:05:00Z", "2026-06-01T01:05:00Z"}},
		{"week=*/2 day_of_week=mon", "UTC", "2026-12-20T00:00:00Z", // weeks 53 and 1 are both odd
			[]string{"2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z", "2027-01-18T00:00:00Z"}},
		{"year=2025 week=1", "UTC", "2025-12-30T00:00:00Z", // calendar year 2025, ISO week 1 of 2026
			[]string{"2025-12-31T00:00:00Z"}},
		{"year=2026 month=12 day=31", "UTC", "2026-06-01T00:00:00Z", []string{"2026-12-31T00:00:00Z"}},
		{"year=9999 month=12 day=31 hour=23 minute=59 second=59", "UTC", "2026-01-01T00:00:00Z",
			[]string{"9999-12-31T23:59:59Z"}},
		{"day_of_week=6", "UTC", "2026-06-01T00:00:00Z", []string{"2026-06-07T00:00:00Z"}}, // 6 = Sunday
		{"every 1h30m", "UTC", "2026-06-01T00:00:00Z", // no start: one interval after the reference
			[]string{"1970-01-01T01:30:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec+"/"+tt.after, func(t *testing.T) {
			tr := parseTestSpec(t, tt.spec, mustLoad(t, tt.zone))
			from := mustTime(t, tt.after)
			if strings.HasPrefix(tt.spec, "every") {
				from = time.Unix(0, 0)
			}
			got := nexts(tr, from, len(tt.want))
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestCrontabSunday pins the day-of-week ranges that involve Sunday, which
// is both 0 and 7, to what cronie and croniter make of them: a range that
// ends at Sunday after a later start runs to 7, any other keeps 0.
func TestCrontabSunday(t *testing.T) {
	all := "sun mon tue wed thu fri sat"
	for _, tt := range []struct{ dow, want string }{
		{"sun-sun", "sun"},
		{"0-0", "sun"},
		{"7-7", "sun"},
		{"7-sun", "sun"},
		{"sun-0", "sun"},
		{"sun-7", all},
		{"0-7", all},
		{"sun-sat", all},
		{"mon-sun", all},
		{"1-0", all},
		{"sat-sun", "sun sat"},
		{"fri-0", "sun fri sat"},
		{"mon-sun/2", "sun mon wed fri"},
		// A step over one day names that day, as in cron.
		{"sun-sun/6", "sun"},
		{"sat-sat/3", "sat"},
		{"sun-sat/2", "sun tue thu sat"},
	} {
		t.Run(tt.dow, func(t *testing.T) {
			tr := parseTestSpec(t, "cron 0 0 * * "+tt.dow, time.UTC)
			var days [7]bool
			// Two weeks from a Thursday: every weekday twice.
			for at := mustTime(t, "2030-06-13T00:00:00Z"); at.Before(mustTime(t, "2030-06-27T00:00:00Z")); at = at.Add(24 * time.Hour) {
				if tr.Next(at.Add(-time.Second)).Equal(at) {
					days[at.Weekday()] = true
				}
			}
			var got []string
			for wd, ok := range days {
				if ok {
					got = append(got, strings.ToLower(time.Weekday(wd).String()[:3]))
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("fires on %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCronEnds(t *testing.T) {
	tr := parseTestSpec(t, "year=2026 month=12 day=31", time.UTC)
	if got := tr.Next(mustTime(t, "2026-12-31T00:00:00Z")); !got.IsZero() {
		t.Errorf("after the last year: got %v, want none", got)
	}
	tr = parseTestSpec(t, "cron * * * * *", time.UTC)
	if got := tr.Next(mustTime(t, "9999-12-31T23:59:00Z")); !got.IsZero() {
		t.Errorf("after 9999: got %v, want none", got)
	}
	if got := tr.Next(time.Time{}.Add(-time.Hour)); got.Year() != 1 {
		t.Errorf("before year 1: got %v, want the first minute of year 1", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		spec Spec
		want string
	}{
		{Spec{Cron: "61 * * * *"}, "cron: minute field: 61 is out of range 0-59"},
		{Spec{Cron: "* 24 * * *"}, "cron: hour field: 24 is out of range 0-23"},
		{Spec{Cron: "* * 0 * *"}, "cron: day-of-month field: 0 is out of range 1-31"},
		{Spec{Cron: "* * * 13 *"}, "cron: month field: 13 is out of range 1-12"},
		{Spec{Cron: "* * * * 8"}, "cron: day-of-week field: 8 is out of range 0-7"},
		{Spec{Cron: "* * * foo *"}, `cron: month field: "foo" is not a valid value (want 1-12 or jan-dec)`},
		{Spec{Cron: "*/0 * * * *"}, `cron: minute field: step "0" in "*/0" is not a whole number of at least 1`},
		{Spec{Cron: "*/60 * * * *"}, `cron: minute field: step 60 in "*/60" is larger than its range 0-59`},
		{Spec{Cron: "30-10 * * * *"}, `cron: minute field: range "30-10" runs backwards (30 > 10)`},
		{Spec{Cron: "* * * * mon-wed/6"}, `cron: day-of-week field: step 6 in "mon-wed/6" is larger than its range 1-3`},
		{Spec{Cron: "* * * * 2-1"}, `cron: day-of-week field: range "2-1" runs backwards (2 > 1)`},
		{Spec{Cron: "1,,2 * * * *"}, "cron: minute field: missing value (want 0-59)"},
		{Spec{Cron: "* * * *"}, `cron: "* * * *" has 4 fields, want 5`},
		{Spec{Cron: "@reboot"}, `cron: unknown macro "@reboot"`},
		{Spec{Cron: "0 0 30 feb *"}, `cron: "0 0 30 feb *" never fires`},
		{Spec{Cron: "0 0 31 4,6,9,11 *"}, "never fires"},
		{Spec{Fields: &Fields{DayOfWeek: "7"}}, "cron fields: day-of-week field: 7 is out of range 0-6"},
		{Spec{Fields: &Fields{Year: "1969"}}, "cron fields: year field: 1969 is out of range 1970-9999"},
		{Spec{Fields: &Fields{Day: "6th fri"}}, `cron fields: day field: "6th fri" is not a valid value`},
		{Spec{Fields: &Fields{Month: "2", Day: "30"}}, "never fires"},
		{Spec{Fields: &Fields{}}, "cron fields: no field given"},
		{Spec{Every: "5"}, `every: duration "5": "5" is not a number with a unit`},
		{Spec{Every: "0s"}, "every: 0s is not a positive duration"},
		{Spec{Every: "1ns"}, "every: 1ns is shorter than the shortest interval, 1s"},
		{Spec{Every: "999ms"}, "every: 999ms is shorter than the shortest interval, 1s"},
		{Spec{At: "2026-02-30"}, "at: time \"2026-02-30\": day 30 is out of range 1-28 for 2026-02"},
		{Spec{At: "tomorrow"}, `at: time "tomorrow": date "tomorrow" is not YYYY-MM-DD`},
		{Spec{Cron: "* * * * *", Timezone: "Mars/Base"}, `time zone "Mars/Base": unknown`},
		{Spec{Cron: "* * * * *", Start: "2026-13-01"}, "start: time \"2026-13-01\": month 13 is out of range 1-12"},
		{Spec{Cron: "* * * * *", Start: "2026-02-01", End: "2026-01-01"}, "end 2026-01-01 is before start 2026-02-01"},
		{Spec{}, "no trigger"},
		{Spec{Cron: "* * * * *", Every: "1m"}, "several triggers (cron, every) in one"},
		{Spec{Any: []Spec{}}, "any: empty list of triggers"},
		{Spec{Any: []Spec{{Cron: "* * * * *"}, {Every: "x"}}}, "any[1]: every: "},
	}
	for _, tt := range tests {
		_, err := tt.spec.Parse(time.UTC, time.Now())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got error %v, want one containing %q", tt.spec, err, tt.want)
		}
		if tt.spec.Validate() == nil {
			t.Errorf("%s: Validate passed", tt.spec)
		}
	}
}

func TestSpecInheritance(t *testing.T) {
	// --start applies to each trigger and anchors each interval.
	s := Spec{Any: []Spec{{Every: "2h"}, {Cron: "0 12 * * *", Timezone: "Asia/Tokyo"}},
		Start: "2026-06-01 09:30", End: "2026-06-01T13:00:00Z", Timezone: "Europe/Berlin"}
	tr, err := s.Parse(time.UTC, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	got := nexts(tr, mustTime(t, "2026-01-01T00:00:00Z"), 10)
	// The cron child reads the inherited start in its own zone (09:30 in
	// Tokyo); the Tokyo noon of 2026-06-02 is 03:00Z, after End.
	want := []string{"2026-06-01T12:00:00+09:00", "2026-06-01T09:30:00+02:00", "2026-06-01T11:30:00+02:00",
		"2026-06-01T13:30:00+02:00"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if s.String() != `any(every 2h; cron 0 12 * * * tz=Asia/Tokyo) tz=Europe/Berlin start="2026-06-01 09:30" end=2026-06-01T13:00:00Z` {
		t.Errorf("String() = %s", s)
	}
}

func TestAllNeverAgree(t *testing.T) {
	// APScheduler 3's AndTrigger loops forever here; ours gives up.
	s := Spec{All: []Spec{{Cron: "0 0 * * *"}, {Cron: "30 0 * * *"}}}
	tr, err := s.Parse(time.UTC, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Next(mustTime(t, "2026-01-01T00:00:00Z")); !got.IsZero() {
		t.Errorf("got %v, want none", got)
	}
}

func TestIntervalFar(t *testing.T) {
	// 5000 years of 1s intervals overflow a Duration in nanoseconds.
	iv := interval{start: mustTime(t, "2000-01-01T00:00:00.5Z"), every: time.Second}
	got := iv.Next(mustTime(t, "7000-06-01T12:00:00Z"))
	if want := mustTime(t, "7000-06-01T12:00:00.5Z"); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	big := interval{start: mustTime(t, "2000-01-01T00:00:00Z"), every: time.Duration(1<<63 - 1)}
	if got := big.Next(mustTime(t, "9900-01-01T00:00:00Z")); !got.IsZero() {
		t.Errorf("past 9999: got %v, want none", got)
	}
	// A start with nanoseconds, t with fewer: the difference borrows.
	iv = interval{start: mustTime(t, "2026-01-01T00:00:00.9Z"), every: time.Minute}
	if got, want := iv.Next(mustTime(t, "2026-01-01T00:01:00.1Z")), mustTime(t, "2026-01-01T00:01:00.9Z"); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"90s", 90 * time.Second, "1m30s"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"2d", 48 * time.Hour, "2d"},
		{"1w2d", 9 * 24 * time.Hour, "1w2d"},
		{"1.5d", 36 * time.Hour, "1d12h"},
		{"3d12h", 84 * time.Hour, "3d12h"},
		{"1500ms", 1500 * time.Millisecond, "1.5s"},
		{"250ms", 250 * time.Millisecond, "250ms"},
		{"0", 0, "0s"},
		{"-1h", -time.Hour, "-1h"},
		{"1m0.25s", time.Minute + 250*time.Millisecond, "1m0.25s"},
	} {
		got, err := ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if s := FormatDuration(tt.want); s != tt.out {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.want, s, tt.out)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"", "duration: empty"},
		{"5", `duration "5": "5" is not a number with a unit`},
		{"1x", `"1x" is not a number with a unit`},
		{"h", `"h" is not a number with a unit`},
		{"1h30", `"30" is not a number with a unit`},
		{"--1s", `"-" is not a number with a unit`},
		{"1.2.3s", `"1.2.3s" is not a number with a unit`},
		{".s", `".s" is not a number with a unit`},
		// Numbers too large for a Duration say so, with the limit.
		{"2562048h", `duration "2562048h": too long (at most 15250w1d23h47m16s, about 292 years)`},
		{"100000w", `duration "100000w": too long (at most 15250w1d23h47m16s`},
		{"106752d", `duration "106752d": too long`},
		{"99999999999999999999ns", `too long`},
		{"2562047h1h", `duration "2562047h1h": too long`},
	} {
		if _, err := ParseDuration(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseDuration(%q): got %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
	if d, err := ParseDuration("15250w1d23h47m16s"); err != nil || d != maxDuration.Truncate(time.Second) {
		t.Errorf("the limit the error names: %v, %v", d, err)
	}
}

func TestParseTime(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	ref := mustTime(t, "2026-05-05T05:05:05Z")
	for _, tt := range []struct{ in, want string }{
		{"2026-03-29T02:30:00+05:00", "2026-03-29T02:30:00+05:00"},
		{"2026-06-01", "2026-06-01T00:00:00+02:00"},
		{"2026-06-01 08:15", "2026-06-01T08:15:00+02:00"},
		{"2026-06-01T08:15:30", "2026-06-01T08:15:30+02:00"},
		{"2026-03-29 02:30", "2026-03-29T03:00:00+02:00"}, // skipped: the gap's end
		{"2026-10-25 02:30", "2026-10-25T02:30:00+02:00"}, // repeated: the first
		{"now", "2026-05-05T05:05:05Z"},
	} {
		got, err := ParseTime(tt.in, berlin, ref)
		if err != nil || !got.Equal(mustTime(t, tt.want)) {
			t.Errorf("ParseTime(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"2026-06-01 25:00", "hour 25 is out of range 0-23"},
		{"2026-06-01 08:60", "minute 60 is out of range 0-59"},
		{"2026-6-1", `date "2026-6-1" is not YYYY-MM-DD`},
		{"2026-06-01 8", `time of day "8" is not HH:MM[:SS]`},
		{"0000-01-01", "year 0 is out of range 1-9999"},
		{"2026-12-01T10:00:00+25:00", `time "2026-12-01T10:00:00+25:00": offset +25:00 is out of range (want -23:59 to +23:59)`},
		{"2026-12-01T10:00:00-24:00", "offset -24:00 is out of range"},
		{"2026-12-01T10:00:00+01:60", "offset +01:60 is out of range"},
	} {
		if _, err := ParseTime(tt.in, berlin, ref); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseTime(%q): got %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestLoadLocation(t *testing.T) {
	if loc, err := LoadLocation("Europe/Berlin"); err != nil || loc.String() != "Europe/Berlin" {
		t.Errorf("got %v, %v", loc, err)
	}
	if loc, _ := LoadLocation("local"); loc != time.Local {
		t.Errorf("local: got %v", loc)
	}
	for _, bad := range []string{"", "Europe/Berln", "../../etc/passwd"} {
		if _, err := LoadLocation(bad); err == nil {
			t.Errorf("LoadLocation(%q): no error", bad)
		}
	}
}

func TestExpandMacro(t *testing.T) {
	for expr, want := range map[string]string{
		"@daily": "0 0 * * *", " @Yearly ": "0 0 1 1 *", "@weekly": "0 0 * * 0", "@hourly": "0 * * * *",
	} {
		if got, ok := ExpandMacro(expr); !ok || got != want {
			t.Errorf("ExpandMacro(%q) = %q, %v; want %q", expr, got, ok, want)
		}
	}
	for _, expr := range []string{"@reboot", "0 0 * * *", ""} {
		if got, ok := ExpandMacro(expr); ok {
			t.Errorf("ExpandMacro(%q) = %q, want none", expr, got)
		}
	}
}
