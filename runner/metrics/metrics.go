// Package metrics is what jobctl run serves at /metrics, in Prometheus's
// text format, through the official client library: counts and durations
// of the runs a scheduler made, and the state of the jobs it schedules.
//
// The names follow supercronic's and kube-state-metrics' conventions, and
// the labels stay few and bounded: a job's id, an outcome, an executor's
// name; never a run's number or a command. On a store a fleet shares, each
// scheduler serves its own metrics with a scheduler label, its owner name,
// so that a fleet's are summed or told apart in PromQL.
//
// Two kinds of sources, neither of them the store itself at a scrape:
//
//   - Events (Observe, from the runner's Events hook) count and time the
//     runs this scheduler makes: jobctl_runs_total, the histograms,
//     jobctl_runs_running, jobctl_missed_total, jobctl_skipped_total.
//   - At each scrape, the board's latest snapshot (the store as read a
//     moment ago, the whole fleet's) gives the jobs' next runs, pauses and
//     last runs; the scheduler's Stats its executors, its pause and its
//     pings' failures.
package metrics

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/store"
)

// Buckets of the histograms, in seconds: a run's duration from 10 ms to
// 6 h; a start's lateness from 1 ms (a timely start) to 5 min (a run that
// waited for a worker).
var (
	DurationBuckets = []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600}
	LatenessBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
)

// Config is where the metrics read what they report.
type Config struct {
	// Stats is the scheduler's (runner.Scheduler.Stats).
	Stats func() runner.Stats
	// Snapshot is the board's latest (board.Board.Snapshot); nil before
	// the first, when the jobs' metrics are absent.
	Snapshot func() *board.Snapshot
	// Scheduler, if set, labels every jobctl_ metric scheduler=Scheduler:
	// the owner name of a member of a fleet.
	Scheduler string
	// Version is jobctl's, for jobctl_build_info.
	Version string
}

// Metrics is a registry of jobctl's metrics and Go's process metrics.
type Metrics struct {
	reg      *prometheus.Registry
	runs     *prometheus.CounterVec   // job, outcome
	duration *prometheus.HistogramVec // job
	lateness prometheus.Histogram
	missed   *prometheus.CounterVec // job
	skipped  *prometheus.CounterVec // job
	state    *stateCollector
}

// New registers the metrics.
func New(cfg Config) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jobctl_runs_total",
			Help: "Runs recorded by this scheduler, by job and outcome (success, failed, timeout, interrupted, cancelled, missed, skipped).",
		}, []string{"job", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jobctl_run_duration_seconds",
			Help:    "How long the runs this scheduler made took, from their start to their end.",
			Buckets: DurationBuckets,
		}, []string{"job"}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "jobctl_start_lateness_seconds",
			Help:    "How long after its fire time each run started (jitter and waits for a worker included).",
			Buckets: LatenessBuckets,
		}),
		missed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jobctl_missed_total",
			Help: "Fire times this scheduler did not run because they were later than their misfire grace.",
		}, []string{"job"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jobctl_skipped_total",
			Help: "Fire times this scheduler did not run because the job's max instances were running.",
		}, []string{"job"}),
		state: &stateCollector{cfg: cfg, running: map[string]map[uint64]bool{}, last: map[string]map[store.Outcome]float64{}},
	}
	var jobctl prometheus.Registerer = m.reg
	if cfg.Scheduler != "" {
		jobctl = prometheus.WrapRegistererWith(prometheus.Labels{"scheduler": cfg.Scheduler}, m.reg)
	}
	jobctl.MustRegister(m.runs, m.duration, m.lateness, m.missed, m.skipped, m.state)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the format the scraper asks for: the
// text format, or OpenMetrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// Observe counts an event of the scheduler. It returns at once, as the
// runner's Events hook must.
func (m *Metrics) Observe(e runner.Event) {
	r := e.Run
	switch e.Name {
	case store.EventJobStarted:
		m.lateness.Observe(max(r.Started.Sub(r.FireTime).Seconds(), 0))
		m.state.started(r)
	case store.EventJobExecuted, store.EventJobError:
		m.runs.WithLabelValues(r.JobID, string(r.Outcome)).Inc()
		if !r.Started.IsZero() && !r.Ended.IsZero() {
			m.duration.WithLabelValues(r.JobID).Observe(r.Ended.Sub(r.Started).Seconds())
		}
		m.state.ended(r)
	case store.EventJobMissed:
		m.runs.WithLabelValues(r.JobID, string(store.Missed)).Inc()
		m.missed.WithLabelValues(r.JobID).Inc()
	case store.EventJobMaxInstances:
		m.runs.WithLabelValues(r.JobID, string(store.Skipped)).Inc()
		m.skipped.WithLabelValues(r.JobID).Inc()
	case store.EventJobRemoved:
		// A removed job's series go with it, as kube-state-metrics drops
		// a deleted object's.
		for _, v := range []interface {
			DeletePartialMatch(prometheus.Labels) int
		}{m.runs, m.duration, m.missed, m.skipped} {
			v.DeletePartialMatch(prometheus.Labels{"job": e.JobID})
		}
		m.state.removed(e.JobID)
	}
}

// stateCollector reports, at each scrape, the runs running and what the
// snapshot and the scheduler's Stats say.
type stateCollector struct {
	cfg Config

	// mu guards running and last, which Observe and Collect share.
	mu      sync.Mutex
	running map[string]map[uint64]bool // job -> seqs of its runs started and not ended
	// last is each job's newest run of each outcome, in Unix seconds: the
	// newest in the snapshots seen, so that a success that has left the
	// board's window of recent runs is not forgotten.
	last map[string]map[store.Outcome]float64
}

func (c *stateCollector) started(r *store.Run) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running[r.JobID] == nil {
		c.running[r.JobID] = map[uint64]bool{}
	}
	c.running[r.JobID][r.Seq] = true
}

func (c *stateCollector) ended(r *store.Run) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A run interrupted by a scheduler's death, ended here, did not
	// start here: it is in no set.
	delete(c.running[r.JobID], r.Seq)
}

func (c *stateCollector) removed(jobID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.running, jobID)
	delete(c.last, jobID)
}
