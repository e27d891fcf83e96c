package bolt

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/jobctl/jobctl/store"
)

// bucketPeriods holds the scheduler's periods (see the package doc). A file
// made before periods were recorded lacks it until the first PutPeriod:
// older files need no upgrade, and an older jobctl ignores the bucket.
var bucketPeriods = []byte("periods")

// periodPrefix is the start of the keys of one kind's periods.
func periodPrefix(kind store.PeriodKind) []byte {
	return append([]byte(kind), 0)
}

// periodKey is where p is kept: its kind, then its start, then its
// scheduler, so a kind's periods are in Start order.
func periodKey(p store.Period) []byte {
	return append(append(periodPrefix(p.Kind), timeKey(p.Start)...), p.Scheduler...)
}

func (t *tx) PutPeriod(p store.Period) error {
	if err := p.Check(); err != nil {
		return err
	}
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := t.write(); err != nil {
		return err
	}
	b, err := t.kv.CreateBucketIfNotExists(bucketPeriods)
	if err != nil {
		return err
	}
	if err := b.Put(periodKey(p), v); err != nil {
		return err
	}
	// At most PeriodLimit+1 keys of the kind: the walk is short.
	prefix := periodPrefix(p.Kind)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys[:max(len(keys)-store.PeriodLimit, 0)] {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) Periods(kind store.PeriodKind) ([]store.Period, error) {
	b := t.kv.Bucket(bucketPeriods)
	if b == nil {
		return nil, nil
	}
	prefix := periodPrefix(kind)
	var out []store.Period
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		p, err := store.DecodePeriod(v)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.Reverse(out)
	return out, nil
}
