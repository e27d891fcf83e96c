package runner

import (
	"context"
	"io"
	"testing"

	"github.com/jobctl/jobctl/store"
)

// A run is told which attempt at its fire time it is, in JOBCTL_ATTEMPT
// (its command's and its listeners') or Call.Attempt (a Func's): 1 for
// the runs the scheduler makes of a fire time, the run's Attempt for a
// later one.
func TestRunAttempt(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("a", cron("*/5 * * * *")))
	f := job("f", cron("*/5 * * * *"))
	f.Command = FuncPrefix + "f"
	h.put(f)
	calls := make(chan Call, 2)
	h.start(Config{Funcs: map[string]Func{"f": func(_ context.Context, c Call, _ io.Writer) error {
		calls <- c
		return nil
	}}})
	h.wantHistory("a", "10:00:00 success\n")
	if got := h.env("a", "JOBCTL_ATTEMPT"); got != "1" {
		t.Errorf("first run: JOBCTL_ATTEMPT=%q, want 1", got)
	}
	if c := recv(t, calls, "the first call of f"); c.Attempt != 1 {
		t.Errorf("first call: Attempt %d, want 1", c.Attempt)
	}

	// A second attempt at the fire time, as a survivor of the scheduler
	// that ran the first makes it.
	for _, id := range []string{"a", "f"} {
		r := &store.Run{JobID: id, Seq: 2, FireTime: t0, Attempt: 2, Owner: "test"}
		e := h.s.runOne(&instance{job: h.getJob(id), launched: true}, r, context.Background())
		if got := envValue(e.Env(), "JOBCTL_ATTEMPT"); got != "2" {
			t.Errorf("%s: its event's JOBCTL_ATTEMPT=%q, want 2", id, got)
		}
	}
	if got := h.env("a", "JOBCTL_ATTEMPT"); got != "2" {
		t.Errorf("second attempt: JOBCTL_ATTEMPT=%q, want 2", got)
	}
	if c := recv(t, calls, "the second call of f"); c.Attempt != 2 {
		t.Errorf("second call: Attempt %d, want 2", c.Attempt)
	}
}
