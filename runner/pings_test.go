package runner

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/runner/ping"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// monitor is a run monitor that records each ping as "PATH?QUERY BODY"
// (the body's first line), and answers 200, or holds the requests while
// hang is set.
type monitor struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	got  []string
	full []string // the whole bodies
	hang chan struct{}
}

func newMonitor(t *testing.T) *monitor {
	m := &monitor{t: t}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		first, _, _ := strings.Cut(string(body), "\n")
		m.mu.Lock()
		m.got = append(m.got, strings.TrimSpace(req.Method+" "+req.URL.RequestURI()+" "+first))
		m.full = append(m.full, string(body))
		hang := m.hang
		m.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-req.Context().Done():
			}
		}
	}))
	t.Cleanup(m.srv.Close)
	return m
}

// wait returns the pings once there are n, failing the test if that
// takes more than 10s.
func (m *monitor) wait(n int) []string {
	m.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		m.mu.Lock()
		got := append([]string(nil), m.got...)
		m.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("gave up waiting for %d pings; got %q", n, got)
		}
	}
}

// quickPings has h's scheduler ping with no backoff waits and attempts of
// timeout, its log in h's.
func quickPings(h *harness, timeout time.Duration) {
	h.setup = func(s *Scheduler) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s.pings.sender.Close(ctx)
		s.pings.sender = ping.New(ping.Config{Logger: s.log, Timeout: timeout,
			Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	}
}

func TestEndPing(t *testing.T) {
	code := func(n int) *int { return &n }
	retryAt := t0.Add(10 * time.Second)
	for _, c := range []struct {
		name   string
		run    store.Run
		signal string
		body   string // "": none
	}{
		{"success", store.Run{Outcome: store.Success, ExitCode: code(0), Output: "done\n"}, "0", "done\n"},
		{"exit code", store.Run{Outcome: store.Failed, ExitCode: code(3), Reason: "exit status 3", Output: "oops"},
			"3", "oops\njobctl: run 7 of backup failed (exit code 3): exit status 3\n"},
		{"timeout", store.Run{Outcome: store.TimedOut, Signal: "SIGTERM", Reason: "timed out after 1m0s"},
			"fail", "jobctl: run 7 of backup timeout (SIGTERM): timed out after 1m0s\n"},
		{"signal", store.Run{Outcome: store.Failed, Signal: "SIGKILL", Reason: "killed"},
			"fail", "jobctl: run 7 of backup failed (SIGKILL): killed\n"},
		{"no exit code", store.Run{Outcome: store.Failed, Reason: "exec: no such file"},
			"fail", "jobctl: run 7 of backup failed: exec: no such file\n"},
		{"interrupted", store.Run{Outcome: store.Interrupted, Reason: "terminated at shutdown"},
			"fail", "jobctl: run 7 of backup interrupted: terminated at shutdown\n"},
		{"cancelled", store.Run{Outcome: store.Cancelled, Reason: "a later fire time"},
			"fail", "jobctl: run 7 of backup cancelled: a later fire time\n"},
		{"missed", store.Run{Outcome: store.Missed, Reason: "late by 5m"},
			"fail", "jobctl: run 7 of backup missed: late by 5m\n"},
		{"retry pending", store.Run{Outcome: store.Failed, ExitCode: code(1), Reason: "exit status 1", RetryAt: retryAt, Output: "x\n"},
			"log", "x\njobctl: attempt 1 of run 7 of backup failed (exit code 1): exit status 1; attempt 2 runs at 2026-06-01T10:00:10Z\n"},
		{"skipped", store.Run{Outcome: store.Skipped}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.run
			r.JobID, r.Seq = "backup", 7
			signal, body, ok := endPing(&r)
			if ok != (c.signal != "") || signal != c.signal || body != c.body {
				t.Errorf("endPing = %q, %q, %v; want %q, %q", signal, body, ok, c.signal, c.body)
			}
		})
	}
	long := store.Run{JobID: "backup", Seq: 1, Outcome: store.Failed, ExitCode: code(2), Output: strings.Repeat("é", ping.MaxBody)}
	if _, body, _ := endPing(&long); len(body) > ping.MaxBody || !strings.HasSuffix(body, "exit code 2)\n") || !strings.HasPrefix(body, "é") {
		t.Errorf("a long output's body: %d bytes, starting %q; want at most %d, its end kept, cut on a character", len(body), body[:2], ping.MaxBody)
	}
}

