package ping

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a monitor that records each request as "METHOD PATH?QUERY"
// and its body, and answers with the codes in answers, one per request,
// then 200.
type recorder struct {
	mu      sync.Mutex
	reqs    []string
	bodies  []string
	answers []int
	hang    chan struct{} // if set, requests wait for it (or for their client to go)
	got     chan struct{} // a value per request
}

func newRecorder(t *testing.T, answers ...int) (*recorder, *httptest.Server) {
	r := &recorder{answers: answers, got: make(chan struct{}, 1000)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.RequestURI())
		r.bodies = append(r.bodies, string(body))
		code := http.StatusOK
		if len(r.answers) > 0 {
			code, r.answers = r.answers[0], r.answers[1:]
		}
		hang := r.hang
		r.mu.Unlock()
		r.got <- struct{}{}
		if hang != nil {
			select {
			case <-hang:
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(code)
		io.WriteString(w, "OK")
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *recorder) requests() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...), append([]string(nil), r.bodies...)
}

// sleeps records the backoff waits, and waits none of them.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// logBuffer is a log that tests can read while the workers write.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newSender is a Sender whose backoff waits are recorded and skipped,
// with no jitter, whose log is returned.
func newSender(t *testing.T, cfg Config) (*Sender, *sleeps, *logBuffer) {
	sl, log := &sleeps{}, &logBuffer{}
	cfg.Sleep, cfg.Jitter = sl.sleep, func(d time.Duration) time.Duration { return d }
	cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
	s := New(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s.Close(ctx)
	})
	return s, sl, log
}

// closeWithin closes s, giving its queued pings d.
func closeWithin(s *Sender, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	s.Close(ctx)
}

func TestEndpoint(t *testing.T) {
	for _, c := range []struct{ base, signal, rid, want string }{
		{"https://hc-ping.com/0c4f", "", "", "https://hc-ping.com/0c4f"},
		{"https://hc-ping.com/0c4f", Start, "R", "https://hc-ping.com/0c4f/start?rid=R"},
		{"https://hc-ping.com/0c4f/", "1", "R", "https://hc-ping.com/0c4f/1?rid=R"},
		{"https://hc-ping.com/key/backup?create=1", Fail, "R", "https://hc-ping.com/key/backup/fail?create=1&rid=R"},
		{"http://[::1]:8000/ping/a%2Fb", Log, "", "http://[::1]:8000/ping/a%2Fb/log"},
	} {
		got, err := Endpoint(c.base, c.signal, c.rid)
		if err != nil || got != c.want {
			t.Errorf("Endpoint(%q, %q, %q) = %q, %v; want %q", c.base, c.signal, c.rid, got, err, c.want)
		}
	}
}

func TestRunID(t *testing.T) {
	uuid5 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a := RunID("backup", 7)
	if !uuid5.MatchString(a) {
		t.Fatalf("RunID = %q, not a version 5 UUID", a)
	}
	if b := RunID("backup", 7); b != a {
		t.Errorf("RunID twice: %q, then %q", a, b)
	}
	seen := map[string]string{a: "backup/7"}
	for _, r := range []struct {
		job string
		seq uint64
	}{{"backup", 8}, {"backup7", 0}, {"backup", 70}, {"other", 7}} {
		id := RunID(r.job, r.seq)
		if prev, dup := seen[id]; dup {
			t.Errorf("RunID(%q, %d) = %q, as for %s", r.job, r.seq, id, prev)
		}
		seen[id] = r.job
	}
}

func TestBody(t *testing.T) {
	if got := Body("short"); got != "short" {
		t.Errorf("Body(short) = %q", got)
	}
	exact := strings.Repeat("x", MaxBody)
	if got := Body(exact); got != exact {
		t.Errorf("Body of exactly MaxBody bytes is cut to %d", len(got))
	}
	long := "head" + strings.Repeat("x", 2*MaxBody) + "the cause"
	if got := Body(long); len(got) != MaxBody || !strings.HasSuffix(got, "the cause") {
		t.Errorf("Body(long) has %d bytes, ending %q", len(got), got[len(got)-20:])
	}
	// "é" is 2 bytes, "€" 3: a cut at MaxBody would fall inside one.
	for _, r := range []string{"é", "€"} {
		out := strings.Repeat(r, MaxBody)
		got := Body(out)
		if len(got) > MaxBody || len(got) < MaxBody-len(r)+1 || !strings.HasPrefix(got, r) {
			t.Errorf("Body of %q×%d: %d bytes, starting %q", r, MaxBody, len(got), got[:4])
		}
	}
}

func TestSend(t *testing.T) {
	rec, srv := newRecorder(t)
	s, sl, _ := newSender(t, Config{})
	rid := RunID("backup", 1)
	start, _ := Endpoint(srv.URL+"/abc", Start, rid)
	end, _ := Endpoint(srv.URL+"/abc", "3", rid)
	s.Send(Ping{URL: start, Key: "backup", Job: "backup", Run: 1})
	s.Send(Ping{URL: end, Body: "it failed\n", Key: "backup", Job: "backup", Run: 1})
	closeWithin(s, 5*time.Second)
	reqs, bodies := rec.requests()
	want := []string{"POST /abc/start?rid=" + rid, "POST /abc/3?rid=" + rid}
	if strings.Join(reqs, "\n") != strings.Join(want, "\n") || bodies[0] != "" || bodies[1] != "it failed\n" {
		t.Errorf("requests %q, bodies %q; want %q", reqs, bodies, want)
	}
	if s.Failures() != 0 || len(sl.waits()) != 0 {
		t.Errorf("failures %d, waits %v; want none", s.Failures(), sl.waits())
	}
}

