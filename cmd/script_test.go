package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/postgres"
)

// TestMain lets the testscript scripts run jobctl in-process as a command,
// and removes the PostgreSQL test cluster once the tests are done.
func TestMain(m *testing.M) {
	testscript.Main(withPostgres{m}, map[string]func(){
		"jobctl": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// withPostgres runs the tests, then stops the cluster pgtest started for
// them, if any. testscript.Main exits the process itself, after m.Run:
// the cleanup has to be part of Run, or the cluster would outlive us.
type withPostgres struct{ m *testing.M }

func (w withPostgres) Run() int { return pgtest.Main(w.m) }

// TestScripts runs the end-to-end scripts in testdata/script against the
// real command and a real bbolt file in each script's work directory.
func TestScripts(t *testing.T) {
	runScripts(t, false)
}

// TestScriptsPostgres runs the same scripts with $JOBCTL_DB a new
// PostgreSQL database of their own; [postgres] is true there, and the
// scripts about files skip (or skip their parts about files) on it.
func TestScriptsPostgres(t *testing.T) {
	// Once here, rather than once per script, when there is no PostgreSQL:
	// NewDB skips the test (fails it under CI=true).
	pgtest.NewDB(t)
	runScripts(t, true)
}

func runScripts(t *testing.T, onPostgres bool) {
	testdata, err := filepath.Abs("../testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "../testdata/script",
		Setup: func(env *testscript.Env) error {
			db := env.WorkDir + "/jobs.db"
			if onPostgres {
				tb, ok := env.T().(testing.TB)
				if !ok {
					return fmt.Errorf("testscript gave a %T, not a testing.TB, for pgtest.NewDB", env.T())
				}
				db = pgtest.NewDB(tb)
			}
			env.Setenv("JOBCTL_DB", db)
			// Scripts read the checked-in samples (crontabs, jobfiles)
			// from $TESTDATA rather than keeping copies of their own.
			env.Setenv("TESTDATA", testdata)
			env.Setenv("TZ", "UTC")
			env.Setenv("NO_COLOR", "1")
			// The race detector sleeps a second at exit by default: every
			// command of every script would pay it.
			env.Setenv("GORACE", "atexit_sleep_ms=0")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"status": status, "pgjoin": pgjoin, "pingserver": pingserver, "waitdash": waitdash, "httpget": httpget},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "privategroup":
				return privateGroupPremise()
			case "postgres":
				return onPostgres, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

// status N PROG ARGS... runs PROG as exec does and checks that it exits
// with status N: scripts pin the documented exit codes (1 failure, 2 bad
// input) with it.
func status(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// TestReadmeFirstCommands: the README starts with the two commands a
// newcomer runs, the demo and the tests, and the demo is the command that
// testdata/script/readme_demo.txtar runs (with jobctl for go run .).
func TestReadmeFirstCommands(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(readme), "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	lines := strings.Split(block, "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "go test -race ./... ") {
		t.Fatalf("the README's first commands are not the demo and go test -race ./...:\n%s", block)
	}
	demo, _, _ := strings.Cut(lines[0], "#")
	args, ok := strings.CutPrefix(strings.TrimSpace(demo), "go run . ")
	if !ok {
		t.Fatalf("the README's first command is not go run . ...: %s", lines[0])
	}
	script, err := os.ReadFile("../testdata/script/readme_demo.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "exec jobctl "+args+" ") {
		t.Errorf("readme_demo.txtar does not run the README's first command, jobctl %s", args)
	}
}

// privateGroupPremise reports whether the files the scripts create belong to
// a private group of the test's user: its primary group, named as the user,
// with no other member in /etc/group nor by primary group in /etc/passwd.
// It reads the files itself, to check the premise rather than trust the
// code under test. In CI (CI=true), which runs as root, whose group root has
// no other member, a missing premise is an error, not a skip that would
// leave the case untested unnoticed.
func privateGroupPremise() (bool, error) {
	u, err := user.Current()
	if err != nil {
		return false, err
	}
	gid := strconv.Itoa(os.Getegid())
	private := u.Gid == gid
	if g, err := user.LookupGroupId(gid); err != nil || g.Name != u.Username {
		private = false
	}
	for _, file := range []string{"/etc/group", "/etc/passwd"} {
		b, err := os.ReadFile(file)
		if err != nil {
			return false, err
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Split(strings.TrimSpace(line), ":")
			switch {
			case file == "/etc/group" && len(f) == 4 && f[2] == gid:
				for _, m := range strings.Split(f[3], ",") {
					private = private && (m == "" || m == u.Username)
				}
			case file == "/etc/passwd" && len(f) == 7 && f[3] == gid:
				private = private && f[0] == u.Username
			}
		}
	}
	if !private && os.Getenv("CI") == "true" {
		return false, fmt.Errorf("CI=true, but group %s of user %s is not a private group: the scripts that need one cannot run", gid, u.Username)
	}
	return private, nil
}

// pgjoin ID LEASE [JOB] registers scheduler ID in the fleet on the
// PostgreSQL $JOBCTL_DB, with a lease of LEASE from now (0s: one that has
// ended), as a jobctl run of a fleet does: scripts show a fleet without
// running one. Given JOB, ID also claims a run of JOB at now, which it
// then has in progress.
func pgjoin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: pgjoin ID LEASE [JOB]")
	}
	lease, err := time.ParseDuration(args[1])
	ts.Check(err)
	ctx := context.Background()
	db, err := postgres.Open(ctx, ts.Getenv("JOBCTL_DB"))
	ts.Check(err)
	defer db.Close()
	ts.Check(db.Update(ctx, func(tx store.Tx) error {
		ftx, ok := tx.(store.FleetTx)
		if !ok {
			return fmt.Errorf("pgjoin: a %T is no fleet's transaction", tx)
		}
		if err := ftx.Join(store.Member{ID: args[0], Host: "testhost", PID: 4242, Version: "test"}, lease); err != nil || len(args) < 3 {
			return err
		}
		now, err := ftx.Now()
		if err != nil {
			return err
		}
		return tx.AddRun(&store.Run{JobID: args[2], FireTime: now, Submitted: now, Outcome: store.Running, Owner: args[0]})
	}))
}

// pingserver VAR starts a run monitor for the rest of the script, at the
// URL it sets $VAR to, which records each request it gets in $WORK/VAR.log:
// a line "METHOD PATH?QUERY", then the lines of the body, each after "> ".
// It answers 200, and 500 to a path ending in /flaky the first time.
func pingserver(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pingserver VAR")
	}
	logPath := ts.MkAbs(args[0] + ".log")
	ts.Check(os.WriteFile(logPath, nil, 0o644))
	var mu sync.Mutex
	flaked := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.RequestURI())
		for line := range strings.Lines(string(body)) {
			b.WriteString("> " + strings.TrimSuffix(line, "\n") + "\n")
		}
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString(b.String())
			f.Close()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/flaky") && !flaked[r.URL.Path] {
			flaked[r.URL.Path] = true
			http.Error(w, "try again", http.StatusInternalServerError)
		}
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}
