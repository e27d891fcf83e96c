package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema's versions: migrations[i] takes a database
// from version i to i+1. Append, never edit: a database records the
// version it is at, and every jobctl applies what it lacks.
var migrations = []string{
	// 1: jobs, their runs, the journal, the settings and the fleet.
	`
CREATE TABLE jobctl_jobs (
	id       text COLLATE "C" PRIMARY KEY,
	doc      jsonb NOT NULL,
	next_run timestamptz,             -- set exactly when the job is active and has a next run
	run_seq  bigint NOT NULL DEFAULT 0 -- the seq of its newest run
);
CREATE INDEX jobctl_jobs_next_run ON jobctl_jobs (next_run, id) WHERE next_run IS NOT NULL;

CREATE TABLE jobctl_runs (
	job_id    text COLLATE "C" NOT NULL REFERENCES jobctl_jobs (id) ON DELETE CASCADE,
	seq       bigint NOT NULL,
	fire_time timestamptz NOT NULL,
	attempt   int NOT NULL,
	submitted timestamptz NOT NULL,
	outcome   text NOT NULL,
	owner     text NOT NULL,
	doc       bytea NOT NULL,         -- the Run as JSON: output need not be text
	PRIMARY KEY (job_id, seq),
	-- No fire time is claimed twice, whatever a scheduler believes.
	UNIQUE (job_id, fire_time, attempt)
);
CREATE INDEX jobctl_runs_submitted ON jobctl_runs (submitted, job_id, seq);
CREATE INDEX jobctl_runs_running ON jobctl_runs (owner, job_id) WHERE outcome = 'running';

CREATE TABLE jobctl_changes (
	seq bigint PRIMARY KEY,
	doc jsonb NOT NULL
);

CREATE TABLE jobctl_settings (
	id  int PRIMARY KEY CHECK (id = 1),
	doc jsonb NOT NULL
);

CREATE TABLE jobctl_schedulers (
	id          text COLLATE "C" PRIMARY KEY,
	host        text NOT NULL,
	pid         int NOT NULL,
	version     text NOT NULL,
	started     timestamptz NOT NULL,
	heartbeat   timestamptz NOT NULL,
	lease_until timestamptz NOT NULL
);

-- Bumped by every commit that writes, for watchers that cannot LISTEN.
CREATE SEQUENCE jobctl_commits;
`,
	// 2: the scheduler's periods (store.Period): sessions and pauses.
	`
CREATE TABLE jobctl_periods (
	kind      text NOT NULL,
	start     timestamptz NOT NULL,
	scheduler text COLLATE "C" NOT NULL,
	doc       jsonb NOT NULL,
	PRIMARY KEY (kind, start, scheduler)
);
`,
}

// SchemaVersion is the schema this jobctl reads and writes.
var SchemaVersion = len(migrations)

// lockSchema is the advisory lock that migrations take, so that two
// processes opening a new database at once do not both create it.
const lockSchema = 0x6a6f6263746c0001 // "jobctl" 1

// ensureSchema brings the database's schema to SchemaVersion, in one
// transaction, and refuses a database whose schema is newer.
func ensureSchema(ctx context.Context, pool *pgxpool.Pool) error {
	if v, err := schemaVersion(ctx, pool); err == nil && v == SchemaVersion {
		return nil // the common case: one query
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockSchema)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS jobctl_schema (version int NOT NULL)"); err != nil {
		return fmt.Errorf("creating the schema table: %w", err)
	}
	v, err := schemaVersion(ctx, tx)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err = tx.Exec(ctx, "INSERT INTO jobctl_schema VALUES (0)"); err != nil {
			return err
		}
		v = 0
	} else if err != nil {
		return err
	}
	if v > SchemaVersion {
		return fmt.Errorf("the database's schema is version %d, newer than this jobctl's (%d): upgrade jobctl", v, SchemaVersion)
	}
	for ; v < SchemaVersion; v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrating the schema to version %d: %w", v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE jobctl_schema SET version = $1", SchemaVersion); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// schemaVersion reads the version; a database without jobctl's tables
// reads as pgx.ErrNoRows.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRow(ctx, "SELECT version FROM jobctl_schema").Scan(&v)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return 0, pgx.ErrNoRows
	}
	return v, err
}
