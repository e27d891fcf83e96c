package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/store"
)

// tx is a store.Tx (and a store.FleetTx) on one PostgreSQL transaction.
type tx struct {
	ctx      context.Context
	tx       pgx.Tx
	writable bool
	dirty    bool           // something was written: commit, and notify
	changes  []store.Change // recorded, not yet written (see flush)
	settings *store.Settings
}

var errReadOnly = errors.New("cannot write in a read-only transaction (View)")

func (t *tx) write() error {
	if !t.writable {
		return errReadOnly
	}
	t.dirty = true
	return nil
}

// lock is the row lock an Update takes on what it reads to change.
func (t *tx) lock() string {
	if t.writable {
		return " FOR UPDATE"
	}
	return ""
}

func (t *tx) Job(id string) (*store.Job, error) {
	var doc []byte
	err := t.tx.QueryRow(t.ctx, "SELECT doc::text FROM jobctl_jobs WHERE id = $1"+t.lock(), id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("job %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return store.DecodeJob(id, doc), nil
}

// jobsPage bounds the jobs Jobs holds at once: fn may query too, and a
// connection reads one result at a time.
const jobsPage = 1000

func (t *tx) Jobs(fn func(*store.Job) error) error {
	after, first := "", true
	for {
		rows, err := t.tx.Query(t.ctx, "SELECT id, doc::text FROM jobctl_jobs WHERE $1 OR id > $2 ORDER BY id LIMIT $3"+t.lock(), first, after, jobsPage)
		if err != nil {
			return err
		}
		jobs, err := scanJobs(rows)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if err := fn(j); err != nil {
				return err
			}
		}
		if len(jobs) < jobsPage {
			return nil
		}
		after, first = jobs[len(jobs)-1].ID, false
	}
}

func scanJobs(rows pgx.Rows) ([]*store.Job, error) {
	var out []*store.Job
	var id string
	var doc []byte
	_, err := pgx.ForEachRow(rows, []any{&id, &doc}, func() error {
		out = append(out, store.DecodeJob(id, doc))
		return nil
	})
	return out, err
}

// indexTime is the job's next_run column: its NextRun when it is active,
// else NULL.
func indexTime(j *store.Job) *time.Time {
	if j.State != store.Active || j.NextRun.IsZero() {
		return nil
	}
	return &j.NextRun
}

func (t *tx) PutJob(j *store.Job) error {
	doc, err := store.EncodeJob(j)
	if err != nil {
		return err
	}
	if err := t.write(); err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO jobctl_jobs (id, doc, next_run) VALUES ($1, $2::jsonb, $3)
		ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, next_run = excluded.next_run`, j.ID, string(doc), indexTime(j))
	return err
}

func (t *tx) DeleteJob(id string) error {
	if err := t.write(); err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx, "DELETE FROM jobctl_jobs WHERE id = $1", id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("job %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// Due reads the index. In an Update it claims what it returns: the rows
// stay locked to this transaction, and rows another transaction holds are
// passed over (SKIP LOCKED), not waited for.
func (t *tx) Due(now time.Time, limit int) ([]*store.Job, error) {
	claim := ""
	if t.writable {
		claim = " FOR UPDATE SKIP LOCKED"
	}
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := t.tx.Query(t.ctx, "SELECT id, doc::text FROM jobctl_jobs WHERE next_run <= $1 ORDER BY next_run, id LIMIT $2"+claim, now, lim)
	if err != nil {
		return nil, err
	}
	jobs, err := scanJobs(rows)
	if err != nil {
		return nil, err
	}
	var due []*store.Job
	var stale []string
	for _, j := range jobs {
		if j.Broken != "" || indexTime(j) == nil {
			stale = append(stale, j.ID)
		}
		if j.Broken != "" || indexTime(j) != nil {
			due = append(due, j)
		}
	}
	if t.writable && len(stale) > 0 {
		t.dirty = true
		if _, err := t.tx.Exec(t.ctx, "UPDATE jobctl_jobs SET next_run = NULL WHERE id = ANY($1)", stale); err != nil {
			return nil, err
		}
	}
	return due, nil
}

// NextRunTime reads the earliest next_run, and the exact time from its
// job's doc (the column has microseconds only).
func (t *tx) NextRunTime() (time.Time, bool, error) {
	var at string
	err := t.tx.QueryRow(t.ctx, "SELECT doc->>'next_run' FROM jobctl_jobs WHERE next_run IS NOT NULL ORDER BY next_run, id LIMIT 1").Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	next, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("a job's next run %q: %w", at, err)
	}
	return next, true, nil
}

// RecordChange keeps c until the journal is next read or the transaction
// commits (see flush).
func (t *tx) RecordChange(c store.Change) error {
	if err := t.write(); err != nil {
		return err
	}
	t.changes = append(t.changes, c)
	return nil
}

// lockJournal serialises the transactions that write the journal, so
// that its entries commit in the order of their seqs: a reader that has
// seen seq n has seen every entry before it.
const lockJournal = 0x6a6f6263746c0002 // "jobctl" 2

// flush writes the recorded changes, numbered after the journal's last,
// only the newest JournalLimit of them, and drops the entries they push
// out of the journal.
func (t *tx) flush() error {
	if len(t.changes) == 0 {
		return nil
	}
	if _, err := t.tx.Exec(t.ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockJournal)); err != nil {
		return err
	}
	var last int64
	if err := t.tx.QueryRow(t.ctx, "SELECT coalesce(max(seq), 0) FROM jobctl_changes").Scan(&last); err != nil {
		return err
	}
	changes := t.changes
	if len(changes) > store.JournalLimit {
		changes = changes[len(changes)-store.JournalLimit:]
	}
	last += int64(len(t.changes))
	seqs, docs := make([]int64, len(changes)), make([]string, len(changes))
	for i, c := range changes {
		c.Seq = uint64(last) - uint64(len(changes)-1-i)
		v, err := json.Marshal(c)
		if err != nil {
			return err
		}
		seqs[i], docs[i] = int64(c.Seq), string(v)
	}
	if _, err := t.tx.Exec(t.ctx, "DELETE FROM jobctl_changes WHERE seq <= $1", last-store.JournalLimit); err != nil {
		return err
	}
	if _, err := t.tx.Exec(t.ctx, "INSERT INTO jobctl_changes (seq, doc) SELECT * FROM unnest($1::bigint[], $2::jsonb[])", seqs, docs); err != nil {
		return err
	}
	t.changes = t.changes[:0]
	return nil
}

func (t *tx) ChangesSince(seq uint64) ([]store.Change, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(t.ctx, "SELECT seq, doc::text FROM jobctl_changes WHERE seq > $1 ORDER BY seq", int64(seq))
	if err != nil {
		return nil, err
	}
	var out []store.Change
	var n int64
	var doc []byte
	_, err = pgx.ForEachRow(rows, []any{&n, &doc}, func() error {
		c, err := store.DecodeChange(uint64(n), doc)
		out = append(out, c)
		return err
	})
	return out, err
}

func (t *tx) Settings() (store.Settings, error) {
	if t.settings != nil {
		return *t.settings, nil
	}
	var doc []byte
	err := t.tx.QueryRow(t.ctx, "SELECT doc::text FROM jobctl_settings WHERE id = 1").Scan(&doc)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return store.Settings{}, err
	}
	s, err := store.DecodeSettings(doc)
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
	if err := t.write(); err != nil {
		return err
	}
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if _, err := t.tx.Exec(t.ctx, `INSERT INTO jobctl_settings (id, doc) VALUES (1, $1::jsonb)
		ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`, string(v)); err != nil {
		return err
	}
	t.settings = &s
	return nil
}
