package runner

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

// A run whose scheduler was killed outright is recorded interrupted; its
// process, which lives on, counts against max instances until it ends, so
// a restarted scheduler does not start a second instance beside it.
func TestOrphanCountsAgainstMaxInstances(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("a", cron("* * * * *")))
	dead := &store.Run{JobID: "a", FireTime: t0.Add(-time.Minute), Submitted: t0.Add(-time.Minute), Outcome: store.Running, Owner: "gone:1"}
	if err := h.st.Update(t.Context(), func(tx store.Tx) error { return tx.AddRun(dead) }); err != nil {
		t.Fatal(err)
	}
	orphan := exec.Command("sleep", "60")
	orphan.Env = append(os.Environ(), runEnv(dead)...)
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { orphan.Process.Kill(); orphan.Wait() })

	h.start(Config{})
	h.wantHistory("a", "09:59:00 interrupted\n10:00:00 skipped\n")
	want := "its scheduler (gone:1) stopped while it ran; its process still runs (pid " + strconv.Itoa(orphan.Process.Pid) +
		"): counted against max instances until it ends"
	if r := h.run("a", 1); r.Reason != want {
		t.Errorf("reason %q, want %q", r.Reason, want)
	}

	orphan.Process.Kill()
	orphan.Wait()
	h.clock.Advance(orphanPoll)
	h.waitFor("the orphan to be let go", func() bool {
		h.s.mu.Lock()
		defer h.s.mu.Unlock()
		return h.s.instances["a"] == 0
	})
	h.advance(time.Minute)
	h.wantHistory("a", "09:59:00 interrupted\n10:00:00 skipped\n10:01:00 success\n")
}

// Processes are matched by their whole run: another run's processes, or a
// process whose environment says nothing of jobctl, are not orphans of it.
func TestFindOrphans(t *testing.T) {
	mine := &store.Run{JobID: "a", Seq: 7, Owner: "host:42"}
	other := &store.Run{JobID: "a", Seq: 8, Owner: "host:42"}
	p := exec.Command("sleep", "60")
	p.Env = append(os.Environ(), runEnv(mine)...)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { p.Process.Kill(); p.Wait() }()
	found, err := findOrphans([]*store.Run{mine, other})
	if err != nil {
		t.Fatal(err)
	}
	if got := found[mine]; len(got) != 1 || got[0] != p.Process.Pid {
		t.Errorf("orphans of run 7: %v, want [%d]", got, p.Process.Pid)
	}
	if got := found[other]; len(got) != 0 {
		t.Errorf("orphans of run 8: %v, want none", got)
	}
	if !strings.Contains(orphanReason(other, nil, os.ErrPermission), "cannot be known") {
		t.Error("a failed look is not said in the reason")
	}
}

// hasEnv wants every entry: one entry repeated does not stand for another.
func TestHasEnv(t *testing.T) {
	want := []string{"JOBCTL_JOB_ID=a", "JOBCTL_RUN_ID=7"}
	for env, ok := range map[string]bool{
		"PATH=/bin\x00JOBCTL_RUN_ID=7\x00JOBCTL_JOB_ID=a\x00": true,
		"JOBCTL_JOB_ID=a\x00JOBCTL_RUN_ID=8":                  false,
		"JOBCTL_JOB_ID=a\x00JOBCTL_JOB_ID=a\x00":              false,
		"":                                                    false,
	} {
		if got := hasEnv([]byte(env), want); got != ok {
			t.Errorf("hasEnv(%q) = %v, want %v", env, got, ok)
		}
	}
}
