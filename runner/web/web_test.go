package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/memory"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// hostile is a job id, a command and an output that would run script in
// a page that did not escape them.
const (
	hostileID  = `<b>"x'&?#%`
	hostileCmd = `echo "<script>alert(1)</script>"`
	hostileOut = "</pre><script>alert(2)</script>\xff\xfe done\n"
)

// countingStore counts Views and fails them while fail is set.
type countingStore struct {
	store.Store
	views atomic.Int64
	mu    sync.Mutex
	fail  error
}

func (s *countingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	s.views.Add(1)
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		return fail
	}
	return s.Store.View(ctx, fn)
}

func (s *countingStore) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

type fixture struct {
	t     *testing.T
	st    *countingStore
	board *board.Board
	h     *Handler
	mu    sync.Mutex
	stats runner.Stats
}

// newFixture serves a store with jobs "backup" (two runs: success, then
// failed), the hostile one (a run with hostile output) and "idle" (none).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	mem, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	f := &fixture{t: t, st: &countingStore{Store: mem}, stats: runner.Stats{Owner: "host:1", Alive: true}}
	err = mem.Update(t.Context(), func(tx store.Tx) error {
		for _, j := range []struct{ id, cmd string }{{"backup", "backup.sh"}, {hostileID, hostileCmd}, {"idle", "true"}} {
			job, err := store.NewJob(j.id, j.cmd, schedule.Spec{Cron: "30 2 * * *", Timezone: "Europe/Berlin"}, store.DefaultOptions(), t0)
			if err != nil {
				return err
			}
			if err := tx.PutJob(job); err != nil {
				return err
			}
		}
		zero, two := 0, 2
		for _, r := range []*store.Run{
			{JobID: "backup", FireTime: t0, Submitted: t0, Started: t0, Ended: t0.Add(time.Minute), Outcome: store.Success, ExitCode: &zero, Output: "backed up\n", Owner: "host:1"},
			{JobID: "backup", FireTime: t0.Add(time.Hour), Submitted: t0.Add(time.Hour), Started: t0.Add(time.Hour), Ended: t0.Add(61 * time.Minute), Outcome: store.Failed, ExitCode: &two, Output: "disk full\n", Owner: "host:1"},
			{JobID: hostileID, FireTime: t0.Add(2 * time.Hour), Submitted: t0.Add(2 * time.Hour), Started: t0.Add(2 * time.Hour), Ended: t0.Add(2*time.Hour + time.Second), Outcome: store.Success, ExitCode: &zero, Output: hostileOut},
			{JobID: "idle", FireTime: t0.Add(3 * time.Hour), Submitted: t0.Add(3 * time.Hour), Outcome: store.Missed, Reason: "later than its misfire grace"},
		} {
			if err := tx.AddRun(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return t0.Add(4 * time.Hour) }
	f.board = board.New(board.Config{Store: f.st, Now: now, Interval: 10 * time.Millisecond})
	runBoard(t, f.board)
	f.waitSnapshot()
	f.h = New(Config{Board: f.board, Store: f.st, Stats: f.getStats, Now: now, Version: "v1.2.3"})
	t.Cleanup(f.h.Close)
	return f
}

// runBoard runs b until the test ends.
func runBoard(t *testing.T, b *board.Board) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func (f *fixture) getStats() runner.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

func (f *fixture) setStats(fn func(*runner.Stats)) {
	f.mu.Lock()
	fn(&f.stats)
	f.mu.Unlock()
}

func (f *fixture) waitSnapshot() {
	deadline := time.After(5 * time.Second)
	for {
		// Updated before Snapshot: a refresh between the two would
		// otherwise leave this waiting for the next one, which nothing
		// may bring.
		updated := f.board.Updated()
		if f.board.Snapshot() != nil {
			return
		}
		select {
		case <-updated:
		case <-deadline:
			f.t.Fatal("no snapshot within 5s")
		}
	}
}

// get serves a GET of target and returns the response and its body.
func (f *fixture) get(target string) (*http.Response, string) {
	f.t.Helper()
	return f.do(httptest.NewRequest(http.MethodGet, target, nil))
}

func (f *fixture) do(req *http.Request) (*http.Response, string) {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f *fixture) getJSON(target string, v any) {
	f.t.Helper()
	resp, body := f.get(target)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		f.t.Fatalf("GET %s: %s %s: %s", target, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		f.t.Fatalf("GET %s: %v", target, err)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, target := range []string{"/", "/api/jobs", "/jobs/backup", "/healthz"} {
		resp, _ := f.get(target)
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy %q, want scripts from self only", target, csp)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", target, got)
		}
	}
	for target, ctype := range map[string]string{"/static/style.css": "text/css", "/static/live.js": "javascript"} {
		resp, body := f.get(target)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), ctype) || body == "" {
			t.Errorf("GET %s: %s %q", target, resp.Status, resp.Header.Get("Content-Type"))
		}
	}
}

