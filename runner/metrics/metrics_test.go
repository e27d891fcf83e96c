package metrics

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

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/runner/clocktest"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/memory"
	"github.com/jobctl/jobctl/store/storetest"
)

var t0 = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

// world is a scheduler on a memory store under a fake clock, with a board
// and the metrics fed by its events, as jobctl run --http wires them.
type world struct {
	t     *testing.T
	clock *clocktest.Clock
	st    store.Store
	s     *runner.Scheduler
	board *board.Board
	m     *Metrics
	hold  chan struct{} // the Func "hold" returns once it is closed

	mu      sync.Mutex
	started map[string]bool // jobs with a run started (job_started)
	ended   int             // runs ended (job_executed, job_error)
}

// newWorld stores the jobs and starts the scheduler; label is the metrics'
// scheduler label ("" none).
func newWorld(t *testing.T, label string, jobs ...*store.Job) *world {
	t.Helper()
	w := &world{t: t, clock: clocktest.New(t0), hold: make(chan struct{}), started: map[string]bool{}}
	st, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st
	storetest.Put(t, st, jobs...)
	w.board = board.New(board.Config{Store: st, Now: w.clock.Now, Interval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	boardDone := make(chan struct{})
	go func() {
		defer close(boardDone)
		w.board.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-boardDone
	})
	var s *runner.Scheduler
	w.m = New(Config{Stats: func() runner.Stats { return s.Stats() }, Snapshot: w.board.Snapshot, Scheduler: label, Version: "v1.2.3"})
	s, err = runner.New(runner.Config{
		Store: st, Clock: w.clock, Owner: "m1",
		Funcs: map[string]runner.Func{
			"ok": func(ctx context.Context, c runner.Call, out io.Writer) error {
				w.clock.Advance(2500 * time.Millisecond) // a run of 2.5 s
				return nil
			},
			"bad": func(context.Context, runner.Call, io.Writer) error { return errors.New("no") },
			"hold": func(ctx context.Context, _ runner.Call, _ io.Writer) error {
				<-w.hold
				return nil
			},
		},
		Events: func(e runner.Event) {
			w.m.Observe(e)
			w.board.Poke()
			w.mu.Lock()
			defer w.mu.Unlock()
			switch e.Name {
			case store.EventJobStarted:
				w.started[e.JobID] = true
			case store.EventJobExecuted, store.EventJobError:
				w.ended++
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	w.s = s
	t.Cleanup(func() {
		select {
		case <-w.hold:
		default:
			close(w.hold)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return w
}

// waitFor polls cond until it holds, failing the test after 10 s.
func (w *world) waitFor(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// scrape fetches /metrics in the text format and parses it back.
func (w *world) scrape() map[string]*dto.MetricFamily {
	w.t.Helper()
	srv := httptest.NewServer(w.m.Handler())
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		w.t.Fatalf("content type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		w.t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// value is the value of the series of name whose labels include want;
// ok false when there is none.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func newJob(t *testing.T, id, fn string, spec schedule.Spec, now time.Time, opts func(*store.Options)) *store.Job {
	t.Helper()
	o := store.DefaultOptions()
	if opts != nil {
		opts(&o)
	}
	j, err := store.NewJob(id, runner.FuncPrefix+fn, spec, o, now)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestMetricsAfterKnownRuns(t *testing.T) {
	at := func(minute int) schedule.Spec {
		return schedule.Spec{Cron: strconv.Itoa(minute) + " * * * *", Timezone: "UTC"}
	}
	paused := newJob(t, "paused", "ok", at(0), t0, nil)
	paused.Pause(t0)
	// At 10:00, ok runs for 2.5 s (its Func moves the clock on) and late
	// is missed: two hours late, beyond its minute of grace. At 10:15
	// hold starts, and runs on; at 10:30 bad fails.
	w := newWorld(t, "",
		newJob(t, "ok", "ok", at(0), t0, nil),
		newJob(t, "late", "ok", schedule.Spec{At: t0.Add(-2 * time.Hour).Format(time.RFC3339)}, t0.Add(-3*time.Hour),
			func(o *store.Options) { o.MisfireGrace = schedule.Grace(time.Minute) }),
		newJob(t, "hold", "hold", at(15), t0, nil),
		newJob(t, "bad", "bad", at(30), t0, nil),
		paused,
	)
	w.waitFor("ok to end", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.ended == 1 })
	w.clock.Set(t0.Add(15 * time.Minute))
	w.waitFor("hold to start", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.started["hold"] })
	w.clock.Set(t0.Add(30 * time.Minute))
	w.waitFor("bad to end", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.ended == 2 })
	var fams map[string]*dto.MetricFamily
	w.waitFor("the board to see the runs", func() bool {
		fams = w.scrape()
		_, ok := value(fams, "jobctl_job_last_run_timestamp_seconds", map[string]string{"job": "bad", "outcome": "failed"})
		return ok
	})
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"jobctl_runs_total", map[string]string{"job": "ok", "outcome": "success"}, 1},
		{"jobctl_runs_total", map[string]string{"job": "bad", "outcome": "failed"}, 1},
		{"jobctl_runs_total", map[string]string{"job": "late", "outcome": "missed"}, 1},
		{"jobctl_missed_total", map[string]string{"job": "late"}, 1},
		{"jobctl_run_duration_seconds", map[string]string{"job": "ok"}, 1}, // one observation
		{"jobctl_runs_running", map[string]string{"job": "hold"}, 1},
		{"jobctl_runs_running", map[string]string{"job": "ok"}, 0},
		{"jobctl_executor_busy_workers", map[string]string{"executor": store.DefaultExecutor}, 1},
		{"jobctl_job_paused", map[string]string{"job": "paused"}, 1},
		{"jobctl_job_paused", map[string]string{"job": "ok"}, 0},
		{"jobctl_job_next_run_timestamp_seconds", map[string]string{"job": "ok"}, float64(t0.Add(time.Hour).Unix())},
		// ok ended 2.5 s after the start (its Func moved the clock on).
		{"jobctl_job_last_success_timestamp_seconds", map[string]string{"job": "ok"}, float64(t0.Unix()) + 2.5},
		{"jobctl_job_last_run_timestamp_seconds", map[string]string{"job": "bad", "outcome": "failed"}, float64(t0.Add(30 * time.Minute).Unix())},
		{"jobctl_scheduler_paused", nil, 0},
		{"jobctl_build_info", map[string]string{"version": "v1.2.3"}, 1},
	}
	for _, c := range checks {
		if got, ok := value(fams, c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	for _, absent := range []struct {
		name   string
		labels map[string]string
	}{
		{"jobctl_job_next_run_timestamp_seconds", map[string]string{"job": "paused"}},
		{"jobctl_job_last_success_timestamp_seconds", map[string]string{"job": "bad"}},
		{"jobctl_skipped_total", nil},
	} {
		if v, ok := value(fams, absent.name, absent.labels); ok {
			t.Errorf("%s%v = %v, want no such series", absent.name, absent.labels, v)
		}
	}
	d := fams["jobctl_run_duration_seconds"].GetMetric()
	if len(d) != 2 { // ok and bad
		t.Errorf("%d duration series, want 2 (ok, bad)", len(d))
	}
	for _, m := range d {
		if m.GetLabel()[0].GetValue() == "ok" && m.GetHistogram().GetSampleSum() != 2.5 {
			t.Errorf("ok's duration sum %v, want 2.5", m.GetHistogram().GetSampleSum())
		}
	}
	for _, m := range fams["jobctl_start_lateness_seconds"].GetMetric() {
		if h := m.GetHistogram(); h.GetSampleCount() != 3 || h.GetSampleSum() != 0 {
			t.Errorf("lateness: %d observations, sum %v; want 3 (ok, hold, bad), all on time", h.GetSampleCount(), h.GetSampleSum())
		}
	}
	// Low cardinality: no run numbers, commands or fire times in labels.
	allowed := map[string]bool{"job": true, "outcome": true, "executor": true, "version": true}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.HasPrefix(name, "jobctl_") && !allowed[l.GetName()] {
					t.Errorf("%s has a label %s=%q: not one of job, outcome, executor, version", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("no %s: Go's process metrics are missing", name)
		}
	}
}

func TestMetricsLabelledByScheduler(t *testing.T) {
	w := newWorld(t, "host:42", newJob(t, "ok", "ok", schedule.Spec{Cron: "0 * * * *", Timezone: "UTC"}, t0, nil))
	w.waitFor("the run to end", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.ended == 1 })
	fams := w.scrape()
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var sched string
			for _, l := range m.GetLabel() {
				if l.GetName() == "scheduler" {
					sched = l.GetValue()
				}
			}
			jobctl := strings.HasPrefix(name, "jobctl_")
			if jobctl && sched != "host:42" {
				t.Errorf("%s has scheduler %q, want host:42", name, sched)
			}
			if !jobctl && sched != "" {
				t.Errorf("%s, a process metric, has scheduler %q", name, sched)
			}
		}
	}
	if v, ok := value(fams, "jobctl_runs_total", map[string]string{"job": "ok", "scheduler": "host:42"}); !ok || v != 1 {
		t.Errorf("runs of ok labelled by scheduler: %v (found %v), want 1", v, ok)
	}
}

func TestMetricsForgetARemovedJob(t *testing.T) {
	w := newWorld(t, "", newJob(t, "ok", "ok", schedule.Spec{Cron: "0 * * * *", Timezone: "UTC"}, t0, nil))
	w.waitFor("the run to end", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.ended == 1 })
	err := w.st.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.DeleteJob("ok"); err != nil {
			return err
		}
		return tx.RecordChange(store.Change{Kind: store.JobRemoved, JobID: "ok", Time: w.clock.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	w.waitFor("the job's series to go", func() bool {
		fams := w.scrape()
		_, runs := value(fams, "jobctl_runs_total", map[string]string{"job": "ok"})
		_, paused := value(fams, "jobctl_job_paused", map[string]string{"job": "ok"})
		return !runs && !paused
	})
}

func TestMetricsPingFailures(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler()) // a 404 is final: no retry
	defer gone.Close()
	w := newWorld(t, "", newJob(t, "ok", "ok", schedule.Spec{Cron: "0 * * * *", Timezone: "UTC"}, t0,
		func(o *store.Options) { o.Ping = gone.URL + "/check" }))
	w.waitFor("the start and end pings to fail", func() bool {
		v, _ := value(w.scrape(), "jobctl_ping_failures_total", nil)
		return v == 2
	})
}

// TestMetricsSkippedAndPaused: a fire time that finds the job's one
// instance still running is skipped, and counted so; the scheduler's pause
// is reported.
func TestMetricsSkippedAndPaused(t *testing.T) {
	w := newWorld(t, "", newJob(t, "hold", "hold", schedule.Spec{Cron: "0 * * * *", Timezone: "UTC"}, t0, nil))
	w.waitFor("hold to start", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.started["hold"] })
	w.clock.Set(t0.Add(time.Hour)) // its next fire time, while it runs
	w.waitFor("the fire time to be skipped", func() bool {
		v, _ := value(w.scrape(), "jobctl_skipped_total", map[string]string{"job": "hold"})
		return v == 1
	})
	fams := w.scrape()
	if v, ok := value(fams, "jobctl_runs_total", map[string]string{"job": "hold", "outcome": "skipped"}); !ok || v != 1 {
		t.Errorf("skipped runs of hold: %v (found %v), want 1", v, ok)
	}
	if v, ok := value(fams, "jobctl_runs_running", map[string]string{"job": "hold"}); !ok || v != 1 {
		t.Errorf("runs of hold running: %v (found %v), want 1 (the skipped one never ran)", v, ok)
	}
	err := w.st.Update(t.Context(), func(tx store.Tx) error {
		_, err := store.SetPaused(tx, true, w.clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	w.waitFor("the pause to be reported", func() bool {
		v, _ := value(w.scrape(), "jobctl_scheduler_paused", nil)
		return v == 1
	})
}
