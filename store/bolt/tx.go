package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jobctl/jobctl/store"
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
	schemaVersion = 2
)

var errReadOnlyTx = errors.New("store: write in a read-only transaction")

// errOldSchema is a file of schema 1, which the first Update upgrades (see
// upgradeHistory) and Open upgrades at once.
var errOldSchema = errors.New("written by an older jobctl (schema version 1): it is upgraded by the first jobctl command that writes to it")

// schemaError is a file that opens as a bbolt database but is not one this
// code can use; the store turns it into a FileError naming the path.
type schemaError struct{ problem string }

func (e schemaError) Error() string { return e.problem }

// initSchema lays out an empty database.
func initSchema(kv boltTx) error {
	for _, name := range [][]byte{bucketJobs, bucketIndex, bucketRuns, bucketRunning, bucketHistory, bucketFinished, bucketChanges, bucketMeta} {
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
func checkSchema(kv boltTx) error {
	meta := kv.Bucket(bucketMeta)
	if meta == nil || !bytes.Equal(meta.Get(metaMagic), []byte(magic)) {
		return schemaError{"not a jobctl database"}
	}
	v := meta.Get(metaSchema)
	if len(v) != 8 {
		return schemaError{"damaged database: no schema version"}
	}
	n := binary.BigEndian.Uint64(v)
	if n != schemaVersion && n != 1 {
		if n > schemaVersion {
			return schemaError{fmt.Sprintf("written by a newer jobctl (schema version %d, this one reads %d); upgrade jobctl", n, schemaVersion)}
		}
		return schemaError{fmt.Sprintf("damaged database: unknown schema version %d", n)}
	}
	buckets := [][]byte{bucketJobs, bucketIndex, bucketRuns, bucketRunning, bucketChanges}
	if n == schemaVersion {
		buckets = append(buckets, bucketHistory, bucketFinished)
	}
	for _, name := range buckets {
		if kv.Bucket(name) == nil {
			return schemaError{fmt.Sprintf("damaged database: no %s bucket", name)}
		}
	}
	if n == 1 {
		return errOldSchema
	}
	return nil
}

// stamp identifies a commit: the database file's instance (new when a file
// is created, so a deleted and re-created file is not mistaken for the old
// one) and its commit counter.
type stamp struct{ instance, commits uint64 }

func readStamp(kv boltTx) stamp {
	meta := kv.Bucket(bucketMeta)
	return stamp{getU64(meta.Get(metaInstance)), getU64(meta.Get(metaCommits))}
}

// tx implements store.Tx over a bbolt transaction.
type tx struct {
	kv       boltTx
	writable bool
	dirty    bool            // something was written: commit, count and signal it
	settings *store.Settings // read once per transaction
	// jobs and index hold PutJob's writes to those buckets until the
	// transaction next reads the bucket or commits (see batch).
	jobs, index batch
	// changes are the journal entries recorded and not yet written: see
	// RecordChange.
	changes []store.Change
	err     error // a batch's write failed; the commit fails with it
}

func newTx(kv boltTx, writable bool) *tx {
	return &tx{kv: kv, writable: writable, jobs: batch{}, index: batch{}}
}

// batch is a bucket's puts, written in key order when the bucket is next
// read or the transaction commits. bbolt keeps the keys a transaction adds
// to a node in one sorted slice until the commit splits it, so keys put in
// no order move the keys after them each time: applying 100,000 jobs, whose
// index keys come in the order of their next run times, took 30 s; put in
// key order, each is an append.
type batch map[string][]byte

// flush writes the batch into b, in key order, and empties it. Pages that
// fill up as keys are appended are split nearly full, as bbolt advises for
// sequential writes, rather than half full.
func (p batch) flush(b *boltBucket) error {
	if len(p) == 0 {
		return nil
	}
	b.b.FillPercent = 0.9
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if err := b.Put([]byte(k), p[k]); err != nil {
			return err
		}
	}
	clear(p)
	return nil
}

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

// bumpCommits writes what is batched and increments the commit counter,
// returning the stamp before.
func (t *tx) bumpCommits() (stamp, error) {
	t.bucket(bucketJobs)
	t.bucket(bucketIndex)
	t.bucket(bucketChanges)
	old := readStamp(t.kv)
	if t.err != nil {
		return old, t.err
	}
	return old, t.kv.Bucket(bucketMeta).Put(metaCommits, u64(old.commits+1))
}

// bucket returns the named top-level bucket, with the writes batched for it
// written.
func (t *tx) bucket(name []byte) *boltBucket {
	b := t.kv.Bucket(name)
	var err error
	switch {
	case bytes.Equal(name, bucketJobs):
		err = t.jobs.flush(b)
	case bytes.Equal(name, bucketIndex):
		err = t.index.flush(b)
	case bytes.Equal(name, bucketChanges):
		err = t.writeChanges(b)
	}
	if err != nil && t.err == nil {
		t.err = err
	}
	return b
}

func (t *tx) Job(id string) (*store.Job, error) {
	v, ok := t.jobs[id]
	if !ok {
		v = t.kv.Bucket(bucketJobs).Get([]byte(id))
	}
	if v == nil {
		return nil, fmt.Errorf("job %q: %w", id, store.ErrNotFound)
	}
	return store.DecodeJob(id, v), nil
}

func (t *tx) Jobs(fn func(*store.Job) error) error {
	c := t.bucket(bucketJobs).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(store.DecodeJob(string(k), v)); err != nil {
			return err
		}
	}
	return nil
}