func TestPagesEscape(t *testing.T) {
	f := newFixture(t)
	resp, dash := f.get("/")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /: %s", resp.Status)
	}
	resp, page := f.get("/jobs/" + url.PathEscape(hostileID))
	if resp.StatusCode != 200 {
		t.Fatalf("GET the hostile job's page: %s: %s", resp.Status, page)
	}
	for name, body := range map[string]string{"dashboard": dash, "job page": page} {
		for _, raw := range []string{"<script>alert", "<b>\"x", "</pre><script>"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s: %q not escaped", name, raw)
			}
		}
		if !strings.Contains(body, "&lt;b&gt;&#34;x&#39;&amp;?#%") {
			t.Errorf("%s: the hostile id not shown escaped", name)
		}
		if strings.Contains(body, "<script>") && !strings.Contains(body, `<script src="/static/live.js" defer></script>`) {
			t.Errorf("%s: a script element other than live.js", name)
		}
	}
	if !strings.Contains(page, "&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;\uFFFD done") {
		t.Errorf("job page: the output tail not shown escaped, with U+FFFD for its bad bytes:\n%s", page)
	}
	if !strings.Contains(dash, `href="/jobs/%3Cb%3E%22x%27&amp;%3F%23%25"`) {
		t.Errorf("dashboard: no link to the hostile job's page, escaped as a path")
	}
}

func TestDashboard(t *testing.T) {
	f := newFixture(t)
	_, dash := f.get("/")
	for _, want := range []string{
		`<meta name="viewport"`,
		`<a href="/jobs/backup"><strong>backup</strong></a>`,
		"every day at 02:30", "<code>cron 30 2 * * * tz=Europe/Berlin</code>", "Europe/Berlin",
		`<span class="pill failed">failed (exit 2)</span>`,
		`<span class="ok">1 ok</span> · <span class="bad">1 failed</span> <span class="muted">of 2</span>`,
		`data-relative>in 11h30m</time>`, // 02:30 Berlin (01:30 UTC) from 14:00 UTC
		`<rect class="run success"`, `<rect class="run failed"`,
		`<polygon class="mark missed"`, "run 1: missed, fire time 2026-03-01 14:00:00 &#43;01:00: later than its misfire grace",
		"Runs of backup since 4h12m ago: 1 success, 1 failed",
		"scheduler running",
	} {
		if !strings.Contains(dash, want) {
			t.Errorf("dashboard: no %q", want)
		}
	}
	_, page := f.get("/jobs/backup")
	for _, want := range []string{"backup.sh", "run 2", "run 1", "disk full", "backed up", "took 1m", "on <code>host:1</code>"} {
		if !strings.Contains(page, want) {
			t.Errorf("job page: no %q", want)
		}
	}
}

// addJob adds job id (cron 30 2 * * *, Europe/Berlin) and its runs to the
// store, and waits for the board to show them.
func (f *fixture) addJob(id string, runs ...*store.Run) {
	f.t.Helper()
	f.addJobSpec(id, schedule.Spec{Cron: "30 2 * * *", Timezone: "Europe/Berlin"}, runs...)
}

