package explain

import (
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

var day = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// at is h:m on the day of the test.
func at(h, m int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func testJob() *store.Job {
	return &store.Job{ID: "backup", Command: "backup.sh", Trigger: schedule.Spec{Every: "1h", Timezone: "UTC"},
		Anchor: day, Options: store.DefaultOptions(), State: store.Active, NextRun: at(23, 0)}
}

func code(n int) *int { return &n }

// history is a day of an hourly job's life: schedulers that stopped,
// died and were paused; the job paused; runs that succeeded, failed, timed
// out, waited for workers. Its runs are oldest first.
func history() ([]*store.Run, []store.Period, []store.Period) {
	runs := []*store.Run{
		{FireTime: at(9, 0), Submitted: at(9, 0), Started: at(9, 0).Add(200 * time.Millisecond), Ended: at(9, 0).Add(1400 * time.Millisecond),
			Outcome: store.Success, ExitCode: code(0), Owner: "h:1"},
		{FireTime: at(11, 0), Coalesced: 1, Submitted: at(11, 10), Outcome: store.Missed, Owner: "h:2",
			Reason: "late by 10m0s, more than the misfire grace of 1m0s"},
		{FireTime: at(12, 0), Submitted: at(12, 0), Started: at(12, 0), Outcome: store.Interrupted, Owner: "h:2",
			Reason: "its scheduler (h:2) stopped while it ran"},
		{FireTime: at(13, 0), Submitted: at(13, 5), Outcome: store.Missed, Owner: "h:3",
			Reason: "late by 5m0s, more than the misfire grace of 1m0s"},
		{FireTime: at(14, 0), Submitted: at(14, 30), Outcome: store.Missed, Owner: "h:3",
			Reason: "late by 30m0s, more than the misfire grace of 1m0s"},
		{FireTime: at(15, 0), Submitted: at(15, 0), Started: at(15, 0), Ended: at(15, 0).Add(3 * time.Second),
			Outcome: store.Failed, ExitCode: code(2), Owner: "h:3"},
		{FireTime: at(16, 0), Submitted: at(16, 0), Outcome: store.Skipped, Owner: "h:3", Reason: "1 of max 1 instances running"},
		{FireTime: at(19, 0), Coalesced: 2, Submitted: at(19, 10), Outcome: store.Skipped,
			Reason: "the job was paused from 2026-06-01 16:30:00 +00:00 to 2026-06-01 19:10:00 +00:00"},
		{FireTime: at(20, 0), Submitted: at(20, 0), Outcome: store.Missed, Owner: "h:3",
			Reason: "started late by 2m0s, more than the misfire grace of 1m0s (waited for a worker)"},
		{FireTime: at(21, 0), Submitted: at(21, 0), Started: at(21, 0), Ended: at(21, 0).Add(30 * time.Second),
			Outcome: store.TimedOut, Signal: "SIGTERM", Owner: "h:3"},
		{FireTime: at(22, 0), Submitted: at(22, 0), Started: at(22, 0), Ended: at(22, 0).Add(2 * time.Second), Outcome: store.Cancelled, Owner: "h:3",
			Signal: "SIGTERM", Reason: "cancelled by the fire time 2026-06-01T22:10:00Z (overlap cancel_other)"},
	}
	for i, r := range runs {
		r.JobID, r.Seq = "backup", uint64(i+1)
	}
	sessions := []store.Period{ // newest first
		{Kind: store.SessionPeriod, Scheduler: "h:3", Host: "h", PID: 3, Start: at(13, 5)},
		{Kind: store.SessionPeriod, Scheduler: "h:2", Host: "h", PID: 2, Start: at(11, 10)},
		{Kind: store.SessionPeriod, Scheduler: "h:1", Host: "h", PID: 1, Start: at(8, 0), End: at(9, 30)},
	}
	pauses := []store.Period{{Kind: store.PausePeriod, Start: at(13, 59), End: at(14, 30)}}
	return runs, sessions, pauses
}

func newestFirst(runs []*store.Run) []*store.Run {
	out := make([]*store.Run, len(runs))
	for i, r := range runs {
		out[len(runs)-1-i] = r
	}
	return out
}

func TestExplainHistory(t *testing.T) {
	runs, sessions, pauses := history()
	j := testJob()
	j.Options.Timeout = 30 * time.Second
	rep := Explain(Input{Job: j, Runs: newestFirst(runs), Sessions: sessions, Pauses: pauses, SchedulerRunning: true, Now: at(22, 30)})
	want := []struct {
		cause    Cause
		from, to time.Time
		text     string
	}{
		{text: "ran and succeeded in 1.2s (attempt 1 of 1)"},
		{SchedulerDown, at(9, 30), at(11, 10), "missed (this and 1 earlier fire time): late by 10m0s, more than the misfire grace of 1m0s, because no scheduler ran from 2026-06-01 09:30:00 +00:00 (scheduler h:1 stopped) to 2026-06-01 11:10:00 +00:00 (scheduler h:2 started)"},
		{SchedulerDied, at(11, 10), at(12, 0), "interrupted (started 2026-06-01 12:00:00 +00:00, attempt 1 of 1): its scheduler (h:2) stopped while it ran; scheduler h:2 (started 2026-06-01 11:10:00 +00:00, host h, pid 2) died without a clean stop (last seen 2026-06-01 12:00:00 +00:00)"},
		{SchedulerDown, at(12, 0), at(13, 5), "missed: late by 5m0s, more than the misfire grace of 1m0s, because no scheduler ran: scheduler h:2 (started 2026-06-01 11:10:00 +00:00, host h, pid 2) died without a clean stop (last seen 2026-06-01 12:00:00 +00:00), and scheduler h:3 started only at 2026-06-01 13:05:00 +00:00"},
		{SchedulerPaused, at(13, 59), at(14, 30), "missed: late by 30m0s, more than the misfire grace of 1m0s, because the scheduler was paused from 2026-06-01 13:59:00 +00:00 to 2026-06-01 14:30:00 +00:00"},
		{text: "ran and failed with exit code 2 after 3s (attempt 1 of 1)"},
		{cause: MaxInstances, text: "skipped: max instances reached, 1 of max 1 instances running"},
		{cause: JobPaused, text: "skipped: the job was paused from 2026-06-01 16:30:00 +00:00 to 2026-06-01 19:10:00 +00:00; 3 fire times passed over, the latest this one"},
		{cause: WorkersBusy, text: `missed: started late by 2m0s, more than the misfire grace of 1m0s (waited for a worker), because all the workers of its executor "default" were busy`},
		{text: "ran and timed out after 30s, its timeout being 30s, killed by SIGTERM (attempt 1 of 1)"},
		{cause: Overlap, text: "ran and was cancelled after 2s (attempt 1 of 1): cancelled by the fire time 2026-06-01T22:10:00Z (overlap cancel_other)"},
	}
	if len(rep.Entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(rep.Entries), len(want))
	}
	for i, w := range want {
		got := rep.Entries[len(want)-1-i]
		if got.Text != w.text || got.Cause != w.cause || !got.From.Equal(w.from) || !got.To.Equal(w.to) {
			t.Errorf("run #%d:\n got %s %v..%v %q\nwant %s %v..%v %q", got.Run.Seq, got.Cause, got.From, got.To, got.Text, w.cause, w.from, w.to, w.text)
		}
	}
	if got := rep.Entries[len(want)-6].Duration; got != 3*time.Second {
		t.Errorf("duration of the failed run: %v", got)
	}
	if want := "2026-06-01 23:00:00 +00:00 (in 30m), because its trigger (every 1h tz=UTC) fires then"; rep.Next.Text != want || !rep.Next.Time.Equal(at(23, 0)) {
		t.Errorf("next = %v %q, want %q", rep.Next.Time, rep.Next.Text, want)
	}
}

func TestExplainCoalescedAndLate(t *testing.T) {
	r := &store.Run{JobID: "backup", Seq: 4, FireTime: at(10, 0), Coalesced: 3, Submitted: at(10, 0),
		Started: at(10, 0).Add(5 * time.Second), Ended: at(10, 0).Add(65 * time.Second), Outcome: store.Success, ExitCode: code(0), Attempt: 2}
	rep := Explain(Input{Job: testJob(), Runs: []*store.Run{r}, SchedulerRunning: true, Now: at(11, 0)})
	want := "ran and succeeded in 1m (attempt 2 of 2), started 5s after its fire time; 3 earlier fire times coalesced into run #4"
	if got := rep.Entries[0].Text; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestExplainNext(t *testing.T) {
	now := at(23, 30)
	died := []store.Period{{Kind: store.SessionPeriod, Scheduler: "h:3", Host: "h", PID: 3, Start: at(13, 5)}}
	stopped := []store.Period{{Kind: store.SessionPeriod, Scheduler: "h:3", Start: at(13, 5), End: at(22, 0)}}
	for _, tt := range []struct {
		name string
		in   func(*Input)
		want string
	}{
		{"no scheduler, the last died", func(in *Input) { in.Sessions = died },
			"2026-06-01 23:00:00 +00:00 (30m ago), because its trigger (every 1h tz=UTC) fires then; but no scheduler is running (the last, h:3 (started 2026-06-01 13:05:00 +00:00, host h, pid 3), died without a clean stop): it runs once one starts (jobctl run); it is already later than its misfire grace of 1m, so that fire time will be missed"},
		{"no scheduler, the last stopped, within grace", func(in *Input) {
			in.Sessions, in.Now = stopped, at(22, 50)
			in.Job.Options.MisfireGrace = schedule.Grace(time.Hour)
		}, "2026-06-01 23:00:00 +00:00 (in 10m), because its trigger (every 1h tz=UTC) fires then; but no scheduler is running (the last, h:3, stopped at 2026-06-01 22:00:00 +00:00): it runs once one starts (jobctl run), by 2026-06-02 00:00:00 +00:00 (its misfire grace of 1h) or it is missed"},
		{"scheduler paused", func(in *Input) {
			in.SchedulerRunning, in.Paused, in.Sessions = true, true, died
			in.Pauses = []store.Period{{Kind: store.PausePeriod, Start: at(22, 45)}}
			in.Job.Options.MisfireGrace = schedule.NoGrace
		}, "2026-06-01 23:00:00 +00:00 (30m ago), because its trigger (every 1h tz=UTC) fires then; but the whole scheduler is paused (since 2026-06-01 22:45:00 +00:00): nothing starts until jobctl scheduler resume"},
		{"run-now", func(in *Input) {
			in.SchedulerRunning, in.Now = true, at(22, 50)
			in.Job.Requested = at(22, 50)
			in.Job.NextRun = in.Job.Requested
		}, "2026-06-01 22:50:00 +00:00 (now), because jobctl run-now asked for a run then"},
		{"job paused", func(in *Input) {
			in.Job.State, in.Job.NextRun, in.Job.PausedAt = store.Paused, time.Time{}, at(16, 30)
		}, "none while the job is paused (since 2026-06-01 16:30:00 +00:00): jobctl resume backup makes it run again, from its next fire time"},
		{"finished", func(in *Input) { in.Job.State, in.Job.NextRun = store.Finished, time.Time{} },
			"none: the job is finished, its trigger (every 1h tz=UTC) has no fire times left"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Job: testJob(), Now: now}
			tt.in(&in)
			if got := Explain(in).Next.Text; got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A fire time missed while a scheduler ran (a store failing, say) is not
// blamed on downtime.
func TestExplainMissedWhileUp(t *testing.T) {
	sessions := []store.Period{{Kind: store.SessionPeriod, Scheduler: "h:1", Start: at(8, 0)}}
	r := &store.Run{JobID: "backup", Seq: 1, FireTime: at(10, 0), Submitted: at(10, 5), Outcome: store.Missed, Owner: "h:1",
		Reason: "late by 5m0s, more than the misfire grace of 1m0s"}
	e := Explain(Input{Job: testJob(), Runs: []*store.Run{r}, Sessions: sessions, SchedulerRunning: true, Now: at(11, 0)}).Entries[0]
	if e.Cause != "" || strings.Contains(e.Text, "because") {
		t.Errorf("missed while up: %s %q", e.Cause, e.Text)
	}
}

// Retries and the overlap policy: the attempts counted against the job's
// retries, when each failed one was tried again, the wait of a buffered
// fire time, and a pending retry as the next run.
func TestExplainPolicies(t *testing.T) {
	j := testJob()
	j.Options.Retry = schedule.Retry{Max: 2}
	j.Options.Overlap = store.OverlapBufferOne
	runs := []*store.Run{
		{JobID: "backup", Seq: 1, FireTime: at(10, 0), Submitted: at(10, 0), Started: at(10, 0), Ended: at(10, 0).Add(time.Second),
			Outcome: store.Failed, ExitCode: code(1), RetryAt: at(10, 0).Add(11 * time.Second)},
		{JobID: "backup", Seq: 2, FireTime: at(11, 0), Submitted: at(11, 5), Started: at(11, 5), Ended: at(11, 6),
			Outcome: store.Success, ExitCode: code(0), Buffered: at(11, 0)},
		{JobID: "backup", Seq: 3, FireTime: at(11, 5), Submitted: at(11, 8), Outcome: store.Skipped, Buffered: at(11, 5),
			Reason: "replaced, as it waited for an instance to end, by the newer fire time 2026-06-01T11:08:00Z (overlap buffer_one)"},
	}
	j.Retry = &store.PendingRetry{FireTime: at(10, 0), Attempt: 2, At: at(11, 30), After: 1}
	j.NextRun = j.Retry.At
	rep := Explain(Input{Job: j, Runs: newestFirst(runs), SchedulerRunning: true, Now: at(11, 10)})
	if e := rep.Entries[0]; e.Cause != Overlap || e.Text != "skipped by the overlap policy (buffer_one): "+runs[2].Reason {
		t.Errorf("the replaced fire time: %s %q", e.Cause, e.Text)
	}
	rep.Entries = rep.Entries[1:]
	want := []string{
		"ran and succeeded in 1m (attempt 1 of 3), started 5m after its fire time; it came while max instances ran and waited for one to end, from 2026-06-01 11:00:00 +00:00 (overlap buffer_one)",
		"ran and failed with exit code 1 after 1s (attempt 1 of 3); tried again at 2026-06-01 10:00:11 +00:00 (attempt 2)",
	}
	for i, w := range want {
		if got := rep.Entries[i].Text; got != w {
			t.Errorf("entry %d:\n got %q\nwant %q", i, got, w)
		}
	}
	if want := "2026-06-01 11:30:00 +00:00 (in 20m), because the fire time 2026-06-01 10:00:00 +00:00 is tried again then (attempt 2 of 3, after run #1 failed)"; rep.Next.Text != want {
		t.Errorf("next:\n got %q\nwant %q", rep.Next.Text, want)
	}
}
