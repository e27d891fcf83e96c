package bolt

import (
	"bytes"
	"cmp"
	"container/heap"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jobctl/jobctl/store"
)

// The run history: the runs/<job id> buckets and the running index, kept
// as the package doc says.

func (t *tx) AddRun(r *store.Run) error {
	if !r.Outcome.Valid() {
		return fmt.Errorf("run of job %q: unknown outcome %q", r.JobID, r.Outcome)
	}
	id := []byte(r.JobID)
	if t.bucket(bucketJobs).Get(id) == nil {
		return fmt.Errorf("job %q: %w", r.JobID, store.ErrNotFound)
	}
	if err := t.write(); err != nil {
		return err
	}
	runs, err := t.bucket(bucketRuns).CreateBucketIfNotExists(id)
	if err != nil {
		return err
	}
	seq, err := runs.NextSequence()
	if err != nil {
		return err
	}
	r.Seq = seq
	if err := t.putRun(runs, r); err != nil {
		return err
	}
	return t.prune(runs, r.JobID)
}

// putRun writes r and keeps the running set in step with its outcome.
func (t *tx) putRun(runs *boltBucket, r *store.Run) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, err)
	}
	if err := runs.Put(u64(r.Seq), v); err != nil {
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, err)
	}
	running, key := t.bucket(bucketRunning), runningKey(r.JobID, r.Seq)
	if r.Outcome == store.Running {
		return running.Put(key, nil)
	}
	return running.Delete(key)
}

// prune keeps the job's newest finished runs, as many as the history limit,
// and every run in progress. It reads keys and the running set, never the
// runs themselves, so it costs a walk over about a limit's worth of keys.
func (t *tx) prune(runs *boltBucket, id string) error {
	s, err := t.Settings()
	if err != nil {
		return err
	}
	limit := s.HistoryLimit
	if limit <= 0 {
		limit = store.DefaultHistoryLimit
	}
	running := t.bucket(bucketRunning)
	var finished [][]byte
	c := runs.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if !has(running, runningKey(id, getU64(k))) {
			finished = append(finished, k)
		}
	}
	if len(finished) <= limit {
		return nil
	}
	gone := make([][]byte, 0, len(finished)-limit)
	for _, k := range finished[:len(finished)-limit] {
		gone = append(gone, bytes.Clone(k))
	}
	for _, k := range gone {
		if err := runs.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) PutRun(r *store.Run) error {
	if !r.Outcome.Valid() {
		return fmt.Errorf("run of job %q: unknown outcome %q", r.JobID, r.Outcome)
	}
	runs := t.bucket(bucketRuns).Bucket([]byte(r.JobID))
	if runs == nil || runs.Get(u64(r.Seq)) == nil {
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, store.ErrNotFound)
	}
	if err := t.write(); err != nil {
		return err
	}
	if err := t.putRun(runs, r); err != nil {
		return err
	}
	if r.Outcome == store.Running {
		return nil
	}
	// A run that ends is one more finished run to count against the limit.
	return t.prune(runs, r.JobID)
}

func (t *tx) Run(jobID string, seq uint64) (*store.Run, error) {
	var v []byte
	if runs := t.bucket(bucketRuns).Bucket([]byte(jobID)); runs != nil {
		v = runs.Get(u64(seq))
	}
	if v == nil {
		return nil, fmt.Errorf("run %s/%d: %w", jobID, seq, store.ErrNotFound)
	}
	return decodeRun(jobID, seq, v)
}

func decodeRun(jobID string, seq uint64, v []byte) (*store.Run, error) {
	r := new(store.Run)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("run %s/%d: cannot decode: %w", jobID, seq, err)
	}
	r.JobID, r.Seq = jobID, seq
	return r, nil
}

// Runs of one job walk its bucket backwards. Runs of all jobs merge the
// newest runs of every job by Submitted time: it reads every job's history
// bucket, a cost paid only by "history of everything".
func (t *tx) Runs(jobID string, n int) ([]*store.Run, error) {
	if jobID != "" {
		if t.bucket(bucketJobs).Get([]byte(jobID)) == nil {
			return nil, fmt.Errorf("job %q: %w", jobID, store.ErrNotFound)
		}
		var out []*store.Run
		runs := t.bucket(bucketRuns).Bucket([]byte(jobID))
		if runs == nil {
			return out, nil
		}
		c := runs.Cursor()
		for k, v := c.Last(); k != nil && (n <= 0 || len(out) < n); k, v = c.Prev() {
			r, err := decodeRun(jobID, getU64(k), v)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	// h keeps the n newest runs seen so far, the oldest of them on top.
	h := &runHeap{}
	all := t.bucket(bucketRuns)
	jc := all.Cursor()
	for name, _ := jc.First(); name != nil; name, _ = jc.Next() {
		runs := all.Bucket(name)
		if runs == nil {
			continue
		}
		id := string(name)
		c := runs.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			r, err := decodeRun(id, getU64(k), v)
			if err != nil {
				return nil, err
			}
			if n > 0 && h.Len() == n {
				if !newer(r, (*h)[0]) {
					break // this job's older runs are older still
				}
				heap.Pop(h)
			}
			heap.Push(h, r)
		}
	}
	out := slices.Clone(*h)
	slices.SortFunc(out, func(a, b *store.Run) int {
		if newer(a, b) {
			return -1
		}
		return 1
	})
	return out, nil
}

// newer orders runs of all jobs: by Submitted time, then job id and seq, so
// the order is total and repeatable.
func newer(a, b *store.Run) bool {
	if c := a.Submitted.Compare(b.Submitted); c != 0 {
		return c > 0
	}
	if c := cmp.Compare(a.JobID, b.JobID); c != 0 {
		return c > 0
	}
	return a.Seq > b.Seq
}

type runHeap []*store.Run

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return newer(h[j], h[i]) }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*store.Run)) }
func (h *runHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}

func (t *tx) RunningRuns() ([]*store.Run, error) {
	var out []*store.Run
	c := t.bucket(bucketRunning).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) <= 8 {
			continue
		}
		r, err := t.Run(string(k[8:]), getU64(k[:8]))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
