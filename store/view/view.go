// Package view is how jobctl shows jobs and runs: their JSON shapes (the
// keys of list, show and history -o json, which the HTTP API of jobctl run
// serves too) and the words and times its tables and pages use. One owner,
// so that the CLI and the dashboard cannot drift apart.
package view

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// Job is the JSON view of a job, shared by list, show and the API. Its keys
// follow APScheduler's Job attributes where they have one.
type Job struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Command          string            `json:"command"`
	Trigger          string            `json:"trigger"`      // for people
	TriggerSpec      *schedule.Spec    `json:"trigger_spec"` // as stored; null when broken
	NextRunTime      *string           `json:"next_run_time"`
	State            string            `json:"state"` // active, paused, finished or broken
	Paused           bool              `json:"paused"`
	Executor         string            `json:"executor"`
	MaxInstances     int               `json:"max_instances"`
	Coalesce         bool              `json:"coalesce"`
	MisfireGraceTime *float64          `json:"misfire_grace_time"` // seconds; null: none
	Timeout          *float64          `json:"timeout"`            // seconds; null: none
	Jitter           float64           `json:"jitter"`             // seconds
	Dir              string            `json:"dir"`
	Env              map[string]string `json:"env"`
	Recover          bool              `json:"recover"`
	Retries          int               `json:"retries"`
	RetryDelay       float64           `json:"retry_delay"`     // seconds
	RetryBackoff     float64           `json:"retry_backoff"`   // factor
	RetryMaxDelay    *float64          `json:"retry_max_delay"` // seconds; null: none
	Overlap          string            `json:"overlap"`
	PendingRetry     *Pending          `json:"pending_retry"` // null: none
	Buffered         []*string         `json:"buffered"`      // fire times waiting for an instance to end
	MailTo           *string           `json:"mailto"`        // null: the scheduler's
	MailOn           string            `json:"mail_on"`
	Ping             string            `json:"ping"` // a run monitor's URL; "": none
	Created          *string           `json:"created"`
	Updated          *string           `json:"updated"`
	Broken           string            `json:"broken,omitempty"`
	Store            string            `json:"store,omitempty"` // by list, when the stores are named
}

func NewJob(j *store.Job) Job {
	loc := j.Location()
	v := Job{
		ID: j.ID, Name: j.Name, Command: j.Command, Trigger: j.Trigger.String(),
		NextRunTime: Time(j.NextRun, loc), State: State(j), Paused: j.State == store.Paused,
		Executor: j.Options.Executor, MaxInstances: j.Options.MaxInstances, Coalesce: j.Options.Coalesce,
		Jitter: j.Options.Jitter.Seconds(), Dir: j.Options.Dir, Env: map[string]string{}, Recover: j.Options.Recover,
		MailTo: j.Options.MailTo, MailOn: j.Options.MailOn.String(), Ping: j.Options.Ping,
		Created: Time(j.Created, loc), Updated: Time(j.Updated, loc), Broken: j.Broken,
	}
	if j.Broken == "" {
		spec := j.Trigger
		v.TriggerSpec = &spec
	}
	r := j.Options.Retry.WithDefaults()
	v.Retries, v.RetryDelay, v.RetryBackoff = r.Max, r.Delay.Seconds(), r.Backoff
	if r.MaxDelay > 0 {
		s := r.MaxDelay.Seconds()
		v.RetryMaxDelay = &s
	}
	v.Overlap = j.Options.Overlap.String()
	if p := j.Retry; p != nil {
		v.PendingRetry = &Pending{FireTime: Time(p.FireTime, loc), Attempt: p.Attempt, At: Time(p.At, loc)}
	}
	v.Buffered = []*string{}
	for _, w := range j.Buffered {
		v.Buffered = append(v.Buffered, Time(w.FireTime, loc))
	}
	if g := j.Options.MisfireGrace; g != schedule.NoGrace {
		s := time.Duration(g).Seconds()
		v.MisfireGraceTime = &s
	}
	if t := j.Options.Timeout; t > 0 {
		s := t.Seconds()
		v.Timeout = &s
	}
	for _, kv := range j.Options.Env {
		k, val, _ := strings.Cut(kv, "=")
		v.Env[k] = val
	}
	return v
}

// Pending is a job's pending retry.
type Pending struct {
	FireTime *string `json:"fire_time"`
	Attempt  int     `json:"attempt"`
	At       *string `json:"at"`
}

// Run is the JSON view of a run, with the keys of jobctl history.
type Run struct {
	JobID       string  `json:"job_id"`
	Seq         uint64  `json:"seq"`
	FireTime    *string `json:"fire_time"`
	Attempt     int     `json:"attempt"` // at the fire time, from 1
	Coalesced   int     `json:"coalesced"`
	Requested   bool    `json:"requested"` // by jobctl run-now
	SubmittedAt *string `json:"submitted_at"`
	StartedAt   *string `json:"started_at"`
	EndedAt     *string `json:"ended_at"`
	Outcome     string  `json:"outcome"`
	ExitCode    *int    `json:"exit_code"`
	Signal      string  `json:"signal,omitempty"`
	Reason      string  `json:"reason,omitempty"`
	RetryAt     *string `json:"retry_at"`    // when the next attempt runs; null: none
	BufferedAt  *string `json:"buffered_at"` // when it began to wait for an instance to end; null: it did not
	Output      string  `json:"output"`      // as text: bytes that are not UTF-8 read U+FFFD
	// OutputBase64 is the output byte for byte, when it is not UTF-8.
	OutputBase64 string `json:"output_base64,omitempty"`
}

