package jobfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/store"
)

// TestOnStart: on_start takes true (at once), a delay, or an integer of
// seconds; it is stored active with no next run, comes back from export
// as it was, and lint does not take it for a trigger with no fire times.
func TestOnStart(t *testing.T) {
	f := mustParse(t, `
[[job]]
id = "boot"
command = "x"
on_start = true

[[job]]
id = "later"
command = "x"
on_start = "2m"

[[job]]
id = "secs"
command = "x"
on_start = 45
`)
	for i, want := range []string{"0s", "2m", "45s"} {
		if got := f.Jobs[i].Trigger.OnStart; got != want {
			t.Errorf("job %s: on_start %q, want %q", f.Jobs[i].ID, got, want)
		}
	}
	if ws := Lint(f, now); len(ws) != 0 {
		t.Errorf("lint warned: %v", ws)
	}
	a := newMemory(t)
	apply(t, a, f, now, ApplyOptions{})
	var jobs []*store.Job
	for _, fj := range f.Jobs {
		j := getJob(t, a, fj.ID)
		if j.State != store.Active || !j.NextRun.IsZero() {
			t.Errorf("job %s stored %s, next run %v; want active, waiting for a start", j.ID, j.State, j.NextRun)
		}
		jobs = append(jobs, j)
	}
	out, err := Export(settings(t, a), jobs)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"on_start = true\n", `on_start = "2m"` + "\n", `on_start = "45s"` + "\n"} {
		if !strings.Contains(string(out), line) {
			t.Errorf("export lacks %q:\n%s", line, out)
		}
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
}

func TestOnStartErrors(t *testing.T) {
	_, err := Parse("jobs.toml", []byte(`
[[job]]
id = "off"
command = "x"
on_start = false

[[job]]
id = "list"
command = "x"
on_start = ["1s"]

[[job]]
id = "combined"
command = "x"
any = [{ cron = "@daily" }, { on_start = true }]

[[job]]
id = "bounded"
command = "x"
on_start = "1m"
end = "2027-01-01"
`))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := []string{
		`jobs.toml:5:1: job "off": on_start: false, want true (at each start) or a delay such as "30s" (for no on-start trigger, leave the key out)`,
		`jobs.toml:10:1: job "list": on_start: an array, want true or a delay such as "30s"`,
		`jobs.toml:15:1: job "combined": any[1]: on_start cannot be combined with other triggers: it fires only at a scheduler's start`,
		`jobs.toml:20:1: job "bounded": on_start: takes no start or end (it fires at each scheduler start)`,
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLintOnStartFleet: on_start in a store with a URL, which a fleet may
// share, fires once per start of the fleet: lint says so.
func TestLintOnStartFleet(t *testing.T) {
	f := mustParse(t, `
[stores.default]
url = "postgres://db.example/jobctl"

[[job]]
id = "boot"
command = "x"
on_start = "10s"
`)
	ws := Lint(f, now)
	if len(ws) != 1 || !strings.Contains(ws[0].Error(), `job "boot": on_start in store "default", a database schedulers may share: a fleet fires it once per start of the fleet`) {
		t.Errorf("warnings: %v", ws)
	}
}