// TestPingsOfRuns: each run's start and end are pinged with one rid, the
// run's; a failed attempt to be retried is a /log, its retry's success a
// /0; a missed fire time a /fail.
func TestPingsOfRuns(t *testing.T) {
	m := newMonitor(t)
	h := newHarness(t, t0)
	quickPings(h, time.Second)
	quick := h.setup
	h.setup = func(s *Scheduler) {
		quick(s)
		s.retryJitter = func() float64 { return 0 }
	}
	ok := job("ok", cron("* * * * *"))
	ok.Options.Ping = m.srv.URL + "/ok"
	h.put(ok)
	flaky := job("flaky", cron("* * * * *"))
	flaky.Options.Ping = m.srv.URL + "/flaky?create=1"
	flaky.Options.Retry = schedule.Retry{Max: 1, Delay: 10 * time.Second}
	h.put(flaky)
	h.fails["flaky"] = 1
	late := job("late", cron("0 9 * * *"))
	late.Options.Ping = m.srv.URL + "/late"
	late.NextRun = t0.Add(-time.Hour) // far past its misfire grace
	h.put(late)
	h.start(Config{})
	h.advance(time.Minute) // 10:01: ok and flaky run, late's fire time is missed
	h.advance(10 * time.Second)
	h.settle()

	rid := func(id string, n int) string {
		h.t.Helper()
		runs := h.records(id)
		if len(runs) <= n {
			t.Fatalf("job %s has %d runs, want %d", id, len(runs), n+1)
		}
		return ping.RunID(id, runs[n].Seq)
	}
	got := m.wait(9)
	byJob := map[string][]string{}
	for _, g := range got {
		job := strings.Split(strings.TrimPrefix(g, "POST /"), "/")[0]
		job, _, _ = strings.Cut(job, "?")
		byJob[job] = append(byJob[job], g)
	}
	want := map[string][]string{
		"ok": {
			"POST /ok/start?rid=" + rid("ok", 0), "POST /ok/0?rid=" + rid("ok", 0),
			"POST /ok/start?rid=" + rid("ok", 1), "POST /ok/0?rid=" + rid("ok", 1),
		},
		"flaky": {
			"POST /flaky/start?create=1&rid=" + rid("flaky", 0),
			"POST /flaky/log?create=1&rid=" + rid("flaky", 0) + " jobctl: attempt 1 of run " + strconv.FormatUint(h.records("flaky")[0].Seq, 10) +
				" of flaky failed (exit code 1): exit status 1; attempt 2 runs at 2026-06-01T10:00:10Z",
			"POST /flaky/start?create=1&rid=" + rid("flaky", 1), "POST /flaky/0?create=1&rid=" + rid("flaky", 1),
		},
	}
	for id, w := range want {
		if strings.Join(byJob[id], "\n") != strings.Join(w, "\n") {
			t.Errorf("pings of %s:\n%s\nwant:\n%s", id, strings.Join(byJob[id], "\n"), strings.Join(w, "\n"))
		}
	}
	if l := byJob["late"]; len(l) != 1 || !strings.HasPrefix(l[0], "POST /late/fail?rid="+rid("late", 0)+" jobctl: run ") || !strings.Contains(l[0], " of late missed: ") {
		t.Errorf("pings of late: %q; want one /fail saying it was missed, why", l)
	}
	if n := h.s.Stats().PingFailures; n != 0 {
		t.Errorf("PingFailures = %d; want 0", n)
	}
}

// TestPingsNeverDelayRuns: runs go on, on time, while their monitor
// answers nothing; the pings given up are counted.
func TestPingsNeverDelayRuns(t *testing.T) {
	m := newMonitor(t)
	m.hang = make(chan struct{})
	defer close(m.hang)
	h := newHarness(t, t0)
	quickPings(h, time.Hour) // every ping waits for ever
	j := job("ok", cron("* * * * *"))
	j.Options.Ping = m.srv.URL + "/ok"
	h.put(j)
	h.start(Config{})
	for range 5 {
		h.advance(time.Minute)
	}
	h.wantHistory("ok", "10:00:00 success\n10:01:00 success\n10:02:00 success\n10:03:00 success\n10:04:00 success\n10:05:00 success\n")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	if err := h.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("Shutdown took %s, past its grace of 100ms", took)
	}
	// 12 pings: one under way, the rest queued; all given up at the end
	// of the grace.
	if n := h.s.Stats().PingFailures; n != 12 {
		t.Errorf("PingFailures = %d; want the 12 pings given up", n)
	}
}

// TestHeartbeat: the store's Settings.Ping is pinged at the start, then
// every PingEvery; /fail with the store's error while it fails.
func TestHeartbeat(t *testing.T) {
	m := newMonitor(t)
	h := newHarness(t, t0)
	fl := &flaky{Store: h.st, err: errors.New("disk on fire")}
	h.st = fl
	quickPings(h, time.Second)
	err := h.st.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutSettings(store.Settings{Ping: m.srv.URL + "/hb", PingEvery: 5 * time.Minute})
	})
	if err != nil {
		t.Fatal(err)
	}
	h.start(Config{})
	m.wait(1)
	h.advance(4 * time.Minute)
	if got := m.wait(1); len(got) != 1 {
		t.Errorf("pinged %q within 4m; want once", got)
	}
	h.advance(time.Minute)
	m.wait(2)
	fl.setFailing(true)
	h.sync() // the planning fails
	h.clock.Advance(5 * time.Minute)
	got := m.wait(3)
	want := []string{"POST /hb jobctl scheduler test is running", "POST /hb jobctl scheduler test is running",
		"POST /hb/fail jobctl scheduler test: the store fails: "}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || !strings.HasPrefix(got[2], want[2]) || !strings.Contains(got[2], "disk on fire") {
		t.Errorf("heartbeats:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPingInterrupted: a run a dead scheduler left running, recorded
// interrupted by the next, is pinged /fail with the rid its start had.
func TestPingInterrupted(t *testing.T) {
	m := newMonitor(t)
	h := newHarness(t, t0)
	quickPings(h, time.Second)
	j := job("a", cron("0 0 1 1 *"))
	j.Options.Ping = m.srv.URL + "/a"
	h.put(j)
	dead := &store.Run{JobID: "a", FireTime: t0.Add(-time.Hour), Submitted: t0.Add(-time.Hour), Outcome: store.Running, Owner: "dead:1"}
	if err := h.st.Update(context.Background(), func(tx store.Tx) error { return tx.AddRun(dead) }); err != nil {
		t.Fatal(err)
	}
	h.start(Config{})
	got := m.wait(1)
	if want := "POST /a/fail?rid=" + ping.RunID("a", dead.Seq) + " jobctl: run " + strconv.FormatUint(dead.Seq, 10) + " of a interrupted: "; len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Errorf("pings %q; want one starting %q", got, want)
	}
}
