package metrics

import (
	"maps"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

var (
	runningDesc = prometheus.NewDesc("jobctl_runs_running",
		"Runs of the job this scheduler has started and not yet ended.", []string{"job"}, nil)
	nextRunDesc = prometheus.NewDesc("jobctl_job_next_run_timestamp_seconds",
		"When the job runs next, in Unix seconds; absent when it has no next run (paused, finished).", []string{"job"}, nil)
	lastRunDesc = prometheus.NewDesc("jobctl_job_last_run_timestamp_seconds",
		"When the job's newest run of each outcome ended (or was decided, for one not run), in Unix seconds, whichever scheduler made it.", []string{"job", "outcome"}, nil)
	lastSuccessDesc = prometheus.NewDesc("jobctl_job_last_success_timestamp_seconds",
		"When the job's newest successful run ended, in Unix seconds, whichever scheduler made it; absent when none of its newest runs (50) succeeded.", []string{"job"}, nil)
	jobPausedDesc = prometheus.NewDesc("jobctl_job_paused",
		"1 while the job is paused, else 0.", []string{"job"}, nil)
	busyDesc = prometheus.NewDesc("jobctl_executor_busy_workers",
		"Workers of the executor running a run now.", []string{"executor"}, nil)
	schedulerPausedDesc = prometheus.NewDesc("jobctl_scheduler_paused",
		"1 while the scheduler is paused (jobctl scheduler pause), else 0.", nil, nil)
	pingFailuresDesc = prometheus.NewDesc("jobctl_ping_failures_total",
		"Pings of run monitors given up after their retries (or dropped, their queue full).", nil, nil)
	buildDesc = prometheus.NewDesc("jobctl_build_info",
		"Always 1; the version of jobctl serving these metrics.", []string{"version"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{runningDesc, nextRunDesc, lastRunDesc, lastSuccessDesc, jobPausedDesc, busyDesc, schedulerPausedDesc, pingFailuresDesc, buildDesc} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(buildDesc, 1, c.cfg.Version)
	st := c.cfg.Stats()
	gauge(schedulerPausedDesc, bit(st.Paused))
	ch <- prometheus.MustNewConstMetric(pingFailuresDesc, prometheus.CounterValue, float64(st.PingFailures))
	for name, e := range st.Executors {
		gauge(busyDesc, float64(e.Busy), name)
	}
	var snap []jobState
	if c.cfg.Snapshot != nil {
		if s := c.cfg.Snapshot(); s != nil {
			snap = c.read(s.Jobs)
		}
	}
	c.mu.Lock()
	running := make(map[string]int, len(c.running))
	for id, seqs := range c.running {
		running[id] = len(seqs)
	}
	c.mu.Unlock()
	for _, j := range snap {
		gauge(runningDesc, float64(running[j.id]), j.id)
		delete(running, j.id)
		gauge(jobPausedDesc, bit(j.paused), j.id)
		if j.next > 0 {
			gauge(nextRunDesc, j.next, j.id)
		}
		for o, at := range j.last {
			gauge(lastRunDesc, at, j.id, string(o))
			if o == store.Success {
				gauge(lastSuccessDesc, at, j.id)
			}
		}
	}
	// Runs of jobs the snapshot does not have yet (added a moment ago).
	for id, n := range running {
		gauge(runningDesc, float64(n), id)
	}
}

// jobState is what a scrape reports of one job of the snapshot.
type jobState struct {
	id     string
	paused bool
	next   float64 // 0: none
	last   map[store.Outcome]float64
}

// read takes the snapshot's jobs, and merges their runs into c.last,
// which forgets the jobs the snapshot no longer has.
func (c *stateCollector) read(jobs []*board.Job) []jobState {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := make(map[string]map[store.Outcome]float64, len(jobs))
	out := make([]jobState, 0, len(jobs))
	for _, j := range jobs {
		s := jobState{id: j.ID, paused: j.State == store.Paused}
		if at, _ := view.NextRun(j.Job); !at.IsZero() { // as jobctl list says it
			s.next = unix(at)
		}
		last := c.last[j.ID]
		if last == nil {
			last = map[store.Outcome]float64{}
			c.last[j.ID] = last
		}
		for _, r := range j.Runs {
			if r.Outcome == store.Running {
				continue
			}
			last[r.Outcome] = max(last[r.Outcome], unix(view.LastTime(r)))
		}
		kept[j.ID] = last
		s.last = maps.Clone(last)
		out = append(out, s)
	}
	c.last = kept
	return out
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func bit(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
