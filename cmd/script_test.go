package cmd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/jobctl/jobctl/internal/pgtest"
)

// TestMain lets the testscript scripts run jobctl in-process as a command,
// and stops the PostgreSQL server of the tests that started one.
func TestMain(m *testing.M) {
	testscript.Main(pgMain{m}, map[string]func(){
		"jobctl": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// pgMain runs the tests through pgtest.Main.
type pgMain struct{ m *testing.M }

func (p pgMain) Run() int { return pgtest.Main(p.m) }

// TestScripts runs the end-to-end scripts in testdata/script against the
// real command and a real bbolt file in each script's work directory.
func TestScripts(t *testing.T) {
	testdata, err := filepath.Abs("../testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "../testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("JOBCTL_DB", env.WorkDir+"/jobs.db")
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"status": status},
		Condition: func(cond string) (bool, error) {
			if cond == "privategroup" {
				return privateGroupPremise()
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
