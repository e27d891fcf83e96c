package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// A job whose command is func:NAME runs the Go function of that name: its
// error is the outcome, what it writes the output, its context ends at its
// timeout; a name not configured fails the run.
func TestFunc(t *testing.T) {
	h := newHarness(t, t0)
	block := func(ctx context.Context, _ Call, _ io.Writer) error {
		<-ctx.Done()
		return ctx.Err()
	}
	funcs := map[string]Func{
		"ok": func(_ context.Context, c Call, out io.Writer) error {
			fmt.Fprintf(out, "%s run %d at %s, attempt %d\n", c.JobID, c.Run, c.FireTime.Format(time.TimeOnly), c.Attempt)
			fmt.Fprint(out, "no newline")
			return nil
		},
		"fail":  func(context.Context, Call, io.Writer) error { return errors.New("disk full") },
		"panic": func(context.Context, Call, io.Writer) error { panic("oops") },
		"slow":  block,
	}
	for _, id := range []string{"ok", "fail", "panic", "slow", "missing"} {
		j := job(id, schedule.Spec{At: t0.Format(time.RFC3339)})
		j.Command = FuncPrefix + id
		if id == "slow" {
			j.Options.Timeout = time.Minute
		}
		h.put(j)
	}
	var out syncBuffer
	h.start(Config{Funcs: funcs, Output: &out})
	h.waitFor("the slow func's timer", func() bool { return h.clock.Waiters() > 0 })
	h.clock.Advance(time.Minute)
	for _, tt := range []struct {
		id, outcome, reason, output string
	}{
		{"ok", "success", "", "ok run 1 at 10:00:00, attempt 1\nno newline"},
		{"fail", "failed", "disk full", ""},
		{"panic", "failed", "panic: oops", ""},
		{"slow", "timeout", "timed out after 1m0s", ""},
		{"missing", "failed", `cannot start: no Go function "missing" in the scheduler's Funcs`, ""},
	} {
		h.waitFor(tt.id+" to end", func() bool { return h.run(tt.id, 1).Outcome != store.Running })
		r := h.run(tt.id, 1)
		if string(r.Outcome) != tt.outcome || r.Reason != tt.reason || r.Output != tt.output || r.ExitCode != nil {
			t.Errorf("%s: %s %q, output %q, exit code %v; want %s %q, output %q", tt.id, r.Outcome, r.Reason, r.Output, r.ExitCode, tt.outcome, tt.reason, tt.output)
		}
	}
	if got, want := out.String(), "[ok] ok run 1 at 10:00:00, attempt 1\n[ok] no newline\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

// Close cancels the context of a running Func: its run is interrupted.
func TestFuncClose(t *testing.T) {
	h := newHarness(t, t0)
	j := job("a", schedule.Spec{At: t0.Format(time.RFC3339)})
	j.Command = FuncPrefix + "a"
	h.put(j)
	started := make(chan struct{})
	s := h.start(Config{Funcs: map[string]Func{"a": func(ctx context.Context, _ Call, out io.Writer) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}})
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the func did not start")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if r := h.run("a", 1); r.Outcome != store.Interrupted || !strings.Contains(r.Reason, "shut down") {
		t.Errorf("run %s %q, want interrupted", r.Outcome, r.Reason)
	}
}
