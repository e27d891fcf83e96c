package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

// defaultRuns is how many runs /api/runs gives without ?n=, as jobctl
// history shows.
const defaultRuns = 20

// jobJSON is /api/jobs/{id}: the job as jobctl list -o json gives it, and
// its newest runs as jobctl history -o json gives them, without their
// output (/api/jobs/{id}/runs/{seq} has it).
type jobJSON struct {
	view.Job
	Runs []view.Run `json:"runs"`
}

// schedulerJSON is /api/scheduler: this scheduler, and its fleet.
type schedulerJSON struct {
	Owner      string                  `json:"owner"`
	Version    string                  `json:"version"`
	Alive      bool                    `json:"alive"`
	Paused     bool                    `json:"paused"`
	StoreError *string                 `json:"store_error"` // null: none
	Fleet      bool                    `json:"fleet"`
	Executors  map[string]executorJSON `json:"executors"`
	Instances  map[string]int          `json:"instances"` // runs here, by job
	Members    []view.Member           `json:"members"`   // the fleet's, as scheduler status gives them; [] on a store of one scheduler
	// SnapshotTime is when the jobs and runs the API shows were read.
	SnapshotTime *string `json:"snapshot_time"`
}

// executorJSON is an executor's pool (runner.ExecutorStats).
type executorJSON struct {
	Workers int `json:"workers"`
	Busy    int `json:"busy"`
	Queued  int `json:"queued"`
}

func (h *Handler) apiJobs(w http.ResponseWriter, r *http.Request) {
	snap := h.snapshot(w)
	if snap == nil {
		return
	}
	out := make([]view.Job, len(snap.Jobs))
	for i, j := range snap.Jobs {
		out[i] = view.NewJob(j.Job)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) apiJob(w http.ResponseWriter, r *http.Request) {
	j := h.job(w, r)
	if j == nil {
		return
	}
	out := jobJSON{Job: view.NewJob(j.Job), Runs: runsJSON(j.Runs, j.Location())}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) apiJobRuns(w http.ResponseWriter, r *http.Request) {
	n, ok := runsParam(w, r, 0)
	if !ok {
		return
	}
	j := h.job(w, r)
	if j == nil {
		return
	}
	runs := j.Runs
	if n > 0 && len(runs) > n {
		runs = runs[:n]
	}
	writeJSON(w, http.StatusOK, runsJSON(runs, j.Location()))
}

// apiRun is one run with its output, however old: the only answer of the
// API read from the store (one short read, one at a time; see tails).
func (h *Handler) apiRun(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("run %q: not a run number", r.PathValue("seq")))
		return
	}
	job, run, err := h.tails.run(r.Context(), id, seq)
	switch {
	case errors.Is(err, store.ErrNotFound) && job == nil:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q", id))
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("job %q has no run %d", id, seq))
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("reading run %d of job %q: %v", seq, id, err))
	default:
		writeJSON(w, http.StatusOK, view.NewRun(run, job.Location()))
	}
}

func (h *Handler) apiRuns(w http.ResponseWriter, r *http.Request) {
	n, ok := runsParam(w, r, defaultRuns)
	if !ok {
		return
	}
	snap := h.snapshot(w)
	if snap == nil {
		return
	}
	type located struct {
		run *store.Run
		loc *time.Location
	}
	var all []located
	for _, j := range snap.Jobs {
		loc := j.Location()
		for _, run := range j.Runs {
			all = append(all, located{run, loc})
		}
	}
	// Newest first by Submitted, as tx.Runs("", n) orders them.
	slices.SortStableFunc(all, func(a, b located) int { return b.run.Submitted.Compare(a.run.Submitted) })
	if n > 0 && len(all) > n {
		all = all[:n]
	}
	out := make([]view.Run, len(all))
	for i, l := range all {
		out[i] = view.NewRun(l.run, l.loc)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) apiScheduler(w http.ResponseWriter, r *http.Request) {
	out := schedulerJSON{Version: h.cfg.Version, Executors: map[string]executorJSON{}, Instances: map[string]int{}, Members: []view.Member{}}
	if h.cfg.Stats != nil {
		st := h.cfg.Stats()
		out.Owner, out.Alive, out.Paused, out.Fleet = st.Owner, st.Alive, st.Paused, st.Fleet
		if st.StoreError != nil {
			s := st.StoreError.Error()
			out.StoreError = &s
		}
		for name, e := range st.Executors {
			out.Executors[name] = executorJSON(e)
		}
		for id, n := range st.Instances {
			out.Instances[id] = n
		}
	}
	if snap := h.cfg.Board.Snapshot(); snap != nil {
		out.Paused = snap.Paused // the store's word, newer than the loop's last look
		storeNow := snap.StoreNow(h.cfg.Now())
		for _, m := range snap.Members {
			out.Members = append(out.Members, view.NewMember(m, storeNow, time.UTC))
		}
		// In UTC: the server's zone means nothing to a client.
		out.SnapshotTime = view.Time(snap.Taken, time.UTC)
	}
	writeJSON(w, http.StatusOK, out)
}

// snapshot returns the board's snapshot, or answers 503 when there is none
// yet.
func (h *Handler) snapshot(w http.ResponseWriter) *board.Snapshot {
	snap := h.cfg.Board.Snapshot()
	if snap == nil {
		writeError(w, http.StatusServiceUnavailable, "the jobs have not been read yet: try again in a second")
	}
	return snap
}

// job returns the job the path names, or answers 404.
func (h *Handler) job(w http.ResponseWriter, r *http.Request) *board.Job {
	snap := h.snapshot(w)
	if snap == nil {
		return nil
	}
	id := r.PathValue("id")
	j := snap.Job(id)
	if j == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q", id))
	}
	return j
}

// runsParam reads ?n=, a count of runs (0: all of them); def without it.
func runsParam(w http.ResponseWriter, r *http.Request, def int) (int, bool) {
	s := r.URL.Query().Get("n")
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("n=%q: not a count of runs (0 for all)", s))
		return 0, false
	}
	return n, true
}

func runsJSON(runs []*store.Run, loc *time.Location) []view.Run {
	out := make([]view.Run, len(runs))
	for i, r := range runs {
		out[i] = view.NewRun(r, loc)
	}
	return out
}

// writeJSON writes v indented, as jobctl's -o json does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
