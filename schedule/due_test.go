package schedule

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func formatPlan(p Plan) string {
	var b strings.Builder
	for _, f := range p.Fires {
		fmt.Fprintf(&b, "%s", f.Time.UTC().Format("2006-01-02T15:04:05"))
		if !f.First.Equal(f.Time) {
			fmt.Fprintf(&b, " from %s", f.First.UTC().Format("2006-01-02T15:04:05"))
		}
		if f.Coalesced > 0 {
			fmt.Fprintf(&b, " +%d", f.Coalesced)
		}
		if f.Missed {
			b.WriteString(" missed")
		}
		if f.Requested {
			b.WriteString(" requested")
		}
		b.WriteString("; ")
	}
	if p.Next.IsZero() {
		b.WriteString("next none")
	} else {
		b.WriteString("next " + p.Next.UTC().Format("2006-01-02T15:04:05"))
	}
	return b.String()
}

func TestDue(t *testing.T) {
	minutely := parseTestSpec(t, "cron * * * * *", time.UTC)
	secondly := parseTestSpec(t, "cron * * * * * *", time.UTC)
	once := parseTestSpec(t, "at 2026-06-01T10:00:00Z", time.UTC)
	const min = Grace(time.Minute)
	tests := []struct {
		name      string
		tr        Trigger
		next, now string
		coalesce  bool
		grace     Grace
		maxRuns   int
		want      string
	}{
		{"not due yet", minutely, "2026-06-01T10:00:00Z", "2026-06-01T09:59:59Z", true, min, 10,
			"next 2026-06-01T10:00:00"},
		{"on time", minutely, "2026-06-01T10:00:00Z", "2026-06-01T10:00:00Z", true, min, 10,
			"2026-06-01T10:00:00; next 2026-06-01T10:01:00"},
		{"downtime, coalesce, within grace", minutely, "2026-06-01T10:00:00Z", "2026-06-01T10:05:30Z", true, min, 10,
			"2026-06-01T10:05:00 from 2026-06-01T10:00:00 +5; next 2026-06-01T10:06:00"},
		{"downtime, coalesce, grace exceeded", minutely, "2026-06-01T10:00:00Z", "2026-06-01T10:05:30Z", true, Grace(10 * time.Second), 10,
			"2026-06-01T10:05:00 from 2026-06-01T10:00:00 +5 missed; next 2026-06-01T10:06:00"},
		{"downtime, no coalesce", minutely, "2026-06-01T10:00:00Z", "2026-06-01T10:05:30Z", false, Grace(2 * time.Minute), 10,
			"2026-06-01T10:03:00 from 2026-06-01T10:00:00 +3 missed; 2026-06-01T10:04:00; 2026-06-01T10:05:00; next 2026-06-01T10:06:00"},
		{"grace exactly reached is not late", minutely, "2026-06-01T10:00:00Z", "2026-06-01T10:01:00Z", false, min, 10,
			"2026-06-01T10:00:00; 2026-06-01T10:01:00; next 2026-06-01T10:02:00"},
		{"no grace, capped runs", minutely, "2026-06-01T10:00:00Z", "2026-06-01T10:05:30Z", false, NoGrace, 3,
			"2026-06-01T10:00:00; 2026-06-01T10:01:00; 2026-06-01T10:05:00 from 2026-06-01T10:02:00 +3; next 2026-06-01T10:06:00"},
		{"no grace, coalesce, a year", secondly, "2025-01-01T00:00:00Z", "2026-01-01T00:00:00.5Z", true, NoGrace, 10,
			fmt.Sprintf("2026-01-01T00:00:00 from 2025-01-01T00:00:00 +%d; next 2026-01-01T00:00:01", CountLimit-1)},
		{"a year of misses, then runs", secondly, "2025-01-01T00:00:00Z", "2026-01-01T00:00:00.5Z", false, min, 10,
			fmt.Sprintf("2025-12-31T23:59:00 from 2025-01-01T00:00:00 +%d missed; ", CountLimit-1) +
				"2025-12-31T23:59:01; 2025-12-31T23:59:02; 2025-12-31T23:59:03; 2025-12-31T23:59:04; 2025-12-31T23:59:05; " +
				"2025-12-31T23:59:06; 2025-12-31T23:59:07; 2025-12-31T23:59:08; 2025-12-31T23:59:09; " +
				"2026-01-01T00:00:00 from 2025-12-31T23:59:10 +50; next 2026-01-01T00:00:01"},
		{"finished", once, "2026-06-01T10:00:00Z", "2026-06-01T10:00:30Z", true, min, 10,
			"2026-06-01T10:00:00; next none"},
		{"finished, missed", once, "2026-06-01T10:00:00Z", "2026-06-02T10:00:00Z", false, min, 10,
			"2026-06-01T10:00:00 missed; next none"},
		{"no next", once, "", "2026-06-02T10:00:00Z", false, min, 10, "next none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var next time.Time
			if tt.next != "" {
				next = mustTime(t, tt.next)
			}
			now, err := time.Parse(time.RFC3339Nano, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if got := formatPlan(Due(tt.tr, next, now, tt.coalesce, tt.grace, tt.maxRuns)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLatest(t *testing.T) {
	// Sparse and dense triggers, spans beyond a Duration.
	for _, tt := range []struct{ spec, lo, x, want string }{
		{"cron 0 0 29 2 *", "2000-02-29T00:00:00Z", "2500-06-01T00:00:00Z", "2496-02-29T00:00:00Z"},
		{"cron * * * * * *", "2026-01-01T00:00:00Z", "2026-07-01T12:34:56Z", "2026-07-01T12:34:56Z"},
		{"cron 0 12 * * *", "2026-01-01T12:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T12:00:00Z"},
	} {
		tr := parseTestSpec(t, tt.spec, time.UTC)
		if got := latest(tr, mustTime(t, tt.lo), mustTime(t, tt.x)); !got.Equal(mustTime(t, tt.want)) {
			t.Errorf("%s: latest(%s, %s) = %v, want %s", tt.spec, tt.lo, tt.x, got, tt.want)
		}
	}
}

func TestWithRequest(t *testing.T) {
	hourly := parseTestSpec(t, "cron 0 * * * *", time.UTC)
	const grace = Grace(time.Minute)
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name      string
		next, now string
		coalesce  bool
		req       string
		want      string
	}{
		{"on time, between fire times", "2026-06-01T11:00:00Z", "2026-06-01T10:30:00Z", true, "2026-06-01T10:30:00Z",
			"2026-06-01T10:30:00 requested; next 2026-06-01T11:00:00"},
		{"days late: run however late", "2026-06-04T11:00:00Z", "2026-06-04T10:30:00Z", true, "2026-06-01T10:30:00Z",
			"2026-06-01T10:30:00 requested; next 2026-06-04T11:00:00"},
		{"missed fire times stay missed; the request runs", "2026-06-01T09:00:00Z", "2026-06-01T10:30:00Z", false, "2026-06-01T09:30:00Z",
			"2026-06-01T09:30:00 requested; 2026-06-01T10:00:00 from 2026-06-01T09:00:00 +1 missed; next 2026-06-01T11:00:00"},
		{"coalesce: the run made stands for the request", "2026-06-01T09:00:00Z", "2026-06-01T10:00:30Z", true, "2026-06-01T09:30:00Z",
			"2026-06-01T10:00:00 from 2026-06-01T09:00:00 +1 requested; next 2026-06-01T11:00:00"},
		{"no coalesce: in time order", "2026-06-01T10:00:00Z", "2026-06-01T10:00:30Z", false, "2026-06-01T09:30:00Z",
			"2026-06-01T09:30:00 requested; 2026-06-01T10:00:00; next 2026-06-01T11:00:00"},
		{"a fire time at the request is the request", "2026-06-01T10:00:00Z", "2026-06-01T10:00:30Z", false, "2026-06-01T10:00:00Z",
			"2026-06-01T10:00:00 requested; next 2026-06-01T11:00:00"},
		{"a missed fire time at the request is the request", "2026-06-01T10:00:00Z", "2026-06-01T10:05:00Z", false, "2026-06-01T10:00:00Z",
			"2026-06-01T10:00:00 requested; next 2026-06-01T11:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Due(hourly, at(tt.next), at(tt.now), tt.coalesce, grace, 10).WithRequest(at(tt.req), tt.coalesce)
			if got := formatPlan(p); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
