package jobfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

func apply(t *testing.T, s store.Store, f *File, at time.Time, opts ApplyOptions) Report {
	t.Helper()
	var r Report
	err := s.Update(t.Context(), func(tx store.Tx) error {
		var err error
		r, err = Apply(tx, f, at, opts)
		return err
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return r
}

func getJob(t *testing.T, s store.Store, id string) *store.Job {
	t.Helper()
	var j *store.Job
	if err := s.View(t.Context(), func(tx store.Tx) (err error) { j, err = tx.Job(id); return err }); err != nil {
		t.Fatal(err)
	}
	return j
}

func changes(t *testing.T, s store.Store) string {
	t.Helper()
	var cs []store.Change
	if err := s.View(t.Context(), func(tx store.Tx) (err error) { cs, err = tx.ChangesSince(0); return err }); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Kind)+" "+c.JobID)
	}
	return strings.Join(out, ", ")
}

func report(r Report) string {
	return "added " + strings.Join(r.Added, ",") + "; changed " + strings.Join(r.Changed, ",") +
		"; removed " + strings.Join(r.Removed, ",") + "; unchanged " + strings.Join(r.Unchanged, ",") +
		"; finished " + strings.Join(r.Finished, ",")
}

const base = `
[scheduler]
timezone = "UTC"
history_limit = 50

[[job]]
id = "tick"
command = "echo tick"
every = "10m"

[[job]]
id = "nightly"
command = "backup"
cron = "0 3 * * *"

[[job]]
id = "old"
command = "x"
at = "2020-01-01 00:00"
`

func TestApply(t *testing.T) {
	s := newMemory(t)
	f := mustParse(t, base)
	r := apply(t, s, f, now, ApplyOptions{})
	if got := report(r); got != "added tick,nightly,old; changed ; removed ; unchanged ; finished old" || !r.Settings {
		t.Errorf("first apply: %s (settings %v)", got, r.Settings)
	}
	tick := getJob(t, s, "tick")
	if !tick.Anchor.Equal(now) || !tick.NextRun.Equal(now.Add(10*time.Minute)) || tick.State != store.Active {
		t.Errorf("tick: anchor %v next %v state %s", tick.Anchor, tick.NextRun, tick.State)
	}
	if old := getJob(t, s, "old"); old.State != store.Finished || !old.NextRun.IsZero() {
		t.Errorf("old: %s %v", old.State, old.NextRun)
	}

	// The same file later changes nothing: anchors and next runs stay.
	later := now.Add(time.Hour)
	r = apply(t, s, f, later, ApplyOptions{})
	if got := report(r); got != "added ; changed ; removed ; unchanged tick,nightly,old; finished " || r.Changes() {
		t.Errorf("re-apply: %s", got)
	}
	if again := getJob(t, s, "tick"); !reflect.DeepEqual(again, tick) {
		t.Errorf("re-apply rewrote tick:\n%+v\n%+v", again, tick)
	}

	// A new command keeps the schedule; a new trigger restarts it from now.
	f2 := mustParse(t, strings.Replace(strings.Replace(base, `"echo tick"`, `"echo tock"`, 1), `"0 3 * * *"`, `"0 4 * * *"`, 1))
	r = apply(t, s, f2, later, ApplyOptions{})
	if got := report(r); got != "added ; changed tick,nightly; removed ; unchanged old; finished " {
		t.Errorf("changed apply: %s", got)
	}
	tick2 := getJob(t, s, "tick")
	if tick2.Command != "echo tock" || !tick2.Anchor.Equal(now) || !tick2.NextRun.Equal(tick.NextRun) || !tick2.Created.Equal(now) || !tick2.Updated.Equal(later) {
		t.Errorf("tick after a command change: %+v", tick2)
	}
	if n := getJob(t, s, "nightly"); !n.Anchor.Equal(later) || !n.NextRun.Equal(time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)) {
		t.Errorf("nightly after a trigger change: anchor %v next %v", n.Anchor, n.NextRun)
	}

	// Prune removes what the file does not name.
	r = apply(t, s, mustParse(t, base[:strings.Index(base, "[[job]]\nid = \"nightly\"")]), later, ApplyOptions{Prune: true})
	if got := report(r); got != "added ; changed tick; removed nightly,old; unchanged ; finished " {
		t.Errorf("prune: %s", got)
	}
	want := "job_added tick, job_added nightly, job_added old, job_modified tick, job_modified nightly, job_modified tick, job_removed nightly, job_removed old"
	if got := changes(t, s); got != want {
		t.Errorf("journal:\n%s\nwant\n%s", got, want)
	}
	if st := settings(t, s); st.HistoryLimit != 50 {
		t.Errorf("settings: %+v", st)
	}
}

