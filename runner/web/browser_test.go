package web

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/memory"
)

var update = flag.Bool("update", false, "write the dashboard's screenshot to testdata/dashboard.png, which README.md shows")

// screenshotPath is the README's picture of the dashboard.
const screenshotPath = "../../testdata/dashboard.png"

// liveScheduler is a real scheduler on a memory store with jobs that fire
// every second or two, a board it pokes and a real server on a loopback
// port: what jobctl run --http runs.
type liveScheduler struct {
	st    store.Store
	sched *runner.Scheduler
	url   string
}

func startLive(t *testing.T) *liveScheduler {
	t.Helper()
	st, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	err = st.Update(t.Context(), func(tx store.Tx) error {
		for _, j := range []struct {
			id, cmd string
			spec    schedule.Spec
			name    string
		}{
			{"backup", "echo backing up /srv; sleep 0.4; echo done", schedule.Spec{Every: "2s"}, "Nightly backup of /srv"},
			{"report", "echo 'report: 3 pages'; echo 'smtp: connection refused' >&2; exit 3", schedule.Spec{Every: "3s"}, ""},
			{"slow-sync", "sleep 1.6", schedule.Spec{Every: "1s"}, "Sync that outlasts its interval"},
			{"ondemand", "echo asked for", schedule.Spec{Cron: "0 3 1 1 *"}, "Run with run-now"},
			{"rotate-logs", "true", schedule.Spec{Cron: "30 2 * * *"}, ""},
		} {
			j.spec.Timezone = "UTC"
			job, err := store.NewJob(j.id, j.cmd, j.spec, store.DefaultOptions(), now)
			if err != nil {
				return err
			}
			job.Name = j.name
			if err := tx.PutJob(job); err != nil {
				return err
			}
		}
		return seedHistory(tx, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler) // the jobs fail and are skipped on purpose
	b := board.New(board.Config{Store: st, Logger: log})
	sched, err := runner.New(runner.Config{Store: st, Logger: log, Owner: "ci-host:4242", Events: func(e runner.Event) { b.Poke() }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := sched.Start(ctx); err != nil {
		t.Fatal(err)
	}
	boardDone := make(chan struct{})
	go func() { b.Run(ctx); close(boardDone) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := New(Config{Board: b, Store: st, Stats: sched.Stats, Logger: log, Version: "v1.0.0"})
	serveDone := make(chan error, 1)
	go func() { serveDone <- h.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := sched.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-boardDone
		if err := <-serveDone; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &liveScheduler{st: st, sched: sched, url: "http://" + ln.Addr().String()}
}

// seedHistory records the minute of runs before now that a scheduler
// would have left, of every kind the timeline draws, for a fuller picture.
func seedHistory(tx store.Tx, now time.Time) error {
	ago := func(s float64) time.Time { return now.Add(-time.Duration(s * float64(time.Second))) }
	zero, three := 0, 3
	ran := func(id string, at, took float64, o store.Outcome, exit *int, out string) *store.Run {
		return &store.Run{JobID: id, FireTime: ago(at), Submitted: ago(at), Started: ago(at), Ended: ago(at - took),
			Outcome: o, ExitCode: exit, Output: out, Owner: "ci-host:4242"}
	}
	for _, r := range []*store.Run{
		ran("ondemand", 58, 3, store.Interrupted, nil, "asked for\n"),
		ran("backup", 56, 0.4, store.Success, &zero, "backing up /srv\ndone\n"),
		ran("slow-sync", 52, 1.6, store.Success, &zero, ""),
		ran("report", 48, 0.1, store.Failed, &three, "smtp: connection refused\n"),
		{JobID: "rotate-logs", FireTime: ago(44), Submitted: ago(44), Outcome: store.Missed, Reason: "2h0m0s late, past its misfire grace of 1m"},
		ran("backup", 40, 0.4, store.Success, &zero, "backing up /srv\ndone\n"),
		ran("report", 33, 5, store.TimedOut, nil, "report: 3 pages\n"),
		{JobID: "slow-sync", FireTime: ago(30), Submitted: ago(30), Outcome: store.Skipped, Reason: "1 of max 1 instances running"},
		func() *store.Run { r := ran("rotate-logs", 26, 1, store.Success, &zero, ""); r.Coalesced = 3; return r }(),
		ran("backup", 24, 0.4, store.Success, &zero, "backing up /srv\ndone\n"),
	} {
		if r.Outcome == store.TimedOut {
			r.Signal = "SIGTERM"
		}
		if err := tx.AddRun(r); err != nil {
			return err
		}
	}
	return nil
}

// runNow asks for a run of job id, as jobctl run-now does.
func (l *liveScheduler) runNow(t *testing.T, id string) {
	t.Helper()
	err := l.st.Update(t.Context(), func(tx store.Tx) error {
		j, err := tx.Job(id)
		if err != nil {
			return err
		}
		now := time.Now()
		if err := j.RunNow(now); err != nil {
			return err
		}
		if err := tx.PutJob(j); err != nil {
			return err
		}
		return tx.RecordChange(store.Change{Time: now, Kind: store.JobModified, JobID: id})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// putJob adds job id (a job that never fires by itself) or removes it, as
// jobctl add and remove do.
func (l *liveScheduler) putJob(t *testing.T, id string, add bool) {
	t.Helper()
	err := l.st.Update(t.Context(), func(tx store.Tx) error {
		now := time.Now()
		if !add {
			if err := tx.DeleteJob(id); err != nil {
				return err
			}
			return tx.RecordChange(store.Change{Time: now, Kind: store.JobRemoved, JobID: id})
		}
		j, err := store.NewJob(id, "true", schedule.Spec{Cron: "0 3 1 1 *", Timezone: "UTC"}, store.DefaultOptions(), now)
		if err != nil {
			return err
		}
		if err := tx.PutJob(j); err != nil {
			return err
		}
		return tx.RecordChange(store.Change{Time: now, Kind: store.JobAdded, JobID: id})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// browser starts headless Chromium, or skips the test (fails it when
// CI=true) saying why it cannot.
func browser(t *testing.T) context.Context {
	t.Helper()
	unavailable := func(why string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf("headless Chromium cannot start: "+why, args...)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	path := "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		var lookErr error
		if path, lookErr = exec.LookPath("chromium"); lookErr != nil {
			unavailable("no /usr/bin/chromium (Debian's chromium package) and none on PATH")
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses root
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Do starts the browser and binds it to its context, which
	// must have no deadline: the start is bounded from outside.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			unavailable("%v", err)
		}
	case <-time.After(30 * time.Second):
		cancelBrowser()
		unavailable("not started after 30s")
	}
	return ctx
}

func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser and runs jobs for several seconds")
	}
	ctx := browser(t)
	live := startLive(t)

	// The page lists the jobs, and goes live.
	err := doFor(ctx, 20*time.Second,
		chromedp.Navigate(live.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-job="rotate-logs"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-status.on`)),
		chromedp.Evaluate[chromedp.Void](`window.jobctlNotReloaded = true`),
	)
	if err != nil {
		t.Fatalf("loading the dashboard: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#live-status`)))
	if err != nil {
		t.Fatal(err)
	}
	if status != "live" {
		t.Errorf("live status %q, want live", status)
	}
	ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("tr.job")).map(r => r.dataset.job)`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids, " "); got != "backup ondemand report rotate-logs slow-sync" {
		t.Errorf("jobs listed: %s", got)
	}

	// A run that ends after the page loaded appears without a reload.
	live.runNow(t, "ondemand")
	if err := doFor(ctx, 20*time.Second, chromedp.WaitVisible(chromedp.CSS(`tr[data-job="ondemand"] .pill.success`))); err != nil {
		t.Fatalf("the run of ondemand did not appear within 20s: %v", err)
	}
	notReloaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.jobctlNotReloaded === true`))
	if err != nil {
		t.Fatal(err)
	}
	if !notReloaded {
		t.Error("the page was reloaded: the run should have come by server-sent events")
	}

	// Wait for a few runs of each kind, for the timeline and the picture.
	err = doFor(ctx, 30*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`tr[data-job="report"] .pill.failed`)),
		chromedp.WaitReady(chromedp.CSS(`path.mark.skipped`)),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('.timelines rect.run.success').length >= 4`, chromedp.WithPollingInterval(100*time.Millisecond)),
	)
	if err != nil {
		t.Fatalf("waiting for runs on the timeline: %v", err)
	}
	time.Sleep(1500 * time.Millisecond) // a fuller timeline for the picture
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "dashboard.png")
	if *update {
		shot = screenshotPath
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	// The job page shows a run's output tail.
	err = doFor(ctx, 20*time.Second,
		chromedp.Navigate(live.url+"/jobs/report"),
		chromedp.WaitReady(chromedp.CSS(`pre.output`)),
	)
	if err != nil {
		t.Fatalf("the job page: %v", err)
	}
	tail, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`pre.output`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tail, "report: 3 pages") || !strings.Contains(tail, "smtp: connection refused") {
		t.Errorf("report's output tail %q, want its stdout and stderr", tail)
	}

	// Job ".." has a page that its link reaches (a link "/jobs/.." would
	// be resolved to "/"), and when the job is removed the page says so
	// without a reload.
	live.putJob(t, "..", true)
	err = doFor(ctx, 20*time.Second,
		chromedp.Navigate(live.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-job=".."] a`)),
		chromedp.Click(chromedp.CSS(`tr[data-job=".."] a`)),
		chromedp.WaitVisible(chromedp.CSS(`#job-h`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-status.on`)),
		chromedp.Evaluate[chromedp.Void](`window.jobctlNotReloaded = true`),
	)
	if err != nil {
		t.Fatalf("following the link to job ..: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#job-h`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(heading, "..") {
		t.Errorf("the link to job .. led to a page headed %q", heading)
	}
	live.putJob(t, "..", false)
	if err := doFor(ctx, 20*time.Second, chromedp.WaitVisible(chromedp.CSS(`#gone`))); err != nil {
		t.Fatalf("the removed job's page did not say it is gone within 20s: %v", err)
	}
	notReloaded, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`window.jobctlNotReloaded === true`))
	if err != nil {
		t.Fatal(err)
	}
	if !notReloaded {
		t.Error("the page was reloaded: the removal should have come by server-sent events")
	}

	// On a phone, nothing scrolls sideways.
	var overflow []string
	for _, page := range []string{"/", "/jobs/backup"} {
		err := doFor(ctx, 20*time.Second,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile),
			chromedp.Navigate(live.url+page),
			chromedp.WaitVisible(chromedp.CSS(`footer`)),
		)
		if err != nil {
			t.Fatalf("%s on a phone: %v", page, err)
		}
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if wide > 0 {
			overflow = append(overflow, fmt.Sprintf("%s by %dpx", page, wide))
		}
	}
	if overflow != nil {
		t.Errorf("on a 390x844 phone, pages scroll sideways: %s", strings.Join(overflow, ", "))
	}
}

// doFor runs steps for d at most: chromedp waits for a selector as long
// as its context lasts.
func doFor(ctx context.Context, d time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}
