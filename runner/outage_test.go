package runner

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// TestPreviewOutage: the preview of a window agrees with what TestDowntime
// pins the scheduler to do after the same downtime.
func TestPreviewOutage(t *testing.T) {
	from, to := t0.Add(-30*time.Second), t0.Add(5*time.Minute+30*time.Second)
	for _, tt := range []struct {
		name     string
		coalesce bool
		grace    schedule.Grace
		want     string // the restart's fires: "time outcome +coalesced"
	}{
		{"coalesce", true, schedule.Grace(time.Minute), "10:05:00 run +5"},
		{"coalesce, grace exceeded", true, schedule.Grace(10 * time.Second), "10:05:00 missed +5"},
		{"no coalesce", false, schedule.Grace(2 * time.Minute), "10:03:00 missed +3, 10:04:00 run, 10:05:00 run"},
		{"no coalesce, no grace", false, schedule.NoGrace,
			"10:00:00 run, 10:01:00 run, 10:02:00 run, 10:03:00 run, 10:04:00 run, 10:05:00 run"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := job("a", cron("* * * * *"))
			j.State, j.Options.Coalesce, j.Options.MisfireGrace = store.Active, tt.coalesce, tt.grace
			out, err := PreviewOutage(j, from, to)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range out.Plan.Fires {
				s := f.Time.UTC().Format(time.TimeOnly) + " run"
				if f.Missed {
					s = f.Time.UTC().Format(time.TimeOnly) + " missed"
				}
				if f.Coalesced > 0 {
					s += fmt.Sprintf(" +%d", f.Coalesced)
				}
				got = append(got, s)
			}
			if strings.Join(got, ", ") != tt.want {
				t.Errorf("at the restart: %s\nwant: %s", strings.Join(got, ", "), tt.want)
			}
			if out.Fires != 6 || out.AtLeast || !out.First.Equal(t0) || !out.Last.Equal(t0.Add(5*time.Minute)) {
				t.Errorf("window: %d fire times (at least: %v) from %v to %v; want 6 from 10:00 to 10:05", out.Fires, out.AtLeast, out.First, out.Last)
			}
			if !out.Plan.Next.Equal(t0.Add(6 * time.Minute)) {
				t.Errorf("next %v, want 10:06", out.Plan.Next)
			}
		})
	}
}

func TestPreviewOutageKinds(t *testing.T) {
	from, to := t0, t0.Add(time.Hour)
	boot := job("boot", schedule.Spec{OnStart: "30s"})
	boot.State = store.Active
	out, err := PreviewOutage(boot, from, to)
	if err != nil || !out.AtStart.Equal(to.Add(30*time.Second)) || out.Fires != 0 || len(out.Plan.Fires) != 0 {
		t.Errorf("on-start job: %+v, %v; want it to fire at the restart plus 30s", out, err)
	}
	// A window with no fire time: nothing at the restart.
	daily := job("daily", cron("0 3 * * *"))
	daily.State = store.Active
	if out, err := PreviewOutage(daily, from, to); err != nil || out.Fires != 0 || len(out.Plan.Fires) != 0 || !out.Plan.Next.Equal(time.Date(2026, 6, 2, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("a window with no fire time: %+v, %v", out, err)
	}
	// A long window counts at most CountLimit per stretch: "at least".
	sec := job("sec", schedule.Spec{Every: "1s", Start: t0.Format(time.RFC3339)})
	sec.State = store.Active
	if out, err := PreviewOutage(sec, from, to); err != nil || !out.AtLeast || out.Fires != schedule.CountLimit {
		t.Errorf("every second for an hour: %d fire times, at least %v, %v", out.Fires, out.AtLeast, err)
	}
	paused := job("p", cron("* * * * *"))
	paused.State = store.Paused
	if _, err := PreviewOutage(paused, from, to); !errors.Is(err, ErrNotActive) {
		t.Errorf("paused job: %v, want ErrNotActive", err)
	}
}

// TestPreviewOutagePolicies: the restart's run policies, as the planner
// applies them: a pending retry runs first and holds the instance, so the
// window's run is skipped (overlap skip) or waits (buffer_one); a fire
// time that waited before the outage is late by the restart.
func TestPreviewOutagePolicies(t *testing.T) {
	from, to := t0.Add(-30*time.Second), t0.Add(5*time.Minute+30*time.Second)
	describe := func(out Outage) string {
		var got []string
		for _, d := range out.Restart {
			s := fmt.Sprintf("%s %s", d.Run.FireTime.UTC().Format(time.TimeOnly), d.Run.Outcome)
			if d.Instance > 0 {
				s = fmt.Sprintf("%s run in %d", d.Run.FireTime.UTC().Format(time.TimeOnly), d.Instance)
			}
			if d.Run.Attempt > 1 {
				s += fmt.Sprintf(" attempt %d", d.Run.Attempt)
			}
			got = append(got, s)
		}
		for _, w := range out.Waiting {
			got = append(got, w.FireTime.UTC().Format(time.TimeOnly)+" waits")
		}
		return strings.Join(got, ", ")
	}
	for _, tt := range []struct {
		name    string
		set     func(*store.Job)
		want    string
		reason0 string
	}{
		{"retry, skip", func(j *store.Job) {
			j.Retry = &store.PendingRetry{FireTime: t0.Add(-time.Minute), Attempt: 2, At: t0.Add(time.Minute), After: 1}
		}, "09:59:00 run in 1 attempt 2, 10:05:00 skipped", ""},
		{"retry, buffer_one", func(j *store.Job) {
			j.Retry = &store.PendingRetry{FireTime: t0.Add(-time.Minute), Attempt: 2, At: t0.Add(time.Minute), After: 1}
			j.Options.Overlap = store.OverlapBufferOne
		}, "09:59:00 run in 1 attempt 2, 10:05:00 waits", ""},
		{"a fire time that waited", func(j *store.Job) {
			j.Buffered = []store.Waiting{{FireTime: t0.Add(-time.Minute), Since: t0.Add(-time.Minute)}}
			j.Options.Overlap = store.OverlapBufferOne
		}, "09:59:00 missed, 10:05:00 run in 1",
			"waited for an instance to end (overlap buffer_one), then was late by 6m30s, more than the misfire grace of 1m0s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := job("a", cron("* * * * *"))
			j.State = store.Active
			tt.set(j)
			out, err := PreviewOutage(j, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(out); got != tt.want {
				t.Errorf("at the restart: %s\nwant: %s", got, tt.want)
			}
			if tt.reason0 != "" && out.Restart[0].Run.Reason != tt.reason0 {
				t.Errorf("reason %q, want %q", out.Restart[0].Run.Reason, tt.reason0)
			}
			if out.Fires != 6 {
				t.Errorf("%d fire times in the window, want 6", out.Fires)
			}
		})
	}
}