// TestApplyPaused checks that the file decides whether a job is paused.
func TestApplyPaused(t *testing.T) {
	s := newMemory(t)
	paused := strings.Replace(base, `every = "10m"`, "every = \"10m\"\npaused = true", 1)
	apply(t, s, mustParse(t, paused), now, ApplyOptions{})
	if j := getJob(t, s, "tick"); j.State != store.Paused || !j.NextRun.IsZero() || !j.Anchor.Equal(now) {
		t.Errorf("paused tick: %+v", j)
	}
	later := now.Add(25 * time.Minute)
	r := apply(t, s, mustParse(t, base), later, ApplyOptions{})
	if got := report(r); got != "added ; changed tick; removed ; unchanged nightly,old; finished " {
		t.Errorf("resume by apply: %s", got)
	}
	// Resumed from now, in the phase of its anchor.
	if j := getJob(t, s, "tick"); j.State != store.Active || !j.NextRun.Equal(now.Add(30*time.Minute)) {
		t.Errorf("resumed tick: %+v", j)
	}
}

// TestApplyRollsBack checks that a failed transaction leaves nothing.
func TestApplyRollsBack(t *testing.T) {
	s := newMemory(t)
	stop := errors.New("dry run")
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if _, err := Apply(tx, mustParse(t, base), now, ApplyOptions{}); err != nil {
			return err
		}
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatal(err)
	}
	if got := changes(t, s); got != "" {
		t.Errorf("journal after rollback: %s", got)
	}
}

