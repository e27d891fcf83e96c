//go:build linux

package cmd

// The reliability suite's tests of file systems that fail: a disk that
// fills under a running scheduler, and a read-only one under scheduler
// status (issue 14, items 4 and 5). They mount a tmpfs or a read-only view
// (internal/mounttest), which needs root: elsewhere they are skipped.

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/mounttest"
	"github.com/jobctl/jobctl/store"
)

// testDiskFull: the database's disk fills under a running scheduler. It
// keeps trying, and scheduler status says since when and how the store
// fails, through a read-only mount too (status writes nothing). Once space
// is freed it resumes within a second or two: it used to wait up to 30s,
// its delay doubled by every wake-up. Then status shows no error.
func testDiskFull(t *testing.T, c *cli) {
	dir := mounttest.Tmpfs(t, 2<<20)
	c.db = filepath.Join(dir, "jobs.db")
	c.ok("add", "--id", "tick", "--cron", "* * * * * *", "--", "true")
	s := c.start()
	c.waitFor("a run", func() bool { return len(c.runs("tick")) > 0 })
	free := mounttest.Fill(t, filepath.Join(dir, "fill"))
	// After its retries 1s, 2s and 4s after the disk filled, it waits 8s.
	c.waitFor("the scheduler to wait 8s to try again", func() bool { return strings.Contains(s.stderr(), " in=8s") })

	out := c.ok("scheduler", "status")
	for _, want := range []string{"Running:          yes (pid ", "\nStore error:      failing since ", "no space left on device\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("scheduler status does not say %q:\n%s", want, out)
		}
	}
	var st statusJSON
	ro := filepath.Join(mounttest.ReadOnly(t, dir), "jobs.db")
	if err := json.Unmarshal([]byte(c.ok("--db", ro, "scheduler", "status", "-o", "json")), &st); err != nil {
		t.Fatal(err)
	}
	if e := st.StoreError; !st.Running || e == nil || e.Since == nil || e.Last == nil || !strings.HasSuffix(e.Error, "no space left on device") {
		t.Errorf("scheduler status -o json through a read-only mount: running %v, store error %+v", st.Running, e)
	}

	freed := time.Now()
	free()
	c.waitFor("a run fired after the disk was freed to be recorded", func() bool {
		for _, r := range c.runs("tick") {
			if r.FireTime.After(freed) && r.Outcome == store.Success {
				return true
			}
		}
		return false
	})
	// Its fire time is within a second of the retry, and it ran at once.
	if took := time.Since(freed); took > 5*time.Second {
		t.Errorf("the scheduler resumed %v after the disk was freed, want a second or two\n%s", took.Round(time.Millisecond), s.stderr())
	}
	figure(t, "disk full: resumed after space was freed", "%v", time.Since(freed).Round(time.Millisecond))
	if out := c.ok("scheduler", "status"); strings.Contains(out, "Store error") {
		t.Errorf("scheduler status once the store works again:\n%s", out)
	}
	s.stop()
}

// testDiskFullShutdown: stopped while its disk is full and a run that ended
// waits to be recorded, the scheduler says what it waits for (it used to
// wait in silence); once space is freed it records the run and exits 0.
func testDiskFullShutdown(t *testing.T, c *cli) {
	dir := mounttest.Tmpfs(t, 2<<20)
	c.db = filepath.Join(dir, "jobs.db")
	c.ok("add", "--id", "slow", "--", "sleep 2")
	s := c.start()
	c.waitFor("the run to start", func() bool { return len(c.runs("slow")) == 1 })
	free := mounttest.Fill(t, filepath.Join(dir, "fill"))
	c.waitFor("its record to be refused", func() bool { return strings.Contains(s.stderr(), `msg="cannot record runs; trying again" runs=1`) })
	s.cmd.Process.Signal(syscall.SIGTERM)
	c.waitFor("the shutdown to say what it waits for", func() bool {
		return strings.Contains(s.stderr(), `msg="shutting down: runs could not be recorded yet; trying again until the store takes them, or until the shutdown gives up on them" runs=1`)
	})
	free()
	if err, _ := waitBounded(s.cmd); err != nil {
		t.Fatalf("jobctl run, once the disk was freed: %v\n%s", err, s.stderr())
	}
	if r := c.runs("slow"); len(r) != 1 || r[0].Outcome != store.Success {
		t.Errorf("the run recorded at the shutdown: %+v", r)
	}
}

// testReadOnlyStatus: scheduler status answers through a read-only mount
// of the database's directory while a scheduler runs: it writes nothing,
// not even to the lock file (issue 14, item 5).
func testReadOnlyStatus(t *testing.T, c *cli) {
	ro := filepath.Join(mounttest.ReadOnly(t, c.dir), "jobs.db")
	if out := c.ok("--db", ro, "scheduler", "status"); !strings.Contains(out, "Running:          no\n") {
		t.Errorf("scheduler status before any scheduler ran:\n%s", out)
	}
	c.ok("add", "--id", "hourly", "--cron", "0 * * * *", "--", "true")
	s := c.start()
	c.waitFor("the scheduler to start", func() bool { return strings.Contains(s.stderr(), "scheduler started") })
	out := c.ok("--db", ro, "scheduler", "status")
	for _, want := range []string{"Running:          yes (pid ", "Jobs:             1 active"} {
		if !strings.Contains(out, want) {
			t.Errorf("scheduler status through a read-only mount does not say %q:\n%s", want, out)
		}
	}
	s.stop()
}
