package cmd

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store/view"
)

// TestFactory: a command tree works with what its Factory gives it and
// nothing else: its clock, its streams and its own --db, whatever other
// trees are built meanwhile.
func TestFactory(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("JOBCTL_DB", filepath.Join(dir, "env.db"))
	clock := time.Date(2031, 5, 4, 3, 2, 1, 0, time.UTC)
	exec := func(f *Factory, args ...string) (stdout, stderr string) {
		t.Helper()
		var out, errOut strings.Builder
		f.IO = Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}
		root := NewRoot(f)
		// Another tree, built between this one's and its run, binds its
		// own --db.
		NewRoot(NewFactory(Streams{}))
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("jobctl %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	f := &Factory{Now: func() time.Time { return clock }, DB: &database{}}
	db := filepath.Join(dir, "a.db")
	id, status := exec(f, "--db", db, "add", "--id", "x", "--every", "1h", "--tz", "UTC", "--", "true")
	if id != "x\n" || !strings.Contains(status, "added job x") {
		t.Errorf("add: stdout %q, stderr %q", id, status)
	}
	if f.DB.path != db {
		t.Errorf("the factory's database is %q, want %q", f.DB.path, db)
	}
	// A Factory that leaves out what it need not give (as one built
	// outside the package must leave out DB) works as NewFactory's.
	out, _ := exec(&Factory{}, "--db", db, "show", "x", "-o", "json")
	var j view.Job
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("show -o json: %v\n%s", err, out)
	}
	if deref(j.Created) != "2031-05-04T03:02:01Z" || deref(j.NextRunTime) != "2031-05-04T04:02:01Z" {
		t.Errorf("created %s, next run %s: want the factory's clock, 2031-05-04T03:02:01Z, and an hour later",
			deref(j.Created), deref(j.NextRunTime))
	}
	if _, err := os.Stat(filepath.Join(dir, "env.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("$JOBCTL_DB was used despite --db (%v)", err)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