// TestExportRoundTrip checks that export, then apply to an empty store,
// gives the same jobs.
func TestExportRoundTrip(t *testing.T) {
	f, err := Load("../../testdata/jobfile.toml")
	if err != nil {
		t.Fatal(err)
	}
	a := newMemory(t)
	apply(t, a, f, now, ApplyOptions{})
	var jobs []*store.Job
	err = a.View(t.Context(), func(tx store.Tx) error {
		return tx.Jobs(func(j *store.Job) error { jobs = append(jobs, j); return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	st := settings(t, a)
	out, err := Export(st, jobs)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse("exported.toml", out)
	if err != nil {
		t.Fatalf("parsing the export: %v\n%s", err, out)
	}
	b := newMemory(t)
	apply(t, b, g, now, ApplyOptions{})
	for _, j := range jobs {
		if got := getJob(t, b, j.ID); !reflect.DeepEqual(got, j) {
			t.Errorf("job %s after the round trip:\n%+v\nwant\n%+v", j.ID, got, j)
		}
	}
	// The executors' sizes and the listeners come back too.
	if got := settings(t, b); !reflect.DeepEqual(got, st) || len(st.Executors) != 1 || len(st.Listeners) != 1 {
		t.Errorf("settings after the round trip:\n%+v\nwant\n%+v", got, st)
	}
	again, _ := Export(st, jobs)
	if string(again) != string(out) {
		t.Errorf("export is not stable")
	}
}

func TestTOMLString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:         `"plain"`,
		`a "b" \ c`:     `"a \"b\" \\ c"`,
		"tab\tnl\n\x01": `"tab\tnl\n\u0001"`,
		"é€":            `"é€"`,
	} {
		if got := tomlString(in); got != want {
			t.Errorf("tomlString(%q) = %s, want %s", in, got, want)
		}
	}
}

func settings(t *testing.T, s store.Store) store.Settings {
	t.Helper()
	var st store.Settings
	if err := s.View(t.Context(), func(tx store.Tx) (err error) { st, err = tx.Settings(); return err }); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestApplySettings: a jobfile's executors and listeners are stored, for a
// scheduler started without the file, and replace the stored ones; a file
// without them leaves none. A crontab's jobs (JobsOnly) leave them alone.
func TestApplySettings(t *testing.T) {
	s := newMemory(t)
	withAll := mustParse(t, `
[executors.heavy]
max_workers = 2
[executors.light]
[[listener]]
events = ["job_error", "job_missed"]
command = "notify"
`+base)
	want := store.Settings{HistoryLimit: 50,
		Executors: []store.Executor{{Name: "heavy", MaxWorkers: 2}, {Name: "light", MaxWorkers: store.DefaultMaxWorkers}},
		Listeners: []store.Listener{{Events: []string{"job_error", "job_missed"}, Command: "notify"}}}
	if r := apply(t, s, withAll, now, ApplyOptions{}); !r.Settings {
		t.Error("the first apply reports no change of settings")
	}
	if got := settings(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("stored %+v, want %+v", got, want)
	}
	if r := apply(t, s, withAll, now, ApplyOptions{}); r.Settings || r.Changes() {
		t.Errorf("the same file again: %+v", r)
	}
	// The jobs of a crontab leave the scheduler's settings alone.
	if r := apply(t, s, &File{Defaults: store.DefaultOptions()}, now, ApplyOptions{JobsOnly: true}); r.Settings {
		t.Error("JobsOnly changed the settings")
	}
	if got := settings(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("after JobsOnly: %+v", got)
	}
	// A jobfile without them leaves none; history_limit unset stays.
	if r := apply(t, s, mustParse(t, `[[job]]
id = "tick"
command = "echo tick"
every = "10m"
`), now, ApplyOptions{}); !r.Settings {
		t.Error("dropping the executors and listeners reports no change")
	}
	if got := settings(t, s); !reflect.DeepEqual(got, store.Settings{HistoryLimit: 50}) {
		t.Errorf("after a file with none: %+v", got)
	}
}

// TestApplyKeepsWhatWaits: a job whose options a jobfile changes keeps
// what the scheduler keeps with it, a pending retry among them; its next
// run, brought forward for that retry, stays so, and its trigger's next
// fire time with it.
func TestApplyKeepsWhatWaits(t *testing.T) {
	s := newMemory(t)
	apply(t, s, mustParse(t, base), now, ApplyOptions{})
	retryAt := now.Add(time.Minute)
	err := s.Update(t.Context(), func(tx store.Tx) error {
		j, err := tx.Job("tick")
		if err != nil {
			return err
		}
		j.Retry = &store.PendingRetry{FireTime: now, Attempt: 2, At: retryAt, After: 1}
		j.Wake()
		return tx.PutJob(j)
	})
	if err != nil {
		t.Fatal(err)
	}
	before := getJob(t, s, "tick")
	apply(t, s, mustParse(t, strings.Replace(base, `every = "10m"`, "every = \"10m\"\ntimeout = \"5m\"", 1)), now.Add(time.Second), ApplyOptions{})
	j := getJob(t, s, "tick")
	if j.Options.Timeout != 5*time.Minute || j.Retry == nil || !j.Retry.At.Equal(retryAt) || !j.NextRun.Equal(retryAt) || !j.NextFire.Equal(before.NextFire) {
		t.Errorf("after the apply: timeout %s, retry %+v, next run %v, next fire %v; want 5m, the retry at %v kept, next fire %v",
			j.Options.Timeout, j.Retry, j.NextRun, j.NextFire, retryAt, before.NextFire)
	}
}
