package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The README's Embedding section shows this program, byte for byte, and
// this test runs it, so that the README cannot rot.

// TestMain runs main instead of the tests when the test binary is run as
// the program (see TestProgram).
func TestMain(m *testing.M) {
	if os.Getenv("JOBCTL_EMBEDEXAMPLE_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Embedding\n")
	if !ok {
		t.Fatal("README.md has no Embedding section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "\n```go\n")
	if !ok {
		t.Fatal("README.md's Embedding section has no ```go block")
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		t.Fatal("README.md's Embedding section: the ```go block does not end")
	}
	program, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if block+"\n" != string(program) {
		t.Errorf("README.md's Embedding program is not runner/internal/embedexample/main.go: copy it there\nREADME:\n%s", block)
	}
}

// The program prints a line each second, three times, and ends by itself.
func TestProgram(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "JOBCTL_EMBEDEXAMPLE_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v (after %s)\nstderr:\n%s", err, time.Since(start).Round(time.Millisecond), stderr.String())
	}
	if got, want := stdout.String(), "[tick] tick 1\n[tick] tick 2\n[tick] tick 3\n"; got != want {
		t.Errorf("printed %q, want %q (stderr: %q)", got, want, stderr.String())
	}
	// Three runs a second apart: the first at once.
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("ended after %s: the runs were not a second apart", d)
	}
}