// indexKey is j's key in the run-time index, if it belongs there.
func indexKey(j *store.Job) ([]byte, bool) {
	if j.State != store.Active || j.NextRun.IsZero() {
		return nil, false
	}
	return append(timeKey(j.NextRun), j.ID...), true
}

func (t *tx) PutJob(j *store.Job) error {
	v, err := store.EncodeJob(j)
	if err != nil {
		return err
	}
	if err := t.write(); err != nil {
		return err
	}
	newKey, inIndex := indexKey(j)
	old, batched := t.jobs[j.ID]
	if !batched {
		old = t.kv.Bucket(bucketJobs).Get([]byte(j.ID))
	}
	if old != nil {
		// A stored job too damaged to say where it was indexed leaves its
		// key behind; Due drops such stale keys when it meets them.
		if oldKey, ok := storedIndexKey(j.ID, old); ok && !(inIndex && bytes.Equal(oldKey, newKey)) {
			delete(t.index, string(oldKey))
			if err := t.kv.Bucket(bucketIndex).Delete(oldKey); err != nil {
				return err
			}
		}
	}
	t.jobs[j.ID] = v
	if inIndex {
		t.index[string(newKey)] = nil
	}
	return nil
}

// storedIndexKey is the index key of a stored job, read without parsing its
// trigger (a job broken by its trigger is still indexed where it was).
func storedIndexKey(id string, v []byte) ([]byte, bool) {
	var j struct {
		State   store.State `json:"state"`
		NextRun time.Time   `json:"next_run"`
	}
	if json.Unmarshal(v, &j) != nil {
		return nil, false
	}
	return indexKey(&store.Job{ID: id, State: j.State, NextRun: j.NextRun})
}

func (t *tx) DeleteJob(id string) error {
	jobs := t.bucket(bucketJobs)
	v := jobs.Get([]byte(id))
	if v == nil {
		return fmt.Errorf("job %q: %w", id, store.ErrNotFound)
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
	if mine := runs.Bucket([]byte(id)); mine != nil {
		history := t.bucket(bucketHistory)
		c := mine.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := history.Delete(historyKey(id, getU64(k), submittedOf(v))); err != nil {
				return err
			}
		}
		if err := runs.DeleteBucket([]byte(id)); err != nil {
			return err
		}
	}
	if err := t.bucket(bucketFinished).Delete([]byte(id)); err != nil {
		return err
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
func (t *tx) Due(now time.Time, limit int) ([]*store.Job, error) {
	index, jobs := t.bucket(bucketIndex), t.bucket(bucketJobs)
	bound := timeKey(now)
	var due []*store.Job
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
		j := store.DecodeJob(id, v)
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

// RecordChange keeps c until the journal is next read or the transaction
// commits: of a transaction's changes, only the newest JournalLimit are
// ever stored, so applying 100,000 jobs writes 1000 entries, not 100,000
// entries and 99,000 deletions.
func (t *tx) RecordChange(c store.Change) error {
	if err := t.write(); err != nil {
		return err
	}
	t.changes = append(t.changes, c)
	return nil
}

// writeChanges numbers the recorded changes and writes the newest of them,
// dropping the entries they push out of the journal.
func (t *tx) writeChanges(b *boltBucket) error {
	if len(t.changes) == 0 {
		return nil
	}
	last := b.Sequence() + uint64(len(t.changes))
	if err := b.SetSequence(last); err != nil {
		return err
	}
	var first uint64 // the oldest seq the journal keeps
	if last > store.JournalLimit {
		first = last - store.JournalLimit + 1
	}
	var gone [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && getU64(k) < first; k, _ = c.Next() {
		gone = append(gone, bytes.Clone(k))
	}
	for _, k := range gone {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	for i, ch := range t.changes {
		ch.Seq = last - uint64(len(t.changes)-1-i)
		if ch.Seq < first {
			continue
		}
		v, err := json.Marshal(ch)
		if err != nil {
			return err
		}
		if err := b.Put(u64(ch.Seq), v); err != nil {
			return err
		}
	}
	t.changes = t.changes[:0]
	return nil
}

func (t *tx) ChangesSince(seq uint64) ([]store.Change, error) {
	var out []store.Change
	c := t.bucket(bucketChanges).Cursor()
	for k, v := c.Seek(u64(seq + 1)); k != nil; k, v = c.Next() {
		ch, err := store.DecodeChange(getU64(k), v)
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, nil
}

func (t *tx) Settings() (store.Settings, error) {
	if t.settings != nil {
		return *t.settings, nil
	}
	s, err := store.DecodeSettings(t.bucket(bucketMeta).Get(metaSettings))
	if err != nil {
		return s, err
	}
	t.settings = &s
	return s, nil
}

func (t *tx) PutSettings(s store.Settings) error {
	if err := s.Check(); err != nil {
		return err
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
func has(b *boltBucket, k []byte) bool {
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
