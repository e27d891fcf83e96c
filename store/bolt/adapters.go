package bolt

import (
	bbolt "go.etcd.io/bbolt"
)

// The transaction logic (tx.go, runs.go) reaches bbolt only through the
// adapters below, which mark every panic bbolt raises (it panics on some
// damaged pages) so that the store can report it as a damaged file and let
// any other panic, the caller's, go on (see corrupt).
//
// The contract is bbolt's: keys are ordered bytewise; Get and cursors return
// nil for a missing key and a nil value for a nested bucket; returned slices
// are valid only until the transaction ends and must not be modified; a
// cursor's behaviour is undefined if its bucket is modified while it is in
// use, so the logic collects keys first and writes after.

// boltTx and the types below adapt bbolt, marking any
// panic from bbolt (see corrupt).
type boltTx struct{ tx *bbolt.Tx }

func (t boltTx) Bucket(name []byte) *boltBucket {
	defer rethrow()
	if b := t.tx.Bucket(name); b != nil {
		return &boltBucket{b}
	}
	return nil
}

func (t boltTx) CreateBucketIfNotExists(name []byte) (*boltBucket, error) {
	defer rethrow()
	b, err := t.tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return &boltBucket{b}, nil
}

type boltBucket struct{ b *bbolt.Bucket }

func (b *boltBucket) Get(k []byte) []byte {
	defer rethrow()
	return b.b.Get(k)
}

func (b *boltBucket) Put(k, v []byte) error {
	defer rethrow()
	return b.b.Put(k, v)
}

func (b *boltBucket) Delete(k []byte) error {
	defer rethrow()
	return b.b.Delete(k)
}

func (b *boltBucket) Cursor() *boltCursor {
	defer rethrow()
	return &boltCursor{b.b.Cursor()}
}

func (b *boltBucket) Bucket(name []byte) *boltBucket {
	defer rethrow()
	if sub := b.b.Bucket(name); sub != nil {
		return &boltBucket{sub}
	}
	return nil
}

func (b *boltBucket) CreateBucketIfNotExists(name []byte) (*boltBucket, error) {
	defer rethrow()
	sub, err := b.b.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return &boltBucket{sub}, nil
}

func (b *boltBucket) DeleteBucket(name []byte) error {
	defer rethrow()
	return b.b.DeleteBucket(name)
}

func (b *boltBucket) Sequence() uint64 {
	defer rethrow()
	return b.b.Sequence()
}

func (b *boltBucket) SetSequence(n uint64) error {
	defer rethrow()
	return b.b.SetSequence(n)
}

func (b *boltBucket) NextSequence() (uint64, error) {
	defer rethrow()
	return b.b.NextSequence()
}

type boltCursor struct{ c *bbolt.Cursor }

func (c *boltCursor) First() ([]byte, []byte) {
	defer rethrow()
	return c.c.First()
}

func (c *boltCursor) Last() ([]byte, []byte) {
	defer rethrow()
	return c.c.Last()
}

func (c *boltCursor) Next() ([]byte, []byte) {
	defer rethrow()
	return c.c.Next()
}

func (c *boltCursor) Prev() ([]byte, []byte) {
	defer rethrow()
	return c.c.Prev()
}

func (c *boltCursor) Seek(k []byte) ([]byte, []byte) {
	defer rethrow()
	return c.c.Seek(k)
}
