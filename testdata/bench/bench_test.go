// Package bench compares jobctl's cron triggers with github.com/robfig/cron/v3
// on the expressions of schedule.BenchmarkNext. It is a module of its own so
// that jobctl does not depend on robfig/cron; compare.sh runs it.
package bench

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/jobctl/jobctl/schedule"
)

var cases = []struct{ name, expr, zone string }{
	{"every_minute", "* * * * *", "UTC"},
	{"every_5_minutes", "*/5 * * * *", "UTC"},
	{"daily_0300", "0 3 * * *", "UTC"},
	{"weekdays_0230", "30 2 * * 1-5", "UTC"},
	{"monthly", "0 0 1 * *", "UTC"},
	{"leap_day", "0 0 29 2 *", "UTC"},
	{"office_hours", "15,45 9-17 * * mon-fri", "UTC"},
	{"13th_or_friday", "0 0 13 * 5", "UTC"},
	{"berlin_0230", "30 2 * * *", "Europe/Berlin"},
}

type nexter interface{ Next(time.Time) time.Time }

// run calls Next repeatedly from 2026-01-01, restarting when the schedule
// gives no fire time (robfig gives up on 0 0 29 2 * after 2096).
func run(b *testing.B, s nexter, loc *time.Location) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	t := start
	b.ReportAllocs()
	for b.Loop() {
		if t = s.Next(t); t.IsZero() {
			t = start
		}
	}
}

func BenchmarkNext(b *testing.B) {
	for _, c := range cases {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("jobctl/"+c.name, func(b *testing.B) {
			tr, err := schedule.ParseCrontab(c.expr, loc)
			if err != nil {
				b.Fatal(err)
			}
			run(b, tr, loc)
		})
		b.Run("robfig/"+c.name, func(b *testing.B) {
			s, err := cron.ParseStandard("CRON_TZ=" + c.zone + " " + c.expr)
			if err != nil {
				b.Fatal(err)
			}
			run(b, s, loc)
		})
	}
}

// TestSameFireTimes checks that both libraries agree on the first fire
// times, so the benchmark compares equal work.
func TestSameFireTimes(t *testing.T) {
	for _, c := range cases {
		loc, _ := time.LoadLocation(c.zone)
		ours, err := schedule.ParseCrontab(c.expr, loc)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := cron.ParseStandard("CRON_TZ=" + c.zone + " " + c.expr)
		if err != nil {
			t.Fatal(err)
		}
		a, b := time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
		for range 50 {
			a, b = ours.Next(a), theirs.Next(b)
			if b.IsZero() { // robfig gave up; jobctl goes on
				break
			}
			if !a.Equal(b) {
				t.Fatalf("%s: jobctl %v, robfig %v", c.expr, a, b)
			}
		}
	}
}
