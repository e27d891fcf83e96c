package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/internal/pgtest"
)

// TestStoresPostgres: a jobfile's store may be a PostgreSQL database, run
// by jobctl run -f beside a database file, and named by --store: each job
// runs from its own store and is recorded there.
func TestStoresPostgres(t *testing.T) {
	url := pgtest.NewDB(t)
	dir := t.TempDir()
	jobs := filepath.Join(dir, "jobs.toml")
	src := fmt.Sprintf(`[stores.fleet]
url = %q

[[job]]
id = "on-file"
command = 'echo "in $JOBCTL_STORE"'
every = "1h"
start = "now"

[[job]]
id = "on-pg"
command = 'echo "in $JOBCTL_STORE"'
every = "1h"
start = "now"
store = "fleet"
`, url)
	if err := os.WriteFile(jobs, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOBCTL_DB", filepath.Join(dir, "jobs.db"))
	t.Setenv(jobfileVar, "")
	jobctl := func(args ...string) string {
		t.Helper()
		var out, errOut strings.Builder
		root := NewRoot(NewFactory(Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}))
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("jobctl %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		return out.String()
	}

	out := jobctl("run", "-f", jobs, "--once")
	for _, want := range []string{"[on-file] in default\n", "[on-pg] in fleet\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("jobctl run: stdout %q, want %q", out, want)
		}
	}
	t.Setenv(jobfileVar, jobs)
	if h := jobctl("--store", "fleet", "history"); !strings.Contains(h, "on-pg") || strings.Contains(h, "on-file") {
		t.Errorf("the PostgreSQL store's history:\n%s\nwant on-pg's run alone", h)
	}
	if h := jobctl("history"); !strings.Contains(h, "on-file") || strings.Contains(h, "on-pg") {
		t.Errorf("the file's history:\n%s\nwant on-file's run alone", h)
	}
	if l := jobctl("list"); !strings.Contains(l, "fleet ") || !strings.Contains(l, "on-pg") {
		t.Errorf("list:\n%s\nwant the jobs of both stores", l)
	}
}
