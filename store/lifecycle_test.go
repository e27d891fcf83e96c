package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
)

func TestNewJob(t *testing.T) {
	t.Setenv("TZ", "Europe/Berlin")
	now := time.Date(2026, 3, 1, 10, 0, 0, 500, time.UTC)
	want := DefaultOptions()
	want.Timeout = time.Minute
	j, err := NewJob("tick", "date", schedule.Spec{Every: "1h"}, want, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j.Options, want) {
		t.Errorf("options %+v, want the defaults with the timeout: %+v", j.Options, want)
	}
	if j.Trigger.Timezone != "Europe/Berlin" {
		t.Errorf("zone %q, want the local zone by name", j.Trigger.Timezone)
	}
	if j.State != Active || !j.Anchor.Equal(now) || !j.Created.Equal(now) || !j.NextRun.Equal(now.Add(time.Hour)) {
		t.Errorf("state %s, anchor %v, created %v, next run %v; want active, anchored and created at %v, next run an hour later", j.State, j.Anchor, j.Created, j.NextRun, now)
	}

	j, err = NewJob("once", "date", schedule.Spec{At: "2026-01-01T00:00:00Z", Timezone: "UTC"}, DefaultOptions(), now)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != Finished || !j.NextRun.IsZero() || j.Trigger.Timezone != "UTC" {
		t.Errorf("a date in the past: state %s, next run %v, zone %q; want finished, none, the zone given", j.State, j.NextRun, j.Trigger.Timezone)
	}

	for _, c := range []struct {
		id      string
		trigger schedule.Spec
		opts    Options
	}{
		{"bad", schedule.Spec{Cron: "61 * * * *"}, DefaultOptions()},
		{"", schedule.Spec{Every: "1h"}, DefaultOptions()},
		{"zero", schedule.Spec{Every: "1h"}, Options{}},
		{"zone", schedule.Spec{Every: "1h", Timezone: "Mars/Olympus"}, DefaultOptions()},
	} {
		if _, err := NewJob(c.id, "date", c.trigger, c.opts, now); err == nil {
			t.Errorf("NewJob(%q, %v, %+v): no error", c.id, c.trigger, c.opts)
		}
	}
}

// TestLife: a job's life from the CLI's point of view, pinned where the
// rules meet: a requested run, pausing, resuming and a finished trigger.
func TestLife(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	j, err := NewJob("hourly", "date", schedule.Spec{Cron: "0 * * * *", Timezone: "UTC"}, DefaultOptions(), now)
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2026, 3, 1, h, m, 0, 0, time.UTC) }
	want := func(step string, state State, next, requested time.Time) {
		t.Helper()
		if j.State != state || !j.NextRun.Equal(next) || !j.Requested.Equal(requested) {
			t.Errorf("%s: state %s, next run %v, requested %v; want %s, %v, %v", step, j.State, j.NextRun, j.Requested, state, next, requested)
		}
	}
	want("new", Active, at(11, 0), time.Time{})

	// A run asked for now comes before the trigger's next fire time; asked
	// again, the first request stands.
	if err := j.RunNow(at(10, 5)); err != nil {
		t.Fatal(err)
	}
	if err := j.RunNow(at(10, 6)); err != nil {
		t.Fatal(err)
	}
	want("run-now", Active, at(10, 5), at(10, 5))

	// Pausing drops the request; a paused job cannot be run; resuming
	// follows the trigger from then on, keeping the anchor.
	j.Pause(at(10, 6))
	want("paused", Paused, time.Time{}, time.Time{})
	if err := j.RunNow(at(10, 7)); err == nil {
		t.Error("run-now of a paused job: no error")
	}
	j.State = Active
	if err := j.Resume(at(11, 30)); err != nil {
		t.Fatal(err)
	}
	want("resumed", Active, at(12, 0), time.Time{})
	if !j.Anchor.Equal(now) {
		t.Errorf("resumed: anchor %v, want %v", j.Anchor, now)
	}

	// A date trigger past its fire time is finished; a run asked for makes
	// it due once more, and it stays finished after (the scheduler clears
	// Requested once it has run it).
	if j.Trigger = (schedule.Spec{At: "2026-03-01T09:00:00Z"}); j.SetTrigger(at(11, 45)) != nil {
		t.Fatal("SetTrigger")
	}
	want("finished", Finished, time.Time{}, time.Time{})
	if !j.Anchor.Equal(at(11, 45)) {
		t.Errorf("rescheduled: anchor %v, want %v", j.Anchor, at(11, 45))
	}
	if err := j.RunNow(at(11, 50)); err != nil {
		t.Fatal(err)
	}
	want("finished, run-now", Active, at(11, 50), at(11, 50))
}

func TestOnStartLifecycle(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	j, err := NewJob("boot", "date", schedule.Spec{OnStart: "30s"}, DefaultOptions(), now)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != Active || !j.NextRun.IsZero() || !j.FiresAtStart() {
		t.Fatalf("new on-start job: %s, next run %v; want active, waiting for a start", j.State, j.NextRun)
	}
	start := now.Add(time.Hour)
	if ok, err := j.FireAtStart(start); !ok || err != nil || !j.NextRun.Equal(start.Add(30*time.Second)) {
		t.Errorf("FireAtStart: %v, %v, next run %v; want the start plus 30s", ok, err, j.NextRun)
	}
	// A run asked for before the start's fire time stays first.
	j.Requested = start.Add(time.Second)
	if _, err := j.FireAtStart(start.Add(time.Hour)); err != nil || !j.NextRun.Equal(j.Requested) {
		t.Errorf("with a run requested: next run %v, want %v", j.NextRun, j.Requested)
	}
	j.Requested = time.Time{}
	// Resuming drops a start whose delay was still running.
	if err := j.Resume(start); err != nil || j.State != Active || !j.NextRun.IsZero() {
		t.Errorf("Resume: %v, %s, next run %v", err, j.State, j.NextRun)
	}
	j.Pause(start)
	if ok, _ := j.FireAtStart(start); ok || !j.NextRun.IsZero() {
		t.Errorf("a paused job fired at a start: next run %v", j.NextRun)
	}
	other, _ := NewJob("tick", "date", schedule.Spec{Every: "1h"}, DefaultOptions(), now)
	if ok, _ := other.FireAtStart(start); ok || !other.NextRun.Equal(now.Add(time.Hour)) {
		t.Errorf("an interval job fired at a start: next run %v", other.NextRun)
	}
}
