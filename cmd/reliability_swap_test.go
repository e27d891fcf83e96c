//go:build linux

package cmd

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

// testDatabaseSwapped: the files under a running scheduler changed by hand.
// Its database moved away, then put back; replaced by another database;
// its lock file removed; the file made writable by everyone, and another
// user adding a job. The scheduler says what happened, creates nothing,
// runs nothing from a file that is not its own or not private, lets no
// second scheduler start, and once its file is back records the run that
// ended meanwhile and goes on.
func testDatabaseSwapped(t *testing.T, c *cli) {
	for _, d := range []string{filepath.Dir(c.dir), c.dir} { // for another user to reach the file
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c.ok("add", "--id", "tick", "--every", "1s", "--", "echo tick >>ticks")
	c.ok("add", "--id", "slow", "--at", "now", "--", "sleep 1")
	s := c.start()
	c.waitFor("the slow run to start", func() bool {
		runs := c.runs("slow")
		return len(runs) == 1 && runs[0].Outcome == store.Running
	})
	slowStarted := time.Now()
	logSays := func(what string) func() bool {
		return func() bool { return strings.Contains(s.stderr(), what) }
	}
	// ticks counts the tick job's runs by their side effect: the database
	// may not be read meanwhile.
	ticks := func() int {
		b, _ := os.ReadFile(filepath.Join(c.dir, "ticks"))
		return strings.Count(string(b), "tick")
	}
	// idle checks that no tick starts for a while (one planned ahead of
	// the fault may start at its fire time).
	idle := func(why string) {
		t.Helper()
		time.Sleep(300 * time.Millisecond)
		n := ticks()
		time.Sleep(1500 * time.Millisecond)
		if m := ticks(); m != n {
			t.Errorf("%s: %d runs started meanwhile", why, m-n)
		}
	}
	resumed := func(what string) time.Duration {
		t.Helper()
		back, n := time.Now(), ticks()
		c.waitFor(what, func() bool { return ticks() > n })
		return time.Since(back)
	}

	// Moved away while the slow run goes on, then put back.
	away := filepath.Join(c.dir, "away.db")
	moved := time.Now()
	if err := os.Rename(c.db, away); err != nil {
		t.Fatal(err)
	}
	c.waitFor("the scheduler to say its database is gone", logSays(c.db+": is gone"))
	figure(t, "files: a moved database noticed in", "%v", time.Since(moved).Round(time.Millisecond))
	idle("database gone")
	if time.Since(slowStarted) < 1500*time.Millisecond {
		t.Fatal("the slow run did not end while the database was gone: the test is too slow to test that")
	}
	if _, err := os.Stat(c.db); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a database was created in the moved one's place: %v", err)
	}
	if err := os.Rename(away, c.db); err != nil {
		t.Fatal(err)
	}
	figure(t, "files: runs again after the database came back in", "%v", resumed("ticks once the database is back").Round(time.Millisecond))
	c.waitFor("the slow run, ended while the database was gone, to be recorded", func() bool {
		r := c.runs("slow")[0]
		return r.Outcome == store.Success
	})

	// Replaced by another database, whose job must not run.
	other := filepath.Join(c.dir, "other.db")
	if r := c.run("--db", other, "add", "--id", "other", "--every", "1s", "--", "touch other.ran"); r.code != 0 {
		t.Fatal(r)
	}
	if err := os.Rename(c.db, away); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, c.db); err != nil {
		t.Fatal(err)
	}
	c.waitFor("the scheduler to say its database was replaced", logSays(c.db+": is another database now"))
	idle("another database")
	if _, err := os.Stat(filepath.Join(c.dir, "other.ran")); err == nil {
		t.Error("the scheduler ran a job of the database put in place of its own")
	}
	if err := os.Rename(c.db, other); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(away, c.db); err != nil {
		t.Fatal(err)
	}
	resumed("ticks once its own database is back")

	// The lock file removed: still one scheduler.
	if err := os.Remove(c.db + ".lock"); err != nil {
		t.Fatal(err)
	}
	failsCleanly(t, "a second scheduler, the lock file removed", c.run("run", "--once"), ExitFailure,
		"another scheduler is running on "+c.db, "lock file was removed")
	if out := c.ok("scheduler", "status"); !strings.Contains(out, "yes") {
		t.Errorf("scheduler status, the lock file removed:\n%s", out)
	}

	// Made writable by everyone, and another user adds a job.
	if err := os.Chmod(c.db, 0o666); err != nil {
		t.Fatal(err)
	}
	add := c.command("add", "--id", "intruder", "--every", "1s", "--", "touch intruder.ran")
	if os.Getuid() == 0 {
		runAs(add, nobody)
	}
	if r := c.wait(add); r.code != 0 {
		t.Fatal(r)
	}
	defer func() { t.Log(s.stderr()) }()
	c.waitFor("the scheduler to refuse the file", logSays(c.db+" is writable by its group and everyone (mode -rw-rw-rw-): fix it with: chmod go-w "+c.db))
	idle("the file writable by everyone")
	if _, err := os.Stat(filepath.Join(c.dir, "intruder.ran")); err == nil {
		t.Error("the scheduler ran a job of a file writable by everyone")
	}
	c.ok("remove", "intruder")
	if err := os.Chmod(c.db, 0o600); err != nil {
		t.Fatal(err)
	}
	resumed("ticks once the file is private again")
	s.stop()
}
