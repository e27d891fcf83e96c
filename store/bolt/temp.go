package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/jobctl/jobctl/store"
)

// OpenTemp returns a Store that no other process can reach: a new database
// file in the temporary directory, unlinked as soon as it is open, so it
// lives as long as the Store and leaves nothing behind, even after a crash.
// It is kept open, its commits are not fsynced (it would not outlive the
// process anyway) and it takes no file locks, but it is otherwise the bbolt
// store: the same layout, encoding and behaviour. The memory engine is
// this.
func OpenTemp() (store.Store, error) {
	f, err := os.CreateTemp("", "jobctl-*.db") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("temporary database: %w", err)
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{NoSync: true, NoGrowSync: true, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("temporary database %s: %w", path, err)
	}
	if err := db.Update(func(btx *bbolt.Tx) error { return initSchema(boltTx{btx}) }); err != nil {
		db.Close()
		return nil, fmt.Errorf("temporary database %s: %w", path, err)
	}
	s := &tempStore{db: db}
	s.watch.init()
	return s, nil
}

type tempStore struct {
	db    *bbolt.DB // safe for concurrent use: Views share it, Updates take turns
	watch watchers

	mu     sync.Mutex
	closed bool // guarded by mu: Watch after Close fails
}

func (s *tempStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return closedIs(s.db.View(func(btx *bbolt.Tx) error { return fn(newTx(boltTx{btx}, false)) }))
}

// errUnchanged rolls back an Update that wrote nothing.
var errUnchanged = errors.New("unchanged")

func (s *tempStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(btx *bbolt.Tx) error {
		t := newTx(boltTx{btx}, true)
		if err := fn(t); err != nil {
			return err
		}
		if !t.dirty {
			return errUnchanged
		}
		_, err := t.bumpCommits()
		return err
	})
	switch {
	case errors.Is(err, errUnchanged):
		return nil
	case err == nil:
		s.watch.broadcast()
	}
	return closedIs(err)
}

// closedIs reports bbolt's "database not open" as the Store being closed.
func closedIs(err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return err
}

func (s *tempStore) Watch(ctx context.Context) (<-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	ch, _ := s.watch.add(ctx)
	return ch, nil
}

func (s *tempStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.watch.close()
	return s.db.Close()
}
