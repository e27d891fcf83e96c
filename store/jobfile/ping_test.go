package jobfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

const pingFile = `
[scheduler]
ping = "https://hc-ping.com/sched"
ping_every = "5m"

[job_defaults]
ping = "https://hc.example.com/ping/key/default?create=1"

[[job]]
id = "inherits"
command = "x"
every = "1h"

[[job]]
id = "own"
command = "x"
every = "1h"
ping = "http://127.0.0.1:8000/ping/own"

[[job]]
id = "none"
command = "x"
every = "1h"
ping = ""
`

// [scheduler] ping and ping_every go to the stored settings; ping, in a
// job or [job_defaults], to its options; and export writes them back.
func TestPingKeys(t *testing.T) {
	f := mustParse(t, pingFile)
	if ws := Lint(f, now); len(ws) != 0 {
		t.Errorf("warnings: %v", ws)
	}
	s := newMemory(t)
	apply(t, s, f, now, ApplyOptions{})
	st := settings(t, s)
	if st.Ping != "https://hc-ping.com/sched" || st.PingEvery != 5*time.Minute {
		t.Errorf("settings %+v", st)
	}
	want := map[string]string{"inherits": "https://hc.example.com/ping/key/default?create=1", "own": "http://127.0.0.1:8000/ping/own", "none": ""}
	var jobs []*store.Job
	for _, id := range []string{"inherits", "own", "none"} {
		j := getJob(t, s, id)
		jobs = append(jobs, j)
		if j.Options.Ping != want[id] {
			t.Errorf("job %s pings %q, want %q", id, j.Options.Ping, want[id])
		}
	}
	out, err := Export(st, jobs)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{`ping = "https://hc-ping.com/sched"`, `ping_every = "5m"`, `ping = "http://127.0.0.1:8000/ping/own"`} {
		if !strings.Contains(string(out), "\n"+line+"\n") {
			t.Errorf("export lacks %s:\n%s", line, out)
		}
	}
	g, err := Parse("exported.toml", out)
	if err != nil {
		t.Fatalf("parsing the export: %v\n%s", err, out)
	}
	b := newMemory(t)
	apply(t, b, g, now, ApplyOptions{})
	for id := range want {
		if got, w := getJob(t, b, id).Options, getJob(t, s, id).Options; !reflect.DeepEqual(got, w) {
			t.Errorf("job %s after the round trip: %+v, want %+v", id, got, w)
		}
	}
	if got := settings(t, b); !got.Equal(st) {
		t.Errorf("settings after the round trip: %+v, want %+v", got, st)
	}
}

func TestPingErrors(t *testing.T) {
	src := `[scheduler]
ping = "hc-ping.com/abc"
ping_every = "100ms"

[job_defaults]
ping = "ftp://example.com/x"

[[job]]
id = "a"
command = "x"
every = "1h"
ping = "https://hc-ping.com/abc#frag"

[[job]]
id = "b"
command = "x"
every = "1h"
ping = 7

[[job]]
id = "c"
command = "x"
every = "1h"
ping = "https:///abc"
`
	_, err := Parse("jobs.toml", []byte(src))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := []string{
		`jobs.toml:2:1: scheduler: ping "hc-ping.com/abc": not an http or https URL`,
		`jobs.toml:3:1: scheduler: ping_every: 100ms is less than 1s`,
		`jobs.toml:6:1: job_defaults: ping "ftp://example.com/x": not an http or https URL`,
		`jobs.toml:12:1: job "a": ping "https://hc-ping.com/abc#frag": has a fragment (#frag), which is never sent`,
		`jobs.toml:18:1: job "b": ping: 7 is an integer, want a string`,
		`jobs.toml:24:1: job "c": ping "https:///abc": no host`,
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPingLint(t *testing.T) {
	f := mustParse(t, "[scheduler]\nping_every = \"5m\"\n")
	var got []string
	for _, w := range Lint(f, now) {
		got = append(got, w.Error())
	}
	if want := "jobs.toml: [scheduler] ping_every, but no ping: the scheduler pings nothing"; len(got) != 1 || got[0] != want {
		t.Errorf("warnings %q; want %q", got, want)
	}
}