// addJobSpec is addJob with the trigger spec.
func (f *fixture) addJobSpec(id string, spec schedule.Spec, runs ...*store.Run) {
	f.t.Helper()
	err := f.st.Store.Update(f.t.Context(), func(tx store.Tx) error {
		job, err := store.NewJob(id, "true", spec, store.DefaultOptions(), t0)
		if err != nil {
			return err
		}
		if err := tx.PutJob(job); err != nil {
			return err
		}
		for _, r := range runs {
			r.JobID = id
			if err := tx.AddRun(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		updated := f.board.Updated()
		if j := f.board.Snapshot().Job(id); j != nil && len(j.Runs) == len(runs) {
			return
		}
		f.board.Poke()
		select {
		case <-updated:
		case <-deadline:
			f.t.Fatalf("job %q not on the board within 5s", id)
		}
	}
}

// TestNextRunAtStart: a job that fires at each scheduler start says so
// where jobctl list does, not "–".
func TestNextRunAtStart(t *testing.T) {
	f := newFixture(t)
	f.addJobSpec("warmup", schedule.Spec{OnStart: "0s", Timezone: "UTC"})
	for _, target := range []string{"/", "/jobs/warmup"} {
		_, page := f.get(target)
		if !strings.Contains(page, "next start") {
			t.Errorf("%s: the on-start job's next run is not \"next start\"", target)
		}
	}
}

// TestJobPageStarts: the history says when each run started, and how late
// a first attempt started after its fire time.
func TestJobPageStarts(t *testing.T) {
	f := newFixture(t)
	zero := 0
	f.addJob("late",
		&store.Run{FireTime: t0, Submitted: t0, Started: t0.Add(1200 * time.Millisecond), Ended: t0.Add(time.Minute), Outcome: store.Success, ExitCode: &zero},
		&store.Run{FireTime: t0.Add(time.Hour), Submitted: t0.Add(time.Hour), Started: t0.Add(time.Hour + 20*time.Millisecond), Ended: t0.Add(61 * time.Minute), Outcome: store.Success, ExitCode: &zero},
		&store.Run{FireTime: t0.Add(2 * time.Hour), Submitted: t0.Add(2 * time.Hour), Outcome: store.Missed},
	)
	_, page := f.get("/jobs/late")
	runs := strings.Split(page, `<li class="run-item"`)
	if len(runs) != 4 {
		t.Fatalf("job page: %d runs, want 3:\n%s", len(runs)-1, page)
	}
	for _, c := range []struct {
		html      string
		seq       int
		want, not []string
	}{
		{runs[3], 1, []string{`started <time datetime="2026-03-01T10:00:01.2Z" title="2026-03-01 11:00:01 &#43;01:00"`, `&#43;1.2s late`}, nil},
		{runs[2], 2, []string{`started <time datetime="2026-03-01T11:00:00.02Z"`}, []string{" late<"}},
		{runs[1], 3, nil, []string{"started"}},
	} {
		for _, w := range c.want {
			if !strings.Contains(c.html, w) {
				t.Errorf("run %d: no %q in\n%s", c.seq, w, c.html)
			}
		}
		for _, n := range c.not {
			if strings.Contains(c.html, n) {
				t.Errorf("run %d: %q in\n%s", c.seq, n, c.html)
			}
		}
	}
}

func TestLateness(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "", 40 * time.Millisecond: "", -time.Second: "", 1249 * time.Millisecond: "+1.2s",
		59960 * time.Millisecond: "+1m", 3*time.Minute + 4400*time.Millisecond: "+3m4s",
	} {
		if got := lateness(d); got != want {
			t.Errorf("lateness(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestDotIDs: jobs "." and ".." (store.CheckID allows them) have pages
// that links reach. A browser resolves href="/jobs/.." (and "/jobs/%2E%2E")
// to "/" before it asks (TestDashboardInBrowser follows such a link): the
// links give those ids in the query. Clients that send the path as it is
// (Go's, curl's) reach them at /jobs/%2E%2E and /api/jobs/%2E%2E too.
func TestDotIDs(t *testing.T) {
	f := newFixture(t)
	f.addJob(".", &store.Run{FireTime: t0, Submitted: t0, Outcome: store.Missed})
	f.addJob("..", &store.Run{FireTime: t0, Submitted: t0, Outcome: store.Missed})
	_, dash := f.get("/")
	for _, want := range []string{`href="/jobs/?id=."`, `href="/jobs/?id=.."`, `href="/jobs/backup"`} {
		if !strings.Contains(dash, want) {
			t.Errorf("dashboard: no link %s", want)
		}
	}
	for id, escaped := range map[string]string{".": "%2E", "..": "%2E%2E"} {
		for _, target := range []string{"/jobs/?id=" + id, "/jobs/" + escaped, "/api/jobs/" + escaped, "/api/jobs/" + escaped + "/runs", "/api/jobs/" + escaped + "/runs/1"} {
			resp, body := f.get(target)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, id) {
				t.Errorf("GET %s: %s, want 200 showing job %q:\n%s", target, resp.Status, id, body)
			}
		}
		// Its own page, not the other's from the page cache.
		_, page := f.get("/jobs/?id=" + id)
		if want := `<h2 id="job-h">` + id + " "; !strings.Contains(page, want) {
			t.Errorf("/jobs/?id=%s: no %q:\n%s", id, want, page)
		}
	}
	if resp, _ := f.get("/jobs/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /jobs/: %s, want 404", resp.Status)
	}
}

func TestTimelineLanes(t *testing.T) {
	a := axis{Start: t0, End: t0.Add(10 * time.Minute)}
	j := &board.Job{Job: &store.Job{ID: "j"}, Runs: []*store.Run{ // newest first
		{Seq: 3, FireTime: t0.Add(6 * time.Minute), Started: t0.Add(6 * time.Minute), Ended: t0.Add(7 * time.Minute), Outcome: store.Success, Coalesced: 2},
		{Seq: 2, FireTime: t0.Add(2 * time.Minute), Started: t0.Add(2 * time.Minute), Ended: t0.Add(3 * time.Minute), Outcome: store.Failed},
		{Seq: 1, FireTime: t0, Started: t0, Ended: t0.Add(5 * time.Minute), Outcome: store.Success},
	}}
	tl := newTimeline(j, a, time.UTC)
	if len(tl.Bars) != 3 {
		t.Fatalf("bars %+v, want 3", tl.Bars)
	}
	// Run 2 overlaps run 1: a lane of its own; run 3 follows run 1 on the first.
	if tl.Bars[0].Y != 0 || tl.Bars[1].Y == 0 || tl.Bars[2].Y != 0 {
		t.Errorf("lanes of runs 1, 2, 3 at y %v, %v, %v; want 0, below, 0", tl.Bars[0].Y, tl.Bars[1].Y, tl.Bars[2].Y)
	}
	if tl.Bars[0].X != 0 || tl.Bars[0].W != timelineWidth/2 {
		t.Errorf("run 1 at x %v width %v, want 0, half the axis", tl.Bars[0].X, tl.Bars[0].W)
	}
	if len(tl.Marks) != 1 || tl.Marks[0].Kind != "coalesced" {
		t.Errorf("marks %+v, want one coalesced", tl.Marks)
	}
	if want := "Runs of j since : 2 success, 1 failed, 2 coalesced"; tl.Summary != want {
		t.Errorf("summary %q, want %q", tl.Summary, want)
	}
}

func TestHealthz(t *testing.T) {
	f := newFixture(t)
	resp, body := f.get("/healthz")
	if resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("healthz: %s %q, want 200 ok", resp.Status, body)
	}

	// Probes storming it read the store once a second at most.
	before := f.st.views.Load()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { f.get("/healthz") })
	}
	wg.Wait()
	if n := f.st.views.Load() - before; n > 1 {
		t.Errorf("50 probes read the store %d times, want at most once", n)
	}

	f.setStats(func(s *runner.Stats) { s.Alive = false })
	if resp, body := f.get("/healthz"); resp.StatusCode != 503 || !strings.Contains(body, "loop is not running") {
		t.Errorf("healthz of a dead loop: %s %q", resp.Status, body)
	}
	f.setStats(func(s *runner.Stats) { s.Alive, s.StoreError = true, errors.New("no space left on device") })
	if resp, body := f.get("/healthz"); resp.StatusCode != 503 || !strings.Contains(body, "no space left on device") {
		t.Errorf("healthz with a store error: %s %q", resp.Status, body)
	}
	f.setStats(func(s *runner.Stats) { s.StoreError = nil })

	// A store that stops answering: 503 once the kept answer is older than a second.
	f.st.setFail(errors.New("connection refused"))
	f.h.health.mu.Lock()
	f.h.health.checked = time.Time{}
	f.h.health.mu.Unlock()
	if resp, body := f.get("/healthz"); resp.StatusCode != 503 || !strings.Contains(body, "the store does not answer: connection refused") {
		t.Errorf("healthz of a failing store: %s %q", resp.Status, body)
	}
}

func TestEvents(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		defer close(lines)
		for sc.Scan() {
			// After a t.Fatal nobody reads lines: the request's context,
			// cancelled as the test ends, lets this goroutine end too.
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	f.board.Poke()
	for found := false; !found; {
		select {
		case l := <-lines:
			found = l == "event: update"
		case <-ctx.Done():
			t.Fatal("no update event within 10s of a refresh")
		}
	}
	// Close ends the stream at once.
	f.h.Close()
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-ctx.Done():
			t.Fatal("the stream did not end within 10s of Close")
		}
	}
}

