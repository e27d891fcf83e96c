package store

// The transaction logic (tx.go) is written once, against this small ordered
// key/value interface: the part of bbolt's API it needs. bbolt implements it
// through thin adapters (bolt.go); the memory store implements it with
// ordered trees (memory.go). Both stores therefore share one encoding and
// one set of invariants, and behave the same by construction.
//
// The contract is bbolt's: keys are ordered bytewise; Get and cursors return
// nil for a missing key and a nil value for a nested bucket; returned slices
// are valid only until the transaction ends and must not be modified; a
// cursor's behaviour is undefined if its bucket is modified while it is in
// use, so the logic collects keys first and writes after.

type kvTx interface {
	Bucket(name []byte) kvBucket // nil if absent
	CreateBucketIfNotExists(name []byte) (kvBucket, error)
}

type kvBucket interface {
	Get(k []byte) []byte
	Put(k, v []byte) error
	Delete(k []byte) error
	Cursor() kvCursor
	Bucket(name []byte) kvBucket // nil if absent
	CreateBucketIfNotExists(name []byte) (kvBucket, error)
	DeleteBucket(name []byte) error
	// NextSequence returns the bucket's next sequence number, from 1; it
	// does not go back when keys are deleted.
	NextSequence() (uint64, error)
}

type kvCursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	Next() (k, v []byte)
	Prev() (k, v []byte)
	Seek(k []byte) (key, v []byte) // the first key >= k
}