// NewRun is r with its times in the zone loc, its job's.
func NewRun(r *store.Run, loc *time.Location) Run {
	var raw string
	if !utf8.ValidString(r.Output) {
		raw = base64.StdEncoding.EncodeToString([]byte(r.Output))
	}
	return Run{
		JobID: r.JobID, Seq: r.Seq, FireTime: Time(r.FireTime, loc), Attempt: r.AttemptNumber(), Coalesced: r.Coalesced, Requested: r.Requested,
		SubmittedAt: Time(r.Submitted, loc), StartedAt: Time(r.Started, loc), EndedAt: Time(r.Ended, loc),
		Outcome: string(r.Outcome), ExitCode: r.ExitCode, Signal: r.Signal, Reason: r.Reason,
		RetryAt: Time(r.RetryAt, loc), BufferedAt: Time(r.Buffered, loc), Output: r.Output, OutputBase64: raw,
	}
}

// Time is t in RFC 3339 in the zone loc (a job's: as APScheduler gives
// next_run_time in its trigger's zone), or nil (null) for the zero time.
// (Jobs' times are of this era, so the zone's offset is whole minutes, as
// RFC 3339 requires.)
func Time(t time.Time, loc *time.Location) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(loc).Format(time.RFC3339Nano)
	return &s
}

// State is a job's state as shown: its State, or broken.
func State(j *store.Job) string {
	if j.Broken != "" {
		return "broken"
	}
	return string(j.State)
}

// NextRun is when job j runs next, as jobctl list and the dashboard say
// it: at, its NextRun; or, without one, words: "next start" for an active
// job whose trigger fires only when a scheduler starts, "" for a job that
// will not run (paused, finished, broken).
func NextRun(j *store.Job) (at time.Time, words string) {
	switch {
	case j.Broken != "":
		return time.Time{}, ""
	case !j.NextRun.IsZero():
		return j.NextRun, ""
	case j.State == store.Active && j.FiresAtStart():
		return time.Time{}, "next start"
	}
	return time.Time{}, ""
}

// ZoneTime writes t for people, in the zone loc with its offset.
func ZoneTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04:05 -07:00")
}

// WhenRelative writes t in the zone loc with how far it is from now:
// "2026-03-01 14:00:00 +01:00 (in 4m)".
func WhenRelative(t, now time.Time, loc *time.Location) string {
	return ZoneTime(t, loc) + " (" + Relative(t, now) + ")"
}

// Relative writes how far t is from now in at most two units, rounded
// down: "in 4m", "2h5m ago", "now".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	ago := d < 0
	if ago {
		d = -d
	}
	// Round to the second first: a job added "every 10m" a few
	// milliseconds ago is "in 10m", not "in 9m59s".
	if d = d.Round(time.Second); d == 0 {
		return "now"
	}
	// Keep the two largest units: 1d3h, 4m12s, 45s.
	for _, u := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if d >= u {
			d = d.Truncate(u / unitsBelow(u))
			break
		}
	}
	s := schedule.FormatDuration(d)
	if ago {
		return s + " ago"
	}
	return "in " + s
}

// unitsBelow is how many of the next smaller unit make u.
func unitsBelow(u time.Duration) time.Duration {
	switch u {
	case 7 * 24 * time.Hour:
		return 7
	case 24 * time.Hour:
		return 24
	case time.Second:
		return 1
	}
	return 60
}

// RunResult writes a run's outcome for a table: "success", "failed (exit
// 2)", "timeout (SIGKILL)".
func RunResult(r *store.Run) string {
	s := string(r.Outcome)
	switch {
	case r.Signal != "":
		s += " (" + r.Signal + ")"
	case r.ExitCode != nil && *r.ExitCode != 0:
		s += fmt.Sprintf(" (exit %d)", *r.ExitCode)
	}
	return s
}

// LastTime is when a run last did something: ended, started or was decided.
func LastTime(r *store.Run) time.Time {
	for _, t := range []time.Time{r.Ended, r.Started, r.Submitted} {
		if !t.IsZero() {
			return t
		}
	}
	return r.FireTime
}

// Member is the JSON view of a scheduler of a fleet, shared by scheduler
// status and the API. Its times are by the store's clock, which its lease
// goes by.
type Member struct {
	ID             string  `json:"id"` // the owner its runs name
	Host           string  `json:"host"`
	PID            int     `json:"pid"`
	Version        string  `json:"version"`
	Started        *string `json:"started"`
	Heartbeat      *string `json:"heartbeat"` // its last renewal of its lease
	LeaseUntil     *string `json:"lease_until"`
	Lease          string  `json:"lease"` // live, or expired: the others take it for dead
	RunsInProgress int     `json:"runs_in_progress"`
}

// NewMember is m as of now, by the store's clock, its times in the zone
// loc.
func NewMember(m store.Member, now time.Time, loc *time.Location) Member {
	return Member{
		ID: m.ID, Host: m.Host, PID: m.PID, Version: m.Version,
		Started: Time(m.Started, loc), Heartbeat: Time(m.Heartbeat, loc),
		LeaseUntil: Time(m.LeaseUntil, loc), Lease: LeaseState(m, now), RunsInProgress: m.Running,
	}
}

// LeaseState says whether m's lease is live at now, by the store's clock,
// or expired: the other members then take it for dead.
func LeaseState(m store.Member, now time.Time) string {
	if m.Live(now) {
		return "live"
	}
	return "expired"
}
