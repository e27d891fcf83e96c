package store

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
)

// NewMemory returns an empty Store that lives in memory: the same layout,
// encoding and behaviour as the bbolt store, without a file. Jobs and runs go
// in and out as copies. Views run concurrently; updates are serialised, and
// an update that fails (or panics) is undone entry by entry.
//
// A memory store has no other process to hear from, so its Watch channels
// signal every commit that changed something, whoever made it; a caller
// that writes is woken by its own commits as well, and must treat a signal
// as "look again", not as "someone else changed something". Commits that
// change nothing signal nothing, so a loop that reads in Update is not woken
// by itself forever.
func NewMemory() Store {
	m := &memStore{root: emptyMemTx().b}
	m.watch.init()
	return m
}

// emptyMemTx is a writable transaction on a new, empty database.
func emptyMemTx() *memTx {
	t := &memTx{b: newMemBucket()}
	if err := initSchema(t); err != nil {
		panic("store: laying out an empty memory store: " + err.Error()) // cannot fail: nothing is stored yet
	}
	t.undo = nil // nothing to undo before the first transaction
	return t
}

type memStore struct {
	mu     sync.RWMutex
	root   *memBucket
	closed bool
	watch  watchers
}

var errClosed = errors.New("store is closed")

func (m *memStore) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return errClosed
	}
	return fn(newTx(&memTx{b: m.root, readOnly: true}, false))
}

func (m *memStore) Update(ctx context.Context, fn func(Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errClosed
	}
	kv := &memTx{b: m.root}
	committed := false
	defer func() {
		if !committed {
			kv.rollback()
		}
	}()
	t := newTx(kv, true)
	if err := fn(t); err != nil {
		return err
	}
	committed = true
	if t.dirty {
		m.watch.broadcast()
	}
	return nil
}

func (m *memStore) Watch(ctx context.Context) (<-chan struct{}, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	ch, _ := m.watch.add(ctx)
	return ch, nil
}

func (m *memStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		m.watch.close()
	}
	return nil
}

// memTx is a memory transaction: the buckets it reaches, and an undo log of
// every write so that a failed update leaves the store as it found it.
type memTx struct {
	b        *memBucket
	readOnly bool
	undo     *[]func()
}

func (t *memTx) log(f func()) {
	if t.undo == nil {
		t.undo = new([]func())
	}
	*t.undo = append(*t.undo, f)
}

func (t *memTx) rollback() {
	if t.undo == nil {
		return
	}
	for i := len(*t.undo) - 1; i >= 0; i-- {
		(*t.undo)[i]()
	}
	*t.undo = nil
}

func (t *memTx) sub(b *memBucket) *memTx {
	if t.undo == nil {
		t.undo = new([]func())
	}
	return &memTx{b: b, readOnly: t.readOnly, undo: t.undo}
}

var (
	errMemReadOnly     = errors.New("memory store: write in a read-only transaction")
	errMemIncompatible = errors.New("memory store: incompatible value")
	errMemNoBucket     = errors.New("memory store: bucket not found")
)

func (t *memTx) Get(k []byte) []byte {
	if it := t.b.items.get(string(k)); it != nil {
		return it.val
	}
	return nil
}

func (t *memTx) Put(k, v []byte) error {
	if t.readOnly {
		return errMemReadOnly
	}
	key := string(k)
	old := t.b.items.get(key)
	if old != nil && old.sub != nil {
		return errMemIncompatible
	}
	items := &t.b.items
	t.log(func() {
		if old == nil {
			items.del(key)
		} else {
			items.set(key, old)
		}
	})
	// Copied: the caller may reuse v, and readers must not see it change.
	items.set(key, &memItem{val: append(make([]byte, 0, len(v)), v...)})
	return nil
}

func (t *memTx) Delete(k []byte) error {
	if t.readOnly {
		return errMemReadOnly
	}
	key := string(k)
	old := t.b.items.get(key)
	if old == nil {
		return nil
	}
	if old.sub != nil {
		return errMemIncompatible
	}
	items := &t.b.items
	t.log(func() { items.set(key, old) })
	items.del(key)
	return nil
}

func (t *memTx) Bucket(name []byte) kvBucket {
	if it := t.b.items.get(string(name)); it != nil && it.sub != nil {
		return t.sub(it.sub)
	}
	return nil
}

func (t *memTx) CreateBucketIfNotExists(name []byte) (kvBucket, error) {
	if t.readOnly {
		return nil, errMemReadOnly
	}
	key := string(name)
	if it := t.b.items.get(key); it != nil {
		if it.sub == nil {
			return nil, errMemIncompatible
		}
		return t.sub(it.sub), nil
	}
	b := newMemBucket()
	items := &t.b.items
	t.log(func() { items.del(key) })
	items.set(key, &memItem{sub: b})
	return t.sub(b), nil
}

