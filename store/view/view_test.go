package view

import (
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

func TestRelative(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "now"},
		{400 * time.Millisecond, "now"},
		{10*time.Minute - 3*time.Millisecond, "in 10m"},
		{4*time.Minute + 12*time.Second, "in 4m12s"},
		{-(2*time.Hour + 5*time.Minute + 30*time.Second), "2h5m ago"},
		{27*time.Hour + 59*time.Minute, "in 1d3h"},
		{9*24*time.Hour + 5*time.Hour, "in 1w2d"},
		{45 * time.Second, "in 45s"},
	} {
		if got := Relative(now.Add(tt.d), now); got != tt.want {
			t.Errorf("relative(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestNextRun(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	job := func(spec schedule.Spec, change func(*store.Job)) *store.Job {
		t.Helper()
		spec.Timezone = "UTC"
		j, err := store.NewJob("j", "true", spec, store.DefaultOptions(), t0)
		if err != nil {
			t.Fatal(err)
		}
		if change != nil {
			change(j)
		}
		return j
	}
	for _, c := range []struct {
		name  string
		j     *store.Job
		at    time.Time
		words string
	}{
		{"scheduled", job(schedule.Spec{Every: "10m"}, nil), t0.Add(10 * time.Minute), ""},
		{"paused", job(schedule.Spec{Every: "10m"}, func(j *store.Job) { j.Pause(t0) }), time.Time{}, ""},
		{"broken", job(schedule.Spec{Every: "10m"}, func(j *store.Job) { j.Broken = "bad trigger" }), time.Time{}, ""},
		{"on start, between starts", job(schedule.Spec{OnStart: "0s"}, nil), time.Time{}, "next start"},
		{"on start, paused", job(schedule.Spec{OnStart: "0s"}, func(j *store.Job) { j.Pause(t0) }), time.Time{}, ""},
		{"on start, at a start", job(schedule.Spec{OnStart: "5s"}, func(j *store.Job) { j.FireAtStart(t0) }), t0.Add(5 * time.Second), ""},
	} {
		if at, words := NextRun(c.j); !at.Equal(c.at) || words != c.words {
			t.Errorf("%s: NextRun = %v, %q; want %v, %q", c.name, at, words, c.at, c.words)
		}
	}
}