// TestEventsClientGone: a stream whose client goes away ends its handler.
func TestEventsClientGone(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil)
	done := make(chan struct{})
	go func() {
		f.h.ServeHTTP(httptest.NewRecorder(), req)
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler of a stream whose client went did not return within 5s")
	}
}

func TestMetricsHandler(t *testing.T) {
	f := newFixture(t)
	f.h = New(Config{Board: f.board, Store: f.st, Stats: f.getStats,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "jobctl_up 1\n") })})
	if resp, body := f.get("/metrics"); resp.StatusCode != 200 || body != "jobctl_up 1\n" {
		t.Errorf("/metrics: %s %q", resp.Status, body)
	}
}

func TestTriggerWords(t *testing.T) {
	for expr, want := range map[string]string{
		"30 2 * * *":   "every day at 02:30",
		"*/15 * * * *": "every 15 minutes",
		"* * * * *":    "every minute",
		"5 * * * *":    "every hour at minute 5",
		"0 */6 * * *":  "every 6 hours at minute 0",
		"0 9 * * 1-5":  "every Monday to Friday at 09:00",
		"0 9 * * 0,6":  "every Sunday, Saturday at 09:00",
		"0 3 1 * *":    "on day 1 of every month at 03:00",
		"@daily":       "every day at 00:00",
		" @Hourly ":    "every hour at minute 0",
		"@weekly":      "every Sunday at 00:00",
		"@monthly":     "on day 1 of every month at 00:00",
		"@yearly":      "every year on 1 January at 00:00",
		"@annually":    "every year on 1 January at 00:00",
		"30 6 24 12 *": "every year on 24 December at 06:30",
		"0 9 * 13 *":   "",
		"0 9 1 1 1":    "",
		"*/15 * 1 1 *": "",
		"0 9 1-7 * 1":  "",
		"0 9 * 1 *":    "",
		"*/7 * * * *":  "", // :56, then :00 four minutes later
		"0 */5 * * *":  "",
	} {
		if got := triggerWords(schedule.Spec{Cron: expr}); got != want {
			t.Errorf("cron %q: %q, want %q", expr, got, want)
		}
	}
	if got := triggerWords(schedule.Spec{Every: "90s"}); got != "every 90s" {
		t.Errorf("every 90s: %q", got)
	}
}

func TestTail(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "line %04d\n", i) // 10 bytes each
	}
	shown := newShownTail(b.String())
	got, cut := shown.text, shown.cut
	if !cut || len(got) > tailBytes || !strings.HasPrefix(got, "line ") || !strings.HasSuffix(got, "line 0999\n") {
		t.Errorf("tail of 10,000 bytes: cut %v, %d bytes from %q; want at most %d, from a line's start to the end", cut, len(got), got[:20], tailBytes)
	}
	if s := newShownTail("short\xff\n"); s.cut || s.text != "short\uFFFD\n" {
		t.Errorf("tail of a short output: %q, cut %v", s.text, s.cut)
	}
}
