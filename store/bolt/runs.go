package bolt

import (
	"encoding/json"
	"fmt"

	"github.com/jobctl/jobctl/store"
)

// The run history: the runs/<job id> buckets and the running index, kept
// as the package doc says.

func (t *tx) AddRun(r *store.Run) error {
	return t.newRun(r, func(runs *boltBucket) (err error) {
		r.Seq, err = runs.NextSequence()
		return err
	})
}

// RestoreRun writes r under its own seq, and moves the job's bucket
// sequence, which AddRun numbers from, up to it.
func (t *tx) RestoreRun(r *store.Run) error {
	if r.Seq == 0 {
		return fmt.Errorf("run of job %q: seq 0 (runs are numbered from 1)", r.JobID)
	}
	return t.newRun(r, func(runs *boltBucket) error {
		if runs.Get(u64(r.Seq)) != nil {
			return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, store.ErrExists)
		}
		if runs.Sequence() < r.Seq {
			return runs.SetSequence(r.Seq)
		}
		return nil
	})
}

// newRun stores r as a new run of its job, numbered by seq, which is given
// the job's runs bucket; AddRun and RestoreRun differ only there.
func (t *tx) newRun(r *store.Run, seq func(runs *boltBucket) error) error {
	if err := r.Check(); err != nil {
		return err
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
	if err := seq(runs); err != nil {
		return err
	}
	if err := t.putRun(runs, r, true); err != nil {
		return err
	}
	return t.prune(runs, r.JobID)
}

// putRun writes r, keeping the running set, the history index and the
// job's count of finished runs in step with it. A run that was stored
// before (PutRun) may change its outcome, not its Submitted time.
func (t *tx) putRun(runs *boltBucket, r *store.Run, isNew bool) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, err)
	}
	running, key := t.bucket(bucketRunning), runningKey(r.JobID, r.Seq)
	wasFinished := !isNew && !has(running, key)
	if err := runs.Put(u64(r.Seq), v); err != nil {
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, err)
	}
	if isNew {
		if err := t.bucket(bucketHistory).Put(historyKey(r.JobID, r.Seq, r.Submitted), nil); err != nil {
			return err
		}
	}
	isFinished := r.Outcome != store.Running
	if n := t.finishedRuns(r.JobID); isFinished != wasFinished {
		if isFinished {
			n++
		} else {
			n--
		}
		if err := t.setFinishedRuns(r.JobID, n); err != nil {
			return err
		}
	}
	if isFinished {
		return running.Delete(key)
	}
	return running.Put(key, nil)
}

func (t *tx) PutRun(r *store.Run) error {
	if err := r.Check(); err != nil {
		return err
	}
	runs := t.bucket(bucketRuns).Bucket([]byte(r.JobID))
	var old []byte
	if runs != nil {
		old = runs.Get(u64(r.Seq))
	}
	if old == nil {
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, store.ErrNotFound)
	}
	if !submittedOf(old).Equal(r.Submitted) {
		return fmt.Errorf("run %s/%d: its submitted time cannot change", r.JobID, r.Seq)
	}
	if err := t.write(); err != nil {
		return err
	}
	if err := t.putRun(runs, r, false); err != nil {
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
	return store.DecodeRun(jobID, seq, v)
}

// Runs of one job walk its bucket backwards; runs of all jobs, the history
// index.
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
			r, err := store.DecodeRun(jobID, getU64(k), v)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	return t.runsOfAll(n)
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
