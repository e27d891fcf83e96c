package cmd

import (
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

// TestRunNote: the NOTE of history and show says what a record stands for
// and why it ended so, without repeating the RESULT column.
func TestRunNote(t *testing.T) {
	code := func(c int) *int { return &c }
	late := "late by 3m0.5s, more than the misfire grace of 1m0s"
	for _, tt := range []struct {
		name string
		run  store.Run
		want string
	}{
		{"success", store.Run{Outcome: store.Success, ExitCode: code(0)}, ""},
		{"coalesced", store.Run{Outcome: store.Success, Coalesced: 3}, "3 earlier fire times coalesced"},
		{"coalesced one", store.Run{Outcome: store.Success, Coalesced: 1}, "1 earlier fire time coalesced"},
		{"coalesced beyond counting", store.Run{Outcome: store.Success, Coalesced: schedule.CountLimit - 1}, "at least 999 earlier fire times coalesced"},
		// The missed record of a --no-coalesce job folds the fire times
		// beyond the grace: none of them was coalesced into a run.
		{"missed", store.Run{Outcome: store.Missed, Reason: late}, late},
		{"missed several", store.Run{Outcome: store.Missed, Coalesced: 3, Reason: late}, "stands for 4 missed fire times, up to this one; " + late},
		{"missed beyond counting", store.Run{Outcome: store.Missed, Coalesced: schedule.CountLimit - 1, Reason: late}, "stands for at least 1000 missed fire times, up to this one; " + late},
		{"failed", store.Run{Outcome: store.Failed, ExitCode: code(3), Reason: "exit status 3"}, ""},
		{"killed", store.Run{Outcome: store.Failed, Signal: "SIGKILL", Reason: "signal: killed"}, ""},
		{"cannot start", store.Run{Outcome: store.Failed, Reason: "cannot start: chdir /gone: no such file or directory"}, "cannot start: chdir /gone: no such file or directory"},
		{"skipped", store.Run{Outcome: store.Skipped, Reason: "1 of max 1 instances running"}, "1 of max 1 instances running"},
		// A first attempt, recorded before attempts were counted (0) or
		// after (1), goes without saying.
		{"first attempt", store.Run{Outcome: store.Success, Attempt: 1}, ""},
		{"second attempt", store.Run{Outcome: store.Success, Attempt: 2}, "attempt 2"},
		{"second attempt coalesced", store.Run{Outcome: store.Interrupted, Attempt: 2, Coalesced: 1, Reason: "its scheduler (b:9) stopped while it ran"},
			"attempt 2; 1 earlier fire time coalesced; its scheduler (b:9) stopped while it ran"},
	} {
		if got := runNote(&tt.run); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	// show and history give a run the same cells.
	r := &store.Run{Outcome: store.Failed, Reason: "cannot start: x", FireTime: time.Unix(0, 0)}
	if cells := runCells(r, time.Unix(60, 0), time.UTC); len(cells) != len(runHeader) || cells[len(cells)-1] != "cannot start: x" {
		t.Errorf("cells %q under %q", cells, runHeader)
	}
}

// TestRunJSONAttempt: -o json gives every run its attempt, from 1, old
// records included.
func TestRunJSONAttempt(t *testing.T) {
	for attempt, want := range map[int]int{0: 1, 1: 1, 3: 3} {
		if got := view.NewRun(&store.Run{Attempt: attempt}, time.UTC).Attempt; got != want {
			t.Errorf("Attempt %d: attempt %d in JSON, want %d", attempt, got, want)
		}
	}
}
