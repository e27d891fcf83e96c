package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/store"
)

// TestLoggerTimestamps: the scheduler's log leaves the time out only when
// it goes to the journal, which adds its own: when $JOURNAL_STREAM names
// the very stream the log is written to. A file (2>sched.log, nohup)
// keeps its timestamps, even from a process that inherited the variable.
func TestLoggerTimestamps(t *testing.T) {
	dir := t.TempDir()
	open := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	journal := open("journal")
	fi, err := journal.Stat()
	if err != nil {
		t.Fatal(err)
	}
	dev, ino, ok := fileID(fi)
	if !ok {
		t.Skip("no device and inode numbers here")
	}
	journalStream := fmt.Sprintf("%d:%d", dev, ino)
	for _, tt := range []struct {
		name string
		to   *os.File
		env  string
		time bool
	}{
		{"no journal", open("a.log"), "", true},
		{"the journal", journal, journalStream, false},
		{"a file, the journal's variable inherited", open("b.log"), journalStream, true},
		{"not DEV:INO", open("c.log"), "journal", true},
	} {
		log, err := (&runOptions{logFormat: "text", logLevel: "info"}).logger(tt.to, tt.env)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("hello")
		b, err := os.ReadFile(tt.to.Name())
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.HasPrefix(string(b), "time="); got != tt.time {
			t.Errorf("%s (JOURNAL_STREAM=%q): %q; want the time: %v", tt.name, tt.env, b, tt.time)
		}
	}
}

// TestRunHelpEnvironment: every variable a listener gets is documented in
// jobctl run --help, where a user looks for them; the runner is their
// owner.
func TestRunHelpEnvironment(t *testing.T) {
	code := 1
	full := runner.Event{Name: store.EventJobError, JobID: "j", Run: &store.Run{Seq: 1, Outcome: store.Failed,
		ExitCode: &code, Signal: "SIGKILL", Reason: "killed"}}
	help := newRunCmd(NewFactory(Streams{})).Long
	for _, kv := range full.Env() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.Contains(help, "  "+name+" ") {
			t.Errorf("jobctl run --help does not document %s", name)
		}
	}
}

// TestRunInProcess: jobctl run works on its Factory's streams alone: the
// jobfile from its stdin, the jobs' output to its stdout and the log to its
// stderr; and --memory stores nothing.
func TestRunInProcess(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "jobs.db")
	var out, errOut strings.Builder
	f := NewFactory(Streams{
		In:  strings.NewReader("[[job]]\nid = \"hello\"\ncommand = \"echo hello\"\nat = \"now\"\n"),
		Out: &out, Err: &errOut,
	})
	root := NewRoot(f)
	root.SetArgs([]string{"--db", db, "run", "-f", "-", "--memory", "--once", "--log-format", "json"})
	done := make(chan error, 1)
	go func() { done <- root.Execute() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("jobctl run: %v\n%s", err, errOut.String())
		}
	case <-time.After(bound):
		// Its streams are still written to: not read here.
		t.Fatalf("jobctl run --once still running after %v", bound)
	}
	if out.String() != "[hello] hello\n" {
		t.Errorf("stdout %q, want the job's output", out.String())
	}
	for _, want := range []string{`"msg":"jobfile applied","file":"stdin","added":1`, `"msg":"scheduler shut down"`} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("the log does not say %s:\n%s", want, errOut.String())
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("--memory left files: %v (%v)", entries, err)
	}
}

// TestRunStoresInProcess: a jobfile naming two stores runs both, in one
// process, their jobs' output to one stream, their logs tagged with their
// stores; and --memory stores nothing in either.
func TestRunStoresInProcess(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // the jobfile comes from stdin: its relative store paths are read here
	var out, errOut strings.Builder
	jobs := `[stores.reports]
url = "reports.db"

[[job]]
id = "a"
command = "echo a"
at = "now"

[[job]]
id = "b"
command = "echo b"
at = "now"
store = "reports"
`
	root := NewRoot(NewFactory(Streams{In: strings.NewReader(jobs), Out: &out, Err: &errOut}))
	root.SetArgs([]string{"--db", filepath.Join(dir, "jobs.db"), "run", "-f", "-", "--memory", "--once"})
	done := make(chan error, 1)
	go func() { done <- root.Execute() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("jobctl run: %v\n%s", err, errOut.String())
		}
	case <-time.After(bound):
		t.Fatalf("jobctl run --once still running after %v", bound)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	slices.Sort(lines)
	if !slices.Equal(lines, []string{"[a] a", "[b] b"}) {
		t.Errorf("stdout %q, want the output of a job of each store", out.String())
	}
	for _, want := range []string{`msg="scheduler shut down" store=default`, `msg="scheduler shut down" store=reports`} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("the log does not say %s:\n%s", want, errOut.String())
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("--memory left files: %v (%v)", entries, err)
	}
}
