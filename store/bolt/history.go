package bolt

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/jobctl/jobctl/store"
)

// Two buckets keep the run history cheap to read and to trim, whatever its
// size (schema 2):
//
//	history    time(Submitted) + job id + 0 + run seq -> empty, every stored run
//	finished   job id -> count of the job's stored runs that are not running
//
// The newest runs of all jobs are the last keys of history, so reading N
// of them costs O(N log n); the count says at once whether a job's history
// is over its limit, so recording a run costs no walk over the history.

var (
	bucketHistory  = []byte("history")
	bucketFinished = []byte("finished")
)

// historyKey orders runs as store.Tx.Runs does for all jobs: by Submitted
// time, then job id, then seq. Job ids hold no NUL, so the 0 after the id
// keeps "a" before "ab".
func historyKey(id string, seq uint64, submitted time.Time) []byte {
	k := append(timeKey(submitted), id...)
	k = append(k, 0)
	return append(k, u64(seq)...)
}

// parseHistoryKey returns the job id and run seq of a history key.
func parseHistoryKey(k []byte) (id string, seq uint64, ok bool) {
	if len(k) < timeKeyLen+1+8 || k[len(k)-9] != 0 {
		return "", 0, false
	}
	return string(k[timeKeyLen : len(k)-9]), getU64(k[len(k)-8:]), true
}

// submittedOf reads a stored run's Submitted time, all a history key needs.
func submittedOf(v []byte) time.Time {
	var r struct {
		Submitted time.Time `json:"submitted"`
	}
	_ = json.Unmarshal(v, &r) // a run that does not decode has the zero time
	return r.Submitted
}

// finishedRuns is how many of the job's stored runs are not running.
func (t *tx) finishedRuns(id string) uint64 {
	return getU64(t.bucket(bucketFinished).Get([]byte(id)))
}

func (t *tx) setFinishedRuns(id string, n uint64) error {
	return t.bucket(bucketFinished).Put([]byte(id), u64(n))
}

// prune keeps the job's newest finished runs, as many as the history limit,
// and every run in progress: it drops the oldest finished runs beyond the
// limit, which after one run ends is one run, found at the start of the
// job's bucket.
func (t *tx) prune(runs *boltBucket, id string) error {
	s, err := t.Settings()
	if err != nil {
		return err
	}
	limit := uint64(s.KeptRuns())
	n := t.finishedRuns(id)
	if n <= limit {
		return nil
	}
	running, history := t.bucket(bucketRunning), t.bucket(bucketHistory)
	var gone, indexed [][]byte // the runs' keys, and their history keys
	c := runs.Cursor()
	for k, v := c.First(); k != nil && n-uint64(len(gone)) > limit; k, v = c.Next() {
		if seq := getU64(k); !has(running, runningKey(id, seq)) {
			gone = append(gone, bytes.Clone(k))
			indexed = append(indexed, historyKey(id, seq, submittedOf(v)))
		}
	}
	for i := range gone {
		if err := runs.Delete(gone[i]); err != nil {
			return err
		}
		if err := history.Delete(indexed[i]); err != nil {
			return err
		}
	}
	return t.setFinishedRuns(id, n-uint64(len(gone)))
}

// runsOfAll reads the newest n runs of all jobs (n <= 0: all) from the
// end of the history index.
func (t *tx) runsOfAll(n int) ([]*store.Run, error) {
	var out []*store.Run
	all := t.bucket(bucketRuns)
	c := t.bucket(bucketHistory).Cursor()
	for k, _ := c.Last(); k != nil && (n <= 0 || len(out) < n); k, _ = c.Prev() {
		id, seq, ok := parseHistoryKey(k)
		if !ok {
			continue
		}
		var v []byte
		if runs := all.Bucket([]byte(id)); runs != nil {
			v = runs.Get(u64(seq))
		}
		if v == nil {
			continue // the index outlived its run: not one to show
		}
		r, err := store.DecodeRun(id, seq, v)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// RunKeys reads runsOfAll's keys from the history index, and of the
// runs only whether they are there.
func (t *tx) RunKeys(n int) ([]store.RunKey, error) {
	var out []store.RunKey
	all := t.bucket(bucketRuns)
	c := t.bucket(bucketHistory).Cursor()
	for k, _ := c.Last(); k != nil && (n <= 0 || len(out) < n); k, _ = c.Prev() {
		id, seq, ok := parseHistoryKey(k)
		if !ok {
			continue
		}
		if runs := all.Bucket([]byte(id)); runs == nil || runs.Get(u64(seq)) == nil {
			continue // as runsOfAll: the index outlived its run
		}
		out = append(out, store.RunKey{JobID: id, Seq: seq})
	}
	return out, nil
}

// upgradeHistory brings a schema 1 file to schema 2: it indexes every
// stored run and counts each job's finished runs, in the transaction that
// first writes to the file.
func upgradeHistory(t *tx) error {
	for _, name := range [][]byte{bucketHistory, bucketFinished} {
		if _, err := t.kv.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	history, running, all := t.bucket(bucketHistory), t.bucket(bucketRunning), t.bucket(bucketRuns)
	counts := map[string]uint64{}
	jc := all.Cursor()
	for name, _ := jc.First(); name != nil; name, _ = jc.Next() {
		runs := all.Bucket(name)
		if runs == nil {
			continue
		}
		id := string(name)
		counts[id] = 0
		c := runs.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			seq := getU64(k)
			if err := history.Put(historyKey(id, seq, submittedOf(v)), nil); err != nil {
				return err
			}
			if !has(running, runningKey(id, seq)) {
				counts[id]++
			}
		}
	}
	for id, n := range counts {
		if err := t.setFinishedRuns(id, n); err != nil {
			return err
		}
	}
	t.dirty = true
	return t.kv.Bucket(bucketMeta).Put(metaSchema, u64(schemaVersion))
}
