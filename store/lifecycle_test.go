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
