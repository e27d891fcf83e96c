package schedule

import (
	"testing"
	"time"
)

// BenchCases are the expressions of BenchmarkNext; testdata/bench runs the
// same against github.com/robfig/cron/v3.
var benchCases = []struct{ name, expr, zone string }{
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

// BenchmarkNext measures one Next call, following a trigger's fire times
// from 2026-01-01.
func BenchmarkNext(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			loc := mustLoad(b, bc.zone)
			tr, err := ParseCrontab(bc.expr, loc)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
			t := start
			b.ReportAllocs()
			for b.Loop() {
				if t = tr.Next(t); t.IsZero() {
					t = start
				}
			}
		})
	}
}

func BenchmarkParseCrontab(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCrontab("15,45 9-17 * * mon-fri", time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDueYearOfSeconds(b *testing.B) {
	tr, _ := ParseCrontab("* * * * * *", time.UTC)
	next := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := next.AddDate(1, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		Due(tr, next, now, false, Grace(time.Minute), 10)
	}
}
