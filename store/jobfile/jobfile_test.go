package jobfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustParse(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse("jobs.toml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func TestExample(t *testing.T) {
	f, err := Load("../../testdata/jobfile.toml")
	if err != nil {
		t.Fatal(err)
	}
	if f.Scheduler != (Scheduler{Timezone: "Europe/Berlin", HistoryLimit: 200}) {
		t.Errorf("scheduler: %+v", f.Scheduler)
	}
	if f.Defaults.MisfireGrace != schedule.Grace(5*time.Minute) || !f.Defaults.Coalesce {
		t.Errorf("defaults: %+v", f.Defaults)
	}
	if len(f.Executors) != 1 || f.Executors[0] != (Executor{Name: "heavy", MaxWorkers: 2}) {
		t.Errorf("executors: %+v", f.Executors)
	}
	if len(f.Listeners) != 1 || !reflect.DeepEqual(f.Listeners[0].Events, []string{"job_error", "job_missed"}) {
		t.Errorf("listeners: %+v", f.Listeners)
	}
	byID := map[string]Job{}
	var ids []string
	for _, j := range f.Jobs {
		byID[j.ID] = j
		ids = append(ids, j.ID)
	}
	want := "backup market-report heartbeat cert-renewal-reminder reports-month-end db-migration-check"
	if got := strings.Join(ids, " "); got != want {
		t.Fatalf("jobs %s, want %s", got, want)
	}
	b := byID["backup"]
	if !reflect.DeepEqual(b.Trigger, schedule.Spec{Cron: "30 2 * * *", Timezone: "Europe/Berlin"}) ||
		b.Options.MisfireGrace != schedule.NoGrace || b.Options.Executor != "heavy" || b.Options.Timeout != 2*time.Hour ||
		!reflect.DeepEqual(b.Options.Env, []string{"RESTIC_PASSWORD_FILE=/etc/restic.pass", "RESTIC_REPOSITORY=/srv/restic"}) ||
		b.Pos != (Position{36, 1}) || b.TriggerPos != (Position{40, 1}) {
		t.Errorf("backup: %+v", b)
	}
	m := byID["market-report"]
	if *m.Trigger.Fields != (schedule.Fields{DayOfWeek: "mon-fri", Hour: "8,17", Minute: "45"}) || m.Trigger.Timezone != "America/New_York" {
		t.Errorf("market-report trigger: %+v", m.Trigger)
	}
	h := byID["heartbeat"]
	if h.Options.Coalesce || h.Options.MaxInstances != 3 || h.Options.Jitter != 20*time.Second ||
		h.Options.MisfireGrace != schedule.Grace(5*time.Minute) {
		t.Errorf("heartbeat options: %+v", h.Options)
	}
	if at := byID["cert-renewal-reminder"].Trigger.At; at != "2028-11-20T09:00:00Z" {
		t.Errorf("at: %q", at)
	}
	if len(byID["reports-month-end"].Trigger.Any) != 2 {
		t.Errorf("any: %+v", byID["reports-month-end"].Trigger)
	}
	d := byID["db-migration-check"]
	if d.State != store.Paused || d.Trigger.Start != "2028-09-01 00:00:00" || d.Trigger.End != "2028-09-30 23:59:59" {
		t.Errorf("db-migration-check: %+v", d)
	}
}

// TestErrors checks that every problem is reported, in file order, with its
// position, the key and the bad value.
func TestErrors(t *testing.T) {
	src := `colour = "blue"
[scheduler]
timezone = "Mars/Olympus"
history_limit = 0

[job_defaults]
max_instances = "two"

[[job]]
id = "a b"
command = "true"
every = "5m"

[[job]]
id = "c"
command = "true"
cron = "61 * * * *"
retry = 3

[[job]]
id = "d"
command = ""
every = "5m"
at = "now"

[[job]]
id = "e"
command = "x"
[job.cron]
hour = 1.5
minutes = "3"

[[job]]
id = "c"
command = "true"
every = "1h"
executor = "fast"
env = { "1X" = "y" }

[[listener]]
events = ["job_exploded"]
command = "true"
`
	_, err := Parse("jobs.toml", []byte(src))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := []string{
		`jobs.toml:1:1: unknown key "colour" in top level (want one of scheduler, job_defaults, executors, stores, listener, job)`,
		`jobs.toml:3:1: scheduler.timezone: time zone "Mars/Olympus": unknown (want an IANA name such as Europe/Berlin)`,
		`jobs.toml:4:1: scheduler.history_limit: 0 is less than 1`,
		`jobs.toml:7:1: job_defaults: max_instances: "two" is a string, want an integer`,
		`jobs.toml:10:1: job 1: id "a b" contains ' ' (want no whitespace, slash or control characters)`,
		`jobs.toml:17:1: job "c": cron: minute field: 61 is out of range 0-59`,
		`jobs.toml:18:1: unknown key "retry" in job "c" (want one of ` + strings.Join(jobKeys, ", ") + `)`,
		`jobs.toml:22:1: job "d": command: empty`,
		`jobs.toml:24:1: job "d": several triggers (every, at): want exactly one, or combine them with any or all`,
		`jobs.toml:30:1: job "e": cron.hour: 1.5 is a float, want a string or an integer`,
		`jobs.toml:31:1: unknown key "minutes" in job "e": cron (want one of year, month, day, week, day_of_week, hour, minute, second)`,
		`jobs.toml:34:1: job "c": duplicate id (first at line 15)`,
		`jobs.toml:37:1: job "c": executor: "fast" is not defined (want default or the name of an [executors.NAME] table)`,
		`jobs.toml:38:1: job "c": env: "1X=y": "1X" is not a variable name (letters, digits and _, not starting with a digit)`,
		`jobs.toml:41:1: listener 1: events: "job_exploded" is not an event (want one of ` + strings.Join(store.EventNames, ", ") + `)`,
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSyntaxError(t *testing.T) {
	_, err := Parse("jobs.toml", []byte("[[job]]\nid = \"a\"\ncommand = [\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "jobs.toml:3:") {
		t.Errorf("syntax error: %v", err)
	}
}

// TestValueForms covers the forms APScheduler users write: integers of
// seconds for durations, numbers for cron fields, local dates.
func TestValueForms(t *testing.T) {
	f := mustParse(t, `
[job_defaults]
misfire_grace_time = 30

[[job]]
id = "a"
command = """
echo a
"""
every = 90
timeout = 60
start = 2026-05-01

[[job]]
id = "b"
command = "b"
cron = { hour = 9, day_of_week = "mon" }
misfire_grace_time = "NONE"
`)
	a, b := f.Jobs[0], f.Jobs[1]
	if a.Command != "echo a\n" || a.Trigger.Every != "1m30s" || a.Trigger.Start != "2026-05-01" ||
		a.Options.Timeout != time.Minute || a.Options.MisfireGrace != schedule.Grace(30*time.Second) {
		t.Errorf("a: %+v", a)
	}
	if *b.Trigger.Fields != (schedule.Fields{Hour: "9", DayOfWeek: "mon"}) || b.Options.MisfireGrace != schedule.NoGrace {
		t.Errorf("b: %+v", b)
	}
}

func TestPositions(t *testing.T) {
	src := `# comment [not = a table]
a = """
x = 1
[fake]
"""
"quoted.key" = 'lit'
[[job]]
id = 1
cron.hour = 2
[job.env]
K = { x = [1,
  2] }
[[job]]
  id = 2
[executors.fast]
max_workers = 1
`
	pos := keyPositions(src)
	want := map[string]Position{
		"a": {2, 1}, "quoted.key": {6, 1}, "job[0]": {7, 1}, "job[0].id": {8, 1}, "job[0].cron": {9, 1},
		"job[0].cron.hour": {9, 1}, "job[0].env": {10, 1}, "job[0].env.K": {11, 1}, "job[1]": {13, 1},
		"job[1].id": {14, 3}, "executors.fast": {15, 1}, "executors.fast.max_workers": {16, 1},
	}
	if !reflect.DeepEqual(pos, want) {
		t.Errorf("positions:\n%v\nwant\n%v", pos, want)
	}
}

// TestRecover: recover is an option of [job_defaults] and of a job, which
// overrides it; Export writes it where it is not the built-in default, and
// Parse reads that back.
func TestRecover(t *testing.T) {
	f := mustParse(t, `
[job_defaults]
recover = true

[[job]]
id = "inherits"
command = "x"
every = "1h"

[[job]]
id = "overrides"
command = "x"
every = "1h"
recover = false
`)
	if !f.Defaults.Recover || !f.Jobs[0].Options.Recover || f.Jobs[1].Options.Recover {
		t.Errorf("defaults %v, inherits %v, overrides %v; want true, true, false",
			f.Defaults.Recover, f.Jobs[0].Options.Recover, f.Jobs[1].Options.Recover)
	}
	g := mustParse(t, "[[job]]\nid = \"own\"\ncommand = \"x\"\nevery = \"1h\"\nrecover = true\n")
	if g.Defaults.Recover || !g.Jobs[0].Options.Recover {
		t.Errorf("without job_defaults: defaults %v, own %v; want false, true", g.Defaults.Recover, g.Jobs[0].Options.Recover)
	}

	jobs := []*store.Job{&f.Jobs[0].Job, &f.Jobs[1].Job, &g.Jobs[0].Job}
	out, err := Export(store.Settings{}, jobs)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "recover = true\n"); n != 2 || strings.Contains(string(out), "recover = false") {
		t.Errorf("export writes recover = true %d times, want 2 (and never false, the default):\n%s", n, out)
	}
	back := mustParse(t, string(out))
	for i, j := range back.Jobs {
		if j.Options.Recover != jobs[i].Options.Recover {
			t.Errorf("job %s: recover %v after export, want %v", j.ID, j.Options.Recover, jobs[i].Options.Recover)
		}
	}

	_, err = Parse("jobs.toml", []byte("[job_defaults]\nrecover = \"yes\"\n"))
	if want := `jobs.toml:2:1: job_defaults: recover: "yes" is a string, want true or false`; err == nil || err.Error() != want {
		t.Errorf("recover = \"yes\": %v, want %s", err, want)
	}
}

// TestPolicies: the run policies, in [job_defaults] and a job, read and
// checked, each bad value named with its line.
func TestPolicies(t *testing.T) {
	f, err := Parse("jobs.toml", []byte(`
[job_defaults]
retries = 2
overlap = "buffer_one"

[[job]]
id = "a"
command = "true"
every = "1h"
retry_delay = "30s"
retry_backoff = 1.5
retry_max_delay = 300

[[job]]
id = "b"
command = "true"
every = "1h"
retries = 0
overlap = "skip"
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := f.Jobs[0].Options, f.Jobs[1].Options
	if want := (schedule.Retry{Max: 2, Delay: 30 * time.Second, Backoff: 1.5, MaxDelay: 5 * time.Minute}); a.Retry != want || a.Overlap != store.OverlapBufferOne {
		t.Errorf("a: retry %+v overlap %q, want %+v buffer_one", a.Retry, a.Overlap, want)
	}
	if b.Retry.Max != 0 || b.Overlap != store.OverlapSkip {
		t.Errorf("b: retries %d overlap %q, want 0 and skip", b.Retry.Max, b.Overlap)
	}
	_, err = Parse("jobs.toml", []byte(`[[job]]
id = "a"
command = "true"
every = "1h"
retries = -1
overlap = "replace"
retry_backoff = "x"
`))
	want := []string{
		`jobs.toml:5:1: job "a": retries: -1 is out of range 0-100`,
		`jobs.toml:6:1: job "a": overlap: "replace" is not an overlap policy (want one of skip, buffer_one, buffer_all, cancel_other, terminate_other, allow_all)`,
		`jobs.toml:7:1: job "a": retry_backoff: "x" is a string, want a number such as 2 or 1.5`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("errors:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}
