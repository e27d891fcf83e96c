package store

import (
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Bucket and meta key names; see the package doc for the layout.
var (
	bucketJobs    = []byte("jobs")
	bucketIndex   = []byte("index")
	bucketRuns    = []byte("runs")
	bucketRunning = []byte("running")
	bucketChanges = []byte("changes")
	bucketMeta    = []byte("meta")

	metaMagic    = []byte("magic")
	metaSchema   = []byte("schema")
	metaInstance = []byte("instance")
	metaCommits  = []byte("commits")
	metaSettings = []byte("settings")
)

const (
	magic = "jobctl"
	// schemaVersion is the layout this code reads and writes. A file with a
	// higher version is refused rather than misread.
	schemaVersion = 1
	// journalLimit is how many changes the journal keeps: far more than a
	// running scheduler, woken within a second of each commit, falls behind.
	journalLimit = 1000
)

var errReadOnlyTx = errors.New("store: write in a read-only transaction")

// schemaError is a file that opens as a bbolt database but is not one this
// code can use; the store turns it into a FileError naming the path.
type schemaError struct{ problem string }

func (e schemaError) Error() string { return e.problem }

// initSchema lays out an empty database.
func initSchema(kv kvTx) error {
	for _, name := range [][]byte{bucketJobs, bucketIndex, bucketRuns, bucketRunning, bucketChanges, bucketMeta} {
		if _, err := kv.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := kv.Bucket(bucketMeta)
	for k, v := range map[string][]byte{
		string(metaMagic):    []byte(magic),
		string(metaSchema):   u64(schemaVersion),
		string(metaInstance): u64(rand.Uint64()),
		string(metaCommits):  u64(0),
	} {
		if err := meta.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

// checkSchema reports whether kv holds a jobctl database this code can read.
func checkSchema(kv kvTx) error {
	meta := kv.Bucket(bucketMeta)
	if meta == nil || !bytes.Equal(meta.Get(metaMagic), []byte(magic)) {
		return schemaError{"not a jobctl database"}
	}
	v := meta.Get(metaSchema)
	if len(v) != 8 {
		return schemaError{"damaged database: no schema version"}
	}
	if n := binary.BigEndian.Uint64(v); n != schemaVersion {
		if n > schemaVersion {
			return schemaError{fmt.Sprintf("written by a newer jobctl (schema version %d, this one reads %d); upgrade jobctl", n, schemaVersion)}
		}
		return schemaError{fmt.Sprintf("damaged database: unknown schema version %d", n)}
	}
	for _, name := range [][]byte{bucketJobs, bucketIndex, bucketRuns, bucketRunning, bucketChanges} {
		if kv.Bucket(name) == nil {
			return schemaError{fmt.Sprintf("damaged database: no %s bucket", name)}
		}
	}
	return nil
}

// stamp identifies a commit: the database file's instance (new when a file
// is created, so a deleted and re-created file is not mistaken for the old
// one) and its commit counter.
type stamp struct{ instance, commits uint64 }

func readStamp(kv kvTx) stamp {
	meta := kv.Bucket(bucketMeta)
	return stamp{getU64(meta.Get(metaInstance)), getU64(meta.Get(metaCommits))}
}

// tx implements Tx over a kvTx; both stores use it.
type tx struct {
	kv       kvTx
	writable bool
	dirty    bool      // something was written: commit, count and signal it
	settings *Settings // read once per transaction
}

func newTx(kv kvTx, writable bool) *tx { return &tx{kv: kv, writable: writable} }

// write marks the transaction dirty, or refuses if it is read-only. Each
// write method calls it once its checks have passed and before it writes, so
// an update whose writes were all refused commits nothing.
func (t *tx) write() error {
	if !t.writable {
		return errReadOnlyTx
	}
	t.dirty = true
	return nil
}

// bumpCommits increments the commit counter, returning the stamp before.
func (t *tx) bumpCommits() (stamp, error) {
	old := readStamp(t.kv)
	return old, t.kv.Bucket(bucketMeta).Put(metaCommits, u64(old.commits+1))
}

func (t *tx) bucket(name []byte) kvBucket { return t.kv.Bucket(name) }

func (t *tx) Job(id string) (*Job, error) {
	v := t.bucket(bucketJobs).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("job %q: %w", id, ErrNotFound)
	}
	return decodeJob(id, v), nil
}

func (t *tx) Jobs(fn func(*Job) error) error {
	c := t.bucket(bucketJobs).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(decodeJob(string(k), v)); err != nil {
			return err
		}
	}
	return nil
}

// decodeJob never fails: a job that cannot be used is returned Broken,
// with the reason, under the id it is stored as.
func decodeJob(id string, v []byte) *Job {
	j := new(Job)
	if err := json.Unmarshal(v, j); err != nil {
		return &Job{ID: id, Broken: "cannot decode the stored job: " + err.Error()}
	}
	switch {
	case j.ID != id:
		j.Broken = fmt.Sprintf("stored under id %q but says it is %q", id, j.ID)
		j.ID = id
	case !validState(j.State):
		j.Broken = fmt.Sprintf("unknown state %q", j.State)
	default:
		if _, err := j.ParseTrigger(); err != nil {
			j.Broken = "trigger: " + err.Error()
		}
	}
	return j
}

func validState(s State) bool { return s == Active || s == Paused || s == Finished }

// indexKey is j's key in the run-time index, if it belongs there.
func indexKey(j *Job) ([]byte, bool) {
	if j.State != Active || j.NextRun.IsZero() {
		return nil, false
	}
	return append(timeKey(j.NextRun), j.ID...), true
}

func (t *tx) PutJob(j *Job) error {
	if j.Broken != "" {
		return fmt.Errorf("job %q is broken (%s); it is kept as stored", j.ID, j.Broken)
	}
	if j.ID == "" {
		return errors.New("job has no id")
	}
	if !validState(j.State) {
		return fmt.Errorf("job %q: unknown state %q", j.ID, j.State)
	}
	if _, err := j.ParseTrigger(); err != nil {
		return fmt.Errorf("job %q: trigger: %w", j.ID, err)
	}
	v, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("job %q: %w", j.ID, err)
	}
	if err := t.write(); err != nil {
		return err
	}
	id := []byte(j.ID)
	jobs, index := t.bucket(bucketJobs), t.bucket(bucketIndex)
	newKey, inIndex := indexKey(j)
	if old := jobs.Get(id); old != nil {
		// A stored job too damaged to say where it was indexed leaves its
		// key behind; Due drops such stale keys when it meets them.
		if oldKey, ok := storedIndexKey(j.ID, old); ok && !(inIndex && bytes.Equal(oldKey, newKey)) {
			if err := index.Delete(oldKey); err != nil {
				return err
			}
		}
	}
	if err := jobs.Put(id, v); err != nil {
		return fmt.Errorf("job %q: %w", j.ID, err)
	}
	if inIndex {
		return index.Put(newKey, nil)
	}
	return nil
}

// storedIndexKey is the index key of a stored job, read without parsing its
// trigger (a job broken by its trigger is still indexed where it was).
func storedIndexKey(id string, v []byte) ([]byte, bool) {
	var j struct {
		State   State     `json:"state"`
		NextRun time.Time `json:"next_run"`
	}
	if json.Unmarshal(v, &j) != nil {
		return nil, false
	}
	return indexKey(&Job{ID: id, State: j.State, NextRun: j.NextRun})
}

func (t *tx) DeleteJob(id string) error {
	jobs := t.bucket(bucketJobs)
	v := jobs.Get([]byte(id))
	if v == nil {
		return fmt.Errorf("job %q: %w", id, ErrNotFound)
	}
	if err := t.write(); err != nil {
		return err
	}
	if key, ok := storedIndexKey(id, v); ok {
		if err := t.bucket(bucketIndex).Delete(key); err != nil {
			return err
		}
	}
	if err := jobs.Delete([]byte(id)); err != nil {
		return err
	}
	runs := t.bucket(bucketRuns)
	if runs.Bucket([]byte(id)) != nil {
		if err := runs.DeleteBucket([]byte(id)); err != nil {
			return err
		}
	}
	// The running set is small (runs in progress), so scanning it is cheap.
	running := t.bucket(bucketRunning)
	var gone [][]byte
	c := running.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) > 8 && string(k[8:]) == id {
			gone = append(gone, bytes.Clone(k))
		}
	}
	for _, k := range gone {
		if err := running.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Due walks the index from its start and stops at the first key after now,
// so it reads only the due entries. An entry whose job is missing, broken,
// or no longer active at that time is stale: a writable transaction drops
// it, so a broken job is reported once and not again at every wake-up.
func (t *tx) Due(now time.Time, limit int) ([]*Job, error) {
	index, jobs := t.bucket(bucketIndex), t.bucket(bucketJobs)
	bound := timeKey(now)
	var due []*Job
	var stale [][]byte
	c := index.Cursor()
	for k, _ := c.First(); k != nil && (limit <= 0 || len(due) < limit); k, _ = c.Next() {
		if len(k) < timeKeyLen {
			stale = append(stale, bytes.Clone(k))
			continue
		}
		if bytes.Compare(k[:timeKeyLen], bound) > 0 {
			break
		}
		id := string(k[timeKeyLen:])
		v := jobs.Get([]byte(id))
		if v == nil {
			stale = append(stale, bytes.Clone(k))
			continue
		}
		j := decodeJob(id, v)
		if j.Broken != "" {
			due = append(due, j)
			stale = append(stale, bytes.Clone(k))
			continue
		}
		if key, ok := indexKey(j); !ok || !bytes.Equal(key, k) {
			stale = append(stale, bytes.Clone(k))
			continue
		}
		due = append(due, j)
	}
	if t.writable && len(stale) > 0 {
		t.dirty = true
		for _, k := range stale {
			if err := index.Delete(k); err != nil {
				return nil, err
			}
		}
	}
	return due, nil
}

// NextRunTime reads the first index key; it trusts the index (see Due for
// how stale entries leave it).
func (t *tx) NextRunTime() (time.Time, bool, error) {
	c := t.bucket(bucketIndex).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) >= timeKeyLen {
			return keyTime(k), true, nil
		}
	}
	return time.Time{}, false, nil
}

