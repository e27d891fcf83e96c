package postgres

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/store"
)

// The fleet's members and their leases (store.FleetTx), by the database's
// clock: clock_timestamp(), the time of the statement, not of the
// transaction's start.

var _ store.FleetTx = (*tx)(nil)

func (t *tx) Now() (time.Time, error) {
	var now time.Time
	err := t.tx.QueryRow(t.ctx, "SELECT clock_timestamp()").Scan(&now)
	return now, err
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func (t *tx) Join(m store.Member, lease time.Duration) error {
	if err := t.write(); err != nil {
		return err
	}
	_, err := t.tx.Exec(t.ctx, `INSERT INTO jobctl_schedulers (id, host, pid, version, started, heartbeat, lease_until)
		VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp(), clock_timestamp() + make_interval(secs => $5))
		ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, version = excluded.version,
			started = excluded.started, heartbeat = excluded.heartbeat, lease_until = excluded.lease_until`,
		m.ID, m.Host, m.PID, m.Version, seconds(lease))
	return err
}

func (t *tx) Renew(id string, lease time.Duration) (bool, error) {
	if err := t.write(); err != nil {
		return false, err
	}
	tag, err := t.tx.Exec(t.ctx, `UPDATE jobctl_schedulers SET heartbeat = clock_timestamp(),
		lease_until = clock_timestamp() + make_interval(secs => $2)
		WHERE id = $1 AND lease_until > clock_timestamp()`, id, seconds(lease))
	return err == nil && tag.RowsAffected() == 1, err
}

const memberColumns = "id, host, pid, version, started, heartbeat, lease_until"

func (t *tx) Expired() ([]store.Member, error) {
	claim := ""
	if t.writable {
		claim = " FOR UPDATE SKIP LOCKED"
	}
	return t.members("SELECT " + memberColumns + ", 0 FROM jobctl_schedulers WHERE lease_until <= clock_timestamp() ORDER BY id" + claim)
}

func (t *tx) Leave(id string) error {
	if err := t.write(); err != nil {
		return err
	}
	_, err := t.tx.Exec(t.ctx, "DELETE FROM jobctl_schedulers WHERE id = $1", id)
	return err
}

func (t *tx) Members() ([]store.Member, error) {
	return t.members(`SELECT ` + memberColumns + `,
		(SELECT count(*) FROM jobctl_runs r WHERE r.outcome = 'running' AND r.owner = s.id)
		FROM jobctl_schedulers s ORDER BY id`)
}

func (t *tx) members(sql string) ([]store.Member, error) {
	rows, err := t.tx.Query(t.ctx, sql)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Member, error) {
		var m store.Member
		err := row.Scan(&m.ID, &m.Host, &m.PID, &m.Version, &m.Started, &m.Heartbeat, &m.LeaseUntil, &m.Running)
		return m, err
	})
}

func (t *tx) RunningOf(ids []string) (map[string]int, error) {
	rows, err := t.tx.Query(t.ctx, "SELECT job_id, count(*) FROM jobctl_runs WHERE outcome = 'running' AND job_id = ANY($1) GROUP BY job_id", ids)
	if err != nil {
		return nil, err
	}
	n := make(map[string]int)
	var id string
	var count int
	_, err = pgx.ForEachRow(rows, []any{&id, &count}, func() error {
		n[id] = count
		return nil
	})
	return n, err
}

func (t *tx) Orphaned() ([]*store.Run, error) {
	return t.queryRuns(`SELECT job_id, seq, doc FROM jobctl_runs r WHERE outcome = 'running'
		AND NOT EXISTS (SELECT 1 FROM jobctl_schedulers s WHERE s.id = r.owner) ORDER BY seq, job_id`)
}