func (t *memTx) DeleteBucket(name []byte) error {
	if t.readOnly {
		return errMemReadOnly
	}
	key := string(name)
	old := t.b.items.get(key)
	if old == nil || old.sub == nil {
		return errMemNoBucket
	}
	// The deleted bucket is detached, never changed again, so putting the
	// same value back restores it exactly.
	items := &t.b.items
	t.log(func() { items.set(key, old) })
	items.del(key)
	return nil
}

func (t *memTx) NextSequence() (uint64, error) {
	if t.readOnly {
		return 0, errMemReadOnly
	}
	b, old := t.b, t.b.seq
	t.log(func() { b.seq = old })
	b.seq++
	return b.seq, nil
}

func (t *memTx) Cursor() kvCursor { return &memCursor{items: &t.b.items} }

// memBucket is an ordered map of keys to values or nested buckets.
type memBucket struct {
	items treap
	seq   uint64
}

type memItem struct {
	val []byte
	sub *memBucket
}

func newMemBucket() *memBucket {
	return &memBucket{items: treap{seed: maphash.MakeSeed()}}
}

// memCursor remembers its key rather than a position in the tree, so each
// step is a search: O(log n), and never confused by the tree reshaping.
type memCursor struct {
	items *treap
	at    *tnode
}

func (c *memCursor) kv(n *tnode) ([]byte, []byte) {
	c.at = n
	if n == nil {
		return nil, nil
	}
	return []byte(n.key), n.item.val
}

func (c *memCursor) First() ([]byte, []byte) { return c.kv(c.items.first()) }
func (c *memCursor) Last() ([]byte, []byte)  { return c.kv(c.items.last()) }
func (c *memCursor) Seek(k []byte) ([]byte, []byte) {
	return c.kv(c.items.ceil(string(k), false))
}

func (c *memCursor) Next() ([]byte, []byte) {
	if c.at == nil {
		return nil, nil
	}
	return c.kv(c.items.ceil(c.at.key, true))
}

func (c *memCursor) Prev() ([]byte, []byte) {
	if c.at == nil {
		return nil, nil
	}
	return c.kv(c.items.floorBelow(c.at.key))
}

// treap is a binary search tree kept balanced in expectation by heap-ordered
// priorities. A key's priority is a seeded hash of it, so it needs no
// randomness at insertion and the shape does not depend on the key order.
type treap struct {
	root *tnode
	seed maphash.Seed
}

type tnode struct {
	key         string
	item        *memItem
	prio        uint64
	left, right *tnode
}

func (t *treap) get(k string) *memItem {
	for n := t.root; n != nil; {
		switch {
		case k < n.key:
			n = n.left
		case k > n.key:
			n = n.right
		default:
			return n.item
		}
	}
	return nil
}

func (t *treap) set(k string, it *memItem) {
	t.root = t.insert(t.root, k, it)
}

func (t *treap) insert(n *tnode, k string, it *memItem) *tnode {
	if n == nil {
		return &tnode{key: k, item: it, prio: maphash.String(t.seed, k)}
	}
	switch {
	case k < n.key:
		n.left = t.insert(n.left, k, it)
		if n.left.prio > n.prio {
			l := n.left
			n.left, l.right = l.right, n
			return l
		}
	case k > n.key:
		n.right = t.insert(n.right, k, it)
		if n.right.prio > n.prio {
			r := n.right
			n.right, r.left = r.left, n
			return r
		}
	default:
		n.item = it
	}
	return n
}

func (t *treap) del(k string) { t.root = remove(t.root, k) }

func remove(n *tnode, k string) *tnode {
	switch {
	case n == nil:
		return nil
	case k < n.key:
		n.left = remove(n.left, k)
	case k > n.key:
		n.right = remove(n.right, k)
	default:
		return merge(n.left, n.right)
	}
	return n
}

// merge joins two treaps whose keys are all ordered a before b.
func merge(a, b *tnode) *tnode {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		a.right = merge(a.right, b)
		return a
	default:
		b.left = merge(a, b.left)
		return b
	}
}

func (t *treap) first() *tnode {
	n := t.root
	for n != nil && n.left != nil {
		n = n.left
	}
	return n
}

func (t *treap) last() *tnode {
	n := t.root
	for n != nil && n.right != nil {
		n = n.right
	}
	return n
}

// ceil returns the node with the least key >= k (> k if strict).
func (t *treap) ceil(k string, strict bool) *tnode {
	var best *tnode
	for n := t.root; n != nil; {
		if n.key > k || (!strict && n.key == k) {
			best, n = n, n.left
		} else {
			n = n.right
		}
	}
	return best
}

// floorBelow returns the node with the greatest key < k.
func (t *treap) floorBelow(k string) *tnode {
	var best *tnode
	for n := t.root; n != nil; {
		if n.key < k {
			best, n = n, n.right
		} else {
			n = n.left
		}
	}
	return best
}