func validOutcome(o Outcome) bool {
	switch o {
	case Running, Success, Failed, TimedOut, Missed, Skipped, Interrupted:
		return true
	}
	return false
}

func (t *tx) AddRun(r *Run) error {
	if !validOutcome(r.Outcome) {
		return fmt.Errorf("run of job %q: unknown outcome %q", r.JobID, r.Outcome)
	}
	id := []byte(r.JobID)
	if t.bucket(bucketJobs).Get(id) == nil {
		return fmt.Errorf("job %q: %w", r.JobID, ErrNotFound)
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
func (t *tx) putRun(runs kvBucket, r *Run) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, err)
	}
	if err := runs.Put(u64(r.Seq), v); err != nil {
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, err)
	}
	running, key := t.bucket(bucketRunning), runningKey(r.JobID, r.Seq)
	if r.Outcome == Running {
		return running.Put(key, nil)
	}
	return running.Delete(key)
}

// prune keeps the job's newest finished runs, as many as the history limit,
// and every run in progress. It reads keys and the running set, never the
// runs themselves, so it costs a walk over about a limit's worth of keys.
func (t *tx) prune(runs kvBucket, id string) error {
	s, err := t.Settings()
	if err != nil {
		return err
	}
	limit := s.HistoryLimit
	if limit <= 0 {
		limit = DefaultHistoryLimit
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

func (t *tx) PutRun(r *Run) error {
	if !validOutcome(r.Outcome) {
		return fmt.Errorf("run of job %q: unknown outcome %q", r.JobID, r.Outcome)
	}
	runs := t.bucket(bucketRuns).Bucket([]byte(r.JobID))
	if runs == nil || runs.Get(u64(r.Seq)) == nil {
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, ErrNotFound)
	}
	if err := t.write(); err != nil {
		return err
	}
	return t.putRun(runs, r)
}

func (t *tx) Run(jobID string, seq uint64) (*Run, error) {
	var v []byte
	if runs := t.bucket(bucketRuns).Bucket([]byte(jobID)); runs != nil {
		v = runs.Get(u64(seq))
	}
	if v == nil {
		return nil, fmt.Errorf("run %s/%d: %w", jobID, seq, ErrNotFound)
	}
	return decodeRun(jobID, seq, v)
}

func decodeRun(jobID string, seq uint64, v []byte) (*Run, error) {
	r := new(Run)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("run %s/%d: cannot decode: %w", jobID, seq, err)
	}
	r.JobID, r.Seq = jobID, seq
	return r, nil
}

