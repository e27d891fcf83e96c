package jobfile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestStores: a [stores.NAME] url is a file path, made absolute against the
// jobfile's directory, or a URL kept as written; a job goes in the store it
// names, else in the default one.
func TestStores(t *testing.T) {
	dir := t.TempDir()
	f, err := Parse(filepath.Join(dir, "jobs.toml"), []byte(`
[stores.default]
url = "main.db"

[stores.reports]
url = "postgres://jobs@db.example/reports"

[stores.archive]
url = "/srv/archive.db"

[[job]]
id = "a"
command = "true"
every = "1h"

[[job]]
id = "b"
command = "true"
every = "1h"
store = "reports"

[[job]]
id = "c"
command = "true"
every = "1h"
store = "default"
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Store{
		{Name: "archive", URL: "/srv/archive.db", Pos: Position{9, 1}},
		{Name: "default", URL: filepath.Join(dir, "main.db"), Pos: Position{3, 1}},
		{Name: "reports", URL: "postgres://jobs@db.example/reports", Pos: Position{6, 1}},
	}
	if !reflect.DeepEqual(f.Stores, want) {
		t.Errorf("stores:\n%+v\nwant\n%+v", f.Stores, want)
	}
	var got []string
	for _, j := range f.Jobs {
		got = append(got, j.ID+":"+j.Store)
	}
	if s := strings.Join(got, " "); s != "a:default b:reports c:default" {
		t.Errorf("jobs' stores: %s", s)
	}
	if s, ok := f.Store("reports"); !ok || s.Name != "reports" {
		t.Errorf("Store(reports) = %+v, %v", s, ok)
	}
	if _, ok := f.Store("nope"); ok {
		t.Error("Store(nope) found")
	}
}

// TestStoreErrors: every mistake in [stores] or a job's store is reported
// with its line, the key and the bad value.
func TestStoreErrors(t *testing.T) {
	src := `[stores.a]
url = ""

[stores.b]
path = "b.db"

[stores."c d"]
url = "c.db"

[stores.e]
url = 5

[stores]
f = "f.db"

[[job]]
id = "x"
command = "true"
every = "1h"
store = "reports"

[[job]]
id = "y"
command = "true"
every = "1h"
store = 1
`
	_, err := Parse("jobs.toml", []byte(src))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := []string{
		`jobs.toml:2:1: stores.a: url: empty (want a database file path or a postgres:// URL)`,
		`jobs.toml:4:1: stores.b: no url (want a database file path or a postgres:// URL)`,
		`jobs.toml:5:1: unknown key "path" in stores.b (want one of url)`,
		`jobs.toml:7:1: stores: store name "c d" contains ' ' (want no whitespace, slash or control characters)`,
		`jobs.toml:11:1: stores.e: url: 5 is an integer, want a string`,
		`jobs.toml:14:1: stores.f: "f.db" is a string, want a table`,
		`jobs.toml:20:1: job "x": store: "reports" is not defined (want default or the name of a [stores.NAME] table)`,
		`jobs.toml:26:1: job "y": store: 1 is an integer, want a string`,
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A store named twice is two tables of one name: TOML refuses it, at
	// the second.
	_, err = Parse("jobs.toml", []byte("[stores.a]\nurl = \"a.db\"\n\n[stores.a]\nurl = \"b.db\"\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "jobs.toml:4:") || !strings.Contains(err.Error(), "stores.a") {
		t.Errorf("a store named twice: %v, want an error at line 4 naming stores.a", err)
	}
}

// TestStoreRelativeToStdin: read from standard input, a jobfile's
// relative store paths are read from the working directory, as its dirs.
func TestStoreRelativeToStdin(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	f := mustParse(t, "[stores.r]\nurl = \"r.db\"\n")
	if f.Stores[0].URL != filepath.Join(wd, "r.db") {
		t.Errorf("url %q, want %q", f.Stores[0].URL, filepath.Join(wd, "r.db"))
	}
}

// TestApplyStore: Apply applies only the jobs of the store it is told of;
// a stored job the file puts in another store is removed (it moved), with
// or without Prune; Prune removes only the jobs of this store that the file
// does not name.
func TestApplyStore(t *testing.T) {
	f := mustParse(t, `
[stores.reports]
url = "reports.db"

[[job]]
id = "a"
command = "true"
every = "1h"

[[job]]
id = "b"
command = "true"
every = "1h"
store = "reports"
`)
	main, reports := newMemory(t), newMemory(t)
	// b used to be in the default store, and old in both.
	old := mustParse(t, "[[job]]\nid = \"b\"\ncommand = \"true\"\nevery = \"1h\"\n\n[[job]]\nid = \"old\"\ncommand = \"true\"\nevery = \"1h\"\n")
	apply(t, main, old, now, ApplyOptions{})
	apply(t, reports, old, now, ApplyOptions{Store: DefaultStore})

	if r := report(apply(t, main, f, now, ApplyOptions{})); r != "added a; changed ; removed b; unchanged ; finished " {
		t.Errorf("default store: %s", r)
	}
	if r := report(apply(t, reports, f, now, ApplyOptions{Store: "reports", Prune: true})); r != "added ; changed ; removed old; unchanged b; finished " {
		t.Errorf("reports, pruned: %s", r)
	}
	if got := changes(t, main); got != "job_added b, job_added old, job_added a, job_removed b" {
		t.Errorf("default store's changes: %s", got)
	}
}
