// Package postgres is the store engine on a PostgreSQL database, through
// pgx: one database shared by the CLI on any machine and by several
// schedulers at once (a fleet), each fire time run once.
//
// # Layout
//
// Tables are named jobctl_*, in the schema the connection's search_path
// puts first; schema.go creates and migrates them (jobctl_schema holds the
// version).
//
//	jobs        id, doc (the Job as JSON, as store.EncodeJob gives it),
//	            next_run (the index: set exactly when the job is active and
//	            has a next run), run_seq (the seq of its newest run)
//	runs        job_id, seq, fire_time, attempt, submitted, outcome, owner,
//	            doc (the Run as JSON, bytes); unique (job_id, fire_time,
//	            attempt); indexed by submitted, and the running ones by owner
//	changes     seq, doc (the Change as JSON): the journal
//	settings    one row: the Settings as JSON
//	schedulers  the fleet: id, host, pid, version, started, heartbeat,
//	            lease_until (by the database's clock)
//	periods     kind, start, scheduler, doc (the store.Period as JSON): the
//	            newest store.PeriodLimit of each kind
//
// # Transactions and claims
//
// View is a REPEATABLE READ, READ ONLY transaction: one snapshot. Update
// is READ COMMITTED, and locks what it reads to change: Job and Jobs take
// the rows FOR UPDATE, and Due takes the due jobs FOR UPDATE SKIP LOCKED,
// so that schedulers planning at once each claim different jobs and never
// wait for one another, while a command changing a job waits for the
// scheduler planning it, and then reads what it wrote. An Update that fails
// on a serialization failure or a deadlock is tried again, fn included, as
// the store contract allows.
//
// The unique key on (job_id, fire_time, attempt) makes a second claim of
// one fire time impossible, even by a scheduler that is wrong about what it
// owns: AddRun then returns store.ErrDuplicateRun and the transaction goes on.
//
// Times in the columns have PostgreSQL's microseconds; the docs keep Go's
// nanoseconds, and what is read back comes from them.
//
// # Watching
//
// An Update that writes ends with pg_notify('jobctl', ”) and bumps the
// sequence jobctl_commits. Watch LISTENs on its own connection, and checks
// once in a while (safetyPoll) in case a notification was lost with a
// connection; with the URL parameter jobctl_poll=DURATION (for poolers such
// as PgBouncer in transaction mode, which break LISTEN) it only polls the
// sequence, at that interval.
//
// # The fleet
//
// Schedulers sharing the database register in schedulers and renew a lease
// there, by the database's clock (see FleetTx in package store, and fleet.go).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jobctl/jobctl/store"
)

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// opTimeout bounds one transaction once it has begun: a statement that
// hangs on a dead connection gives up, and the caller tries again.
const opTimeout = 30 * time.Second

// maxRetries bounds the tries of an Update that keeps conflicting.
const maxRetries = 10

// Store is a jobctl store in a PostgreSQL database.
type Store struct {
	pool      *pgxpool.Pool
	listenCfg *pgx.ConnConfig // for Watch's own connection
	poll      time.Duration   // jobctl_poll: 0 to LISTEN
	display   string          // the URL without its password, for messages

	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed by Close: ends the watchers
}

// Open connects to the database at rawURL (a libpq URL, postgres://...),
// and creates or migrates jobctl's schema there. Besides libpq's
// parameters the URL may carry jobctl_poll=DURATION (see the package doc).
func Open(ctx context.Context, rawURL string) (*Store, error) {
	c, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{display: c.display, poll: c.poll, listenCfg: c.pool.ConnConfig.Copy(), done: make(chan struct{})}
	if s.pool, err = pgxpool.NewWithConfig(ctx, c.pool); err != nil {
		return nil, fmt.Errorf("database %s: %w", s.display, err)
	}
	if err := ensureSchema(ctx, s.pool); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("database %s: %w", s.display, err)
	}
	return s, nil
}

// CheckURL reports why rawURL is not a database URL that Open takes,
// naming it without its password: for callers that tell bad input apart
// from a server that does not answer.
func CheckURL(rawURL string) error {
	_, err := parseURL(rawURL)
	return err
}

// config is what a database URL says.
type config struct {
	pool    *pgxpool.Config
	poll    time.Duration // jobctl_poll, else 0
	display string        // the URL without its password
}

func parseURL(rawURL string) (*config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password and all
		}
		return nil, fmt.Errorf("database URL: %w", err)
	}
	c := &config{display: u.Redacted()}
	q := u.Query()
	if p := q.Get("jobctl_poll"); p != "" {
		if c.poll, err = time.ParseDuration(p); err != nil || c.poll <= 0 {
			return nil, fmt.Errorf("database URL %s: jobctl_poll=%q is not a positive duration (such as 1s)", c.display, p)
		}
		q.Del("jobctl_poll")
		u.RawQuery = q.Encode()
	}
	if c.pool, err = pgxpool.ParseConfig(u.String()); err != nil {
		return nil, fmt.Errorf("database URL %s: %w", c.display, err)
	}
	if c.pool.ConnConfig.ConnectTimeout == 0 {
		c.pool.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	return c, nil
}

// String is the database's URL without its password.
func (s *Store) String() string { return s.display }

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close closes the connections, and the channels of Watch.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.done)
	s.pool.Close()
	return nil
}

func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, false, fn)
}

func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, true, fn)
}

func (s *Store) run(ctx context.Context, writable bool, fn func(store.Tx) error) error {
	for try := 1; ; try++ {
		err := s.try(ctx, writable, fn)
		if err == nil || !retryable(err) || try == maxRetries {
			return err
		}
	}
}

// try runs fn in one transaction. ctx bounds the wait for a connection;
// the transaction itself runs under opTimeout, whatever becomes of ctx.
func (s *Store) try(ctx context.Context, writable bool, fn func(store.Tx) error) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		if s.isClosed() {
			return store.ErrClosed
		}
		return fmt.Errorf("database %s: %w", s.display, err)
	}
	defer conn.Release()
	opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	opts := pgx.TxOptions{IsoLevel: pgx.ReadCommitted}
	if !writable {
		opts = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	}
	ptx, err := conn.BeginTx(opCtx, opts)
	if err != nil {
		return fmt.Errorf("database %s: %w", s.display, err)
	}
	// Rolls back what fn wrote when it fails or panics; after a commit
	// it does nothing.
	defer ptx.Rollback(opCtx)
	t := &tx{ctx: opCtx, tx: ptx, writable: writable}
	if err := fn(t); err != nil {
		return err
	}
	if !t.dirty {
		return nil // nothing written: nothing to commit, no one to wake
	}
	if err := t.flush(); err != nil {
		return err
	}
	if _, err := ptx.Exec(opCtx, "SELECT pg_notify('jobctl', ''), nextval('jobctl_commits')"); err != nil {
		return err
	}
	if err := ptx.Commit(opCtx); err != nil {
		return fmt.Errorf("database %s: commit: %w", s.display, err)
	}
	return nil
}

// retryable reports whether err is a conflict with another transaction,
// after which the same transaction may succeed.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}
