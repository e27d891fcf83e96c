package runner

import "errors"

// Stats is what a Scheduler is doing, read from its memory, never from the
// store: for metrics, the dashboard and health probes, which may ask often
// and must not take the store's lock from the runs.
type Stats struct {
	Owner string // Config.Owner
	Fleet bool   // on a store a fleet shares
	// Alive: started, not shut down, and its loop has not ended.
	Alive bool
	// Paused is the scheduler's pause as the store said at the loop's
	// last look.
	Paused bool
	// StoreError is the store's failure while the planning or the
	// recording of runs fails (see retry.go); nil once both work.
	StoreError error
	Executors  map[string]ExecutorStats // by name, those that have run or queued a run
	// Instances are the instances of each job submitted or running here,
	// from their planning to their last run's record (jobs with none are
	// absent).
	Instances map[string]int
	// PingFailures counts the run monitors' pings given up since the
	// scheduler started (see pings.go): failed after their retries,
	// refused, or dropped from a full queue or at shutdown. It only grows.
	PingFailures uint64
}

// ExecutorStats is one executor's pool.
type ExecutorStats struct {
	Workers int // its size
	Busy    int // workers running a run
	Queued  int // instances waiting for a worker
}

// Stats returns what s is doing now. It may be called from any goroutine,
// at any time.
func (s *Scheduler) Stats() Stats {
	st := Stats{Owner: s.cfg.Owner, Paused: s.pausedSeen.Load(), StoreError: s.health.err(), PingFailures: s.pings.sender.Failures()}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Fleet = s.fleet != nil && s.state != stateNew
	st.Alive = s.state == stateRunning && s.looping.Load()
	st.Instances = make(map[string]int, len(s.instances))
	for id, n := range s.instances {
		if n > 0 {
			st.Instances[id] = n
		}
	}
	st.Executors = make(map[string]ExecutorStats, len(s.pools))
	for name, p := range s.pools {
		st.Executors[name] = ExecutorStats{Workers: p.max, Busy: p.busy, Queued: len(p.queue)}
	}
	return st
}

// err is the store's failure while some source of its errors fails.
func (h *health) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return errors.Join(h.errs[:]...)
}
