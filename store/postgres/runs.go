package postgres

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/store"
)

// The run history: the runs table, kept as the package doc says.

func (t *tx) AddRun(r *store.Run) error {
	if err := r.Check(); err != nil {
		return err
	}
	if err := t.write(); err != nil {
		return err
	}
	var seq int64
	err := t.tx.QueryRow(t.ctx, "UPDATE jobctl_jobs SET run_seq = run_seq + 1 WHERE id = $1 RETURNING run_seq", r.JobID).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("job %q: %w", r.JobID, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	r.Seq = uint64(seq)
	if err := t.insertRun(r); err != nil {
		r.Seq = 0
		return err
	}
	if r.Outcome == store.Running {
		return nil
	}
	return t.prune(r.JobID)
}

// insertRun inserts r, or refuses a second run of its fire time and
// attempt (without aborting the transaction, as a failed INSERT would).
func (t *tx) insertRun(r *store.Run) error {
	doc, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, err)
	}
	tag, err := t.tx.Exec(t.ctx, `INSERT INTO jobctl_runs (job_id, seq, fire_time, attempt, submitted, outcome, owner, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (job_id, fire_time, attempt) DO NOTHING`,
		r.JobID, int64(r.Seq), r.FireTime, r.AttemptNumber(), r.Submitted, string(r.Outcome), r.Owner, doc)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("job %q, fire time %s, attempt %d: %w", r.JobID, r.FireTime, r.AttemptNumber(), store.ErrDuplicateRun)
	}
	return nil
}

// RestoreRun inserts r with its seq, and moves the job's run_seq, which
// AddRun numbers from, up to it.
func (t *tx) RestoreRun(r *store.Run) error {
	if err := r.Check(); err != nil {
		return err
	}
	if r.Seq == 0 {
		return fmt.Errorf("run of job %q: seq 0 (runs are numbered from 1)", r.JobID)
	}
	if err := t.write(); err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx, "UPDATE jobctl_jobs SET run_seq = greatest(run_seq, $2) WHERE id = $1", r.JobID, int64(r.Seq))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("job %q: %w", r.JobID, store.ErrNotFound)
	}
	switch _, err := t.Run(r.JobID, r.Seq); {
	case err == nil:
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, store.ErrExists)
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if err := t.insertRun(r); err != nil {
		return err
	}
	return t.prune(r.JobID)
}

func (t *tx) PutRun(r *store.Run) error {
	if err := r.Check(); err != nil {
		return err
	}
	if err := t.write(); err != nil {
		return err
	}
	doc, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("run %s/%d: %w", r.JobID, r.Seq, err)
	}
	tag, err := t.tx.Exec(t.ctx, `UPDATE jobctl_runs SET fire_time = $3, attempt = $4, outcome = $5, owner = $6, doc = $7
		WHERE job_id = $1 AND seq = $2 AND submitted = $8`,
		r.JobID, int64(r.Seq), r.FireTime, r.AttemptNumber(), string(r.Outcome), r.Owner, doc, r.Submitted)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		if _, err := t.Run(r.JobID, r.Seq); err != nil {
			return err
		}
		return fmt.Errorf("run %s/%d: its submitted time cannot change", r.JobID, r.Seq)
	}
	if r.Outcome == store.Running {
		return nil
	}
	// A run that ends is one more finished run to count against the limit.
	return t.prune(r.JobID)
}

// prune drops the job's oldest finished runs beyond the history limit.
func (t *tx) prune(jobID string) error {
	set, err := t.Settings()
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `DELETE FROM jobctl_runs WHERE job_id = $1 AND outcome <> 'running' AND seq < (
		SELECT seq FROM jobctl_runs WHERE job_id = $1 AND outcome <> 'running' ORDER BY seq DESC OFFSET $2 LIMIT 1)`,
		jobID, set.KeptRuns()-1)
	return err
}

func (t *tx) Run(jobID string, seq uint64) (*store.Run, error) {
	var doc []byte
	err := t.tx.QueryRow(t.ctx, "SELECT doc FROM jobctl_runs WHERE job_id = $1 AND seq = $2", jobID, int64(seq)).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("run %s/%d: %w", jobID, seq, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return store.DecodeRun(jobID, seq, doc)
}

func (t *tx) Runs(jobID string, n int) ([]*store.Run, error) {
	var lim *int
	if n > 0 {
		lim = &n
	}
	if jobID == "" {
		return t.queryRuns("SELECT job_id, seq, doc FROM jobctl_runs ORDER BY submitted DESC, job_id DESC, seq DESC LIMIT $1", lim)
	}
	var exists bool
	if err := t.tx.QueryRow(t.ctx, "SELECT EXISTS (SELECT 1 FROM jobctl_jobs WHERE id = $1)", jobID).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("job %q: %w", jobID, store.ErrNotFound)
	}
	return t.queryRuns("SELECT job_id, seq, doc FROM jobctl_runs WHERE job_id = $2 ORDER BY seq DESC LIMIT $1", lim, jobID)
}

func (t *tx) RunKeys(n int) ([]store.RunKey, error) {
	var lim *int
	if n > 0 {
		lim = &n
	}
	rows, err := t.tx.Query(t.ctx, "SELECT job_id, seq FROM jobctl_runs ORDER BY submitted DESC, job_id DESC, seq DESC LIMIT $1", lim)
	if err != nil {
		return nil, err
	}
	out := []store.RunKey{}
	var k store.RunKey
	var seq int64
	_, err = pgx.ForEachRow(rows, []any{&k.JobID, &seq}, func() error {
		k.Seq = uint64(seq)
		out = append(out, k)
		return nil
	})
	return out, err
}

func (t *tx) RunningRuns() ([]*store.Run, error) {
	return t.queryRuns("SELECT job_id, seq, doc FROM jobctl_runs WHERE outcome = 'running' ORDER BY seq, job_id")
}

func (t *tx) queryRuns(sql string, args ...any) ([]*store.Run, error) {
	rows, err := t.tx.Query(t.ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out := []*store.Run{}
	var jobID string
	var seq int64
	var doc []byte
	_, err = pgx.ForEachRow(rows, []any{&jobID, &seq, &doc}, func() error {
		r, err := store.DecodeRun(jobID, uint64(seq), doc)
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}