// TestOrder: the pings of one key arrive in the order sent, however many
// its queue holds.
func TestOrder(t *testing.T) {
	rec, srv := newRecorder(t)
	s, _, _ := newSender(t, Config{KeyQueue: 50})
	var want []string
	for i := range 50 {
		path := "/" + strconv.Itoa(i)
		s.Send(Ping{URL: srv.URL + path, Key: "k"})
		want = append(want, "POST "+path)
	}
	closeWithin(s, 10*time.Second)
	if reqs, _ := rec.requests(); strings.Join(reqs, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests out of order:\n%s\nwant\n%s", strings.Join(reqs, "\n"), strings.Join(want, "\n"))
	}
}

func TestRetries(t *testing.T) {
	for _, c := range []struct {
		name     string
		answers  []int
		requests int
		waits    []time.Duration
		failures uint64
		log      string
	}{
		{"500 then success", []int{500, 503}, 3, []time.Duration{time.Second, 2 * time.Second}, 0, ""},
		{"429 then success", []int{429}, 2, []time.Duration{time.Second}, 0, ""},
		{"always 502", []int{502, 502, 502, 502}, 4, DefaultBackoff, 1, "502 Bad Gateway"},
		{"404 not retried", []int{404}, 1, nil, 1, "404 Not Found (not tried again)"},
		{"400 not retried", []int{400}, 1, nil, 1, "400 Bad Request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, srv := newRecorder(t, c.answers...)
			s, sl, log := newSender(t, Config{})
			s.Send(Ping{URL: srv.URL + "/x", Key: "k", Job: "backup", Run: 4})
			closeWithin(s, 5*time.Second)
			reqs, _ := rec.requests()
			if len(reqs) != c.requests || s.Failures() != c.failures || !slicesEqual(sl.waits(), c.waits) {
				t.Errorf("%d requests, %d failures, waits %v; want %d, %d, %v", len(reqs), s.Failures(), sl.waits(), c.requests, c.failures, c.waits)
			}
			if c.log != "" && !(strings.Contains(log.String(), c.log) && strings.Contains(log.String(), "job=backup run=4 url="+srv.URL+"/x")) {
				t.Errorf("log %q; want the job, run, URL and %q", log.String(), c.log)
			}
		})
	}
}

func slicesEqual(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestJitter: the default jitter keeps each wait within a fifth of it.
func TestJitter(t *testing.T) {
	s := New(Config{})
	defer closeWithin(s, time.Second)
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for range 1000 {
		d := s.cfg.Jitter(time.Second)
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 800*time.Millisecond || hi > 1200*time.Millisecond || hi-lo < 100*time.Millisecond {
		t.Errorf("jittered 1s within [%s, %s]; want within [0.8s, 1.2s], spread", lo, hi)
	}
}

// TestNoAnswer: a monitor that never answers costs each attempt its
// timeout, then the retries, then the ping is counted failed.
func TestNoAnswer(t *testing.T) {
	rec, srv := newRecorder(t)
	rec.hang = make(chan struct{})
	defer close(rec.hang)
	s, sl, log := newSender(t, Config{Timeout: 50 * time.Millisecond})
	began := time.Now()
	s.Send(Ping{URL: srv.URL + "/x", Key: "k", Job: "backup", Run: 1})
	closeWithin(s, 10*time.Second)
	if took := time.Since(began); took < 4*50*time.Millisecond || took > 5*time.Second {
		t.Errorf("took %s; want 4 timeouts of 50ms", took)
	}
	if reqs, _ := rec.requests(); len(reqs) != 4 || s.Failures() != 1 || len(sl.waits()) != 3 {
		t.Errorf("%d requests, %d failures, %d waits; want 4, 1, 3", len(reqs), s.Failures(), len(sl.waits()))
	}
	if !strings.Contains(log.String(), "no answer within 50ms") {
		t.Errorf("log %q; want the timeout", log.String())
	}
}

// TestCloseGrace: Close gives the queued pings until its context ends,
// then drops those left (counted), and returns.
func TestCloseGrace(t *testing.T) {
	rec, srv := newRecorder(t)
	s, _, _ := newSender(t, Config{})
	for i := range 3 {
		s.Send(Ping{URL: srv.URL + "/" + string(rune('a'+i)), Key: "k"})
	}
	closeWithin(s, 5*time.Second)
	if reqs, _ := rec.requests(); len(reqs) != 3 || s.Failures() != 0 {
		t.Fatalf("requests %q, %d failures; want all 3 sent at a graceful close", reqs, s.Failures())
	}
	s.Send(Ping{URL: srv.URL + "/late", Key: "k"})
	if s.Failures() != 1 {
		t.Errorf("a ping after Close: %d failures; want it counted", s.Failures())
	}

	rec, srv = newRecorder(t)
	rec.hang = make(chan struct{})
	defer close(rec.hang)
	s, _, log := newSender(t, Config{})
	for i := range 3 {
		s.Send(Ping{URL: srv.URL + "/" + string(rune('a'+i)), Key: "k"})
	}
	began := time.Now()
	closeWithin(s, 200*time.Millisecond)
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("Close took %s past its grace of 200ms", took)
	}
	if s.Failures() != 3 || !strings.Contains(log.String(), "shut down") {
		t.Errorf("%d failures, log %q; want the 3 counted, shut down", s.Failures(), log.String())
	}
}