// Runs of one job walk its bucket backwards. Runs of all jobs merge the
// newest runs of every job by Submitted time: it reads every job's history
// bucket, a cost paid only by "history of everything".
func (t *tx) Runs(jobID string, n int) ([]*Run, error) {
	if jobID != "" {
		if t.bucket(bucketJobs).Get([]byte(jobID)) == nil {
			return nil, fmt.Errorf("job %q: %w", jobID, ErrNotFound)
		}
		var out []*Run
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
	slices.SortFunc(out, func(a, b *Run) int {
		if newer(a, b) {
			return -1
		}
		return 1
	})
	return out, nil
}

// newer orders runs of all jobs: by Submitted time, then job id and seq, so
// the order is total and repeatable.
func newer(a, b *Run) bool {
	if c := a.Submitted.Compare(b.Submitted); c != 0 {
		return c > 0
	}
	if c := cmp.Compare(a.JobID, b.JobID); c != 0 {
		return c > 0
	}
	return a.Seq > b.Seq
}

type runHeap []*Run

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return newer(h[j], h[i]) }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*Run)) }
func (h *runHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}

func (t *tx) RunningRuns() ([]*Run, error) {
	var out []*Run
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

func (t *tx) RecordChange(c Change) error {
	if err := t.write(); err != nil {
		return err
	}
	changes := t.bucket(bucketChanges)
	seq, err := changes.NextSequence()
	if err != nil {
		return err
	}
	c.Seq = seq
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := changes.Put(u64(seq), v); err != nil {
		return err
	}
	if seq > journalLimit {
		return changes.Delete(u64(seq - journalLimit))
	}
	return nil
}

func (t *tx) ChangesSince(seq uint64) ([]Change, error) {
	var out []Change
	c := t.bucket(bucketChanges).Cursor()
	for k, v := c.Seek(u64(seq + 1)); k != nil; k, v = c.Next() {
		var ch Change
		if err := json.Unmarshal(v, &ch); err != nil {
			return nil, fmt.Errorf("change %d: cannot decode: %w", getU64(k), err)
		}
		out = append(out, ch)
	}
	return out, nil
}

func (t *tx) Settings() (Settings, error) {
	if t.settings != nil {
		return *t.settings, nil
	}
	var s Settings
	if v := t.bucket(bucketMeta).Get(metaSettings); v != nil {
		if err := json.Unmarshal(v, &s); err != nil {
			return Settings{}, fmt.Errorf("settings: cannot decode: %w", err)
		}
	}
	t.settings = &s
	return s, nil
}

func (t *tx) PutSettings(s Settings) error {
	if s.HistoryLimit < 0 {
		return fmt.Errorf("history limit: %d is negative", s.HistoryLimit)
	}
	for _, e := range s.Executors {
		if e.MaxWorkers < 1 {
			return fmt.Errorf("executor %q: max workers %d is less than 1", e.Name, e.MaxWorkers)
		}
	}
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := t.write(); err != nil {
		return err
	}
	t.settings = &s
	return t.bucket(bucketMeta).Put(metaSettings, v)
}

// timeKeyLen is the length of an encoded time: 8 bytes of Unix seconds with
// the sign bit flipped (so negative seconds sort first) and 4 bytes of
// nanoseconds, both big-endian. Unlike UnixNano it orders every time.Time.
const timeKeyLen = 12

func timeKey(t time.Time) []byte {
	k := make([]byte, timeKeyLen, timeKeyLen+32)
	binary.BigEndian.PutUint64(k, uint64(t.Unix())^1<<63)
	binary.BigEndian.PutUint32(k[8:], uint32(t.Nanosecond()))
	return k
}

func keyTime(k []byte) time.Time {
	return time.Unix(int64(binary.BigEndian.Uint64(k)^1<<63), int64(binary.BigEndian.Uint32(k[8:])))
}

// runningKey names a run in the running set: its seq, then its job id.
func runningKey(id string, seq uint64) []byte {
	return append(u64(seq), id...)
}

// has reports whether b holds key k. Get cannot say: bbolt returns nil for
// an empty value, which is what the index and the running set store.
func has(b kvBucket, k []byte) bool {
	got, _ := b.Cursor().Seek(k)
	return bytes.Equal(got, k)
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n) }

func getU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
