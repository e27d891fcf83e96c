package store

import (
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
)

func TestJobEqual(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	base := func() *Job {
		return &Job{ID: "a", Command: "x", Trigger: schedule.Spec{Every: "1m"}, Anchor: at, Options: DefaultOptions(),
			State: Active, NextRun: at.Add(time.Minute), Created: at, Updated: at}
	}
	same := base()
	same.Anchor = at.In(time.FixedZone("X", 3600)) // the same instant
	same.Options.Env = []string{}                  // as nil
	if !base().Equal(same) {
		t.Error("a job with its times in another zone and an empty Env is not Equal")
	}
	for name, change := range map[string]func(*Job){
		"name":    func(j *Job) { j.Name = "n" },
		"trigger": func(j *Job) { j.Trigger.Every = "2m" },
		"state":   func(j *Job) { j.State = Paused },
		"updated": func(j *Job) { j.Updated = j.Updated.Add(time.Nanosecond) },
		"options": func(j *Job) { j.Options.Env = []string{"A=1"} },
		"broken":  func(j *Job) { j.Broken = "bad" },
	} {
		j := base()
		change(j)
		if base().Equal(j) || j.Equal(base()) {
			t.Errorf("jobs differing in %s are Equal", name)
		}
	}
}

func TestRunEqual(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	one, two := 1, 1
	a := &Run{JobID: "a", Seq: 1, FireTime: at, Submitted: at, Outcome: Failed, ExitCode: &one}
	b := *a
	b.ExitCode, b.Submitted = &two, at.In(time.FixedZone("Y", -7200))
	if !a.Equal(&b) {
		t.Error("runs with equal exit codes at other addresses, and a time in another zone, are not Equal")
	}
	two = 2
	if a.Equal(&b) {
		t.Error("runs with exit codes 1 and 2 are Equal")
	}
	b.ExitCode = &one
	b.Ended = at
	if a.Equal(&b) {
		t.Error("a run that ended and one that did not are Equal")
	}
}

func TestSettingsEqual(t *testing.T) {
	a := Settings{HistoryLimit: 5, Executors: []Executor{}}
	if !a.Equal(Settings{HistoryLimit: 5}) {
		t.Error("settings with an empty and a nil list of executors are not Equal")
	}
	for _, b := range []Settings{
		{HistoryLimit: 5, Paused: true},
		{HistoryLimit: 6},
		{HistoryLimit: 5, Listeners: []Listener{{Events: []string{"job_error"}, Command: "x"}}},
	} {
		if a.Equal(b) || b.Equal(a) {
			t.Errorf("%+v and %+v are Equal", a, b)
		}
	}
}
