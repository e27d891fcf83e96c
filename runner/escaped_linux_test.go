package runner

import (
	"log/slog"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

// A process that leaves the job's process group (setsid) and keeps the
// output pipe open is out of reach of the group's signals: once the
// command has exited and its group is gone (at once, or once what it left
// in the group has ended on SIGTERM), the run ends after the drain, not the
// kill grace, says why in its reason, and keeps none of the output written
// after it ended.
func TestEscapedWriter(t *testing.T) {
	readProc(t)
	const grace = 5 * time.Second // far beyond drainWait, to tell them apart
	// The escaped shell writes a line well after the command has ended,
	// though within the kill grace.
	const escape = `setsid sh -c 'sleep 1.5; echo late; exec sleep 1000.123' & `
	for i, command := range []string{
		`echo $$; ` + escape + `sleep 0.3; echo started`,
		`echo $$; ` + escape + `sleep 30 & sleep 0.3; echo started`,
	} {
		t.Run(command, func(t *testing.T) {
			owner := "escaped-test-" + strconv.Itoa(i)
			// Whatever the run leaves behind is found by its environment,
			// and killed, however the test ends.
			t.Cleanup(func() {
				found, _ := findOrphans([]*store.Run{{JobID: "escaped", Seq: 1, Owner: owner}})
				for _, pids := range found {
					for _, pid := range pids {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			})
			var logs syncBuffer
			cfg := Config{KillGrace: grace, Owner: owner, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			l := startLive(t, cfg, cmdJob("escaped", command))
			r := l.next()
			held := time.Since(r.Ended)
			found, err := findOrphans([]*store.Run{r})
			if err != nil {
				t.Fatal(err)
			}
			l.shutdown(true)

			if held > grace/2 {
				t.Errorf("the run was recorded %s after it ended: held for the kill grace of %s", held.Round(time.Millisecond), grace)
			}
			if r.Outcome != store.Success || r.ExitCode == nil || *r.ExitCode != 0 || r.Reason != escapedNote {
				t.Errorf("outcome %s, reason %q; want success with exit status 0, %q", r.Outcome, r.Reason, escapedNote)
			}
			pgid := firstLinePID(t, r.Output)
			if want := strconv.Itoa(pgid) + "\nstarted\n"; r.Output != want {
				t.Errorf("output %q, want %q: only what came before the run ended", r.Output, want)
			}
			if alive := groupAlive(t, pgid); len(alive) > 0 {
				t.Errorf("processes left behind in the group: %q", alive)
			}
			if len(found[r]) == 0 {
				t.Error("the escaped process is not running: it was to be left alone")
			}
			if got := logs.String(); !strings.Contains(got, "level=WARN msg=\""+escapedNote+"\" job=escaped run=1") {
				t.Errorf("log %q: no warning naming the job and run", got)
			}
		})
	}
}
