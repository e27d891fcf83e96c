package postgres

import (
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/store"
)

// The scheduler's periods (store.Period), in jobctl_periods: the doc is
// the Period, its Start to the nanosecond; the key's start is the
// database's, to the microsecond.

func (t *tx) PutPeriod(p store.Period) error {
	if err := p.Check(); err != nil {
		return err
	}
	if err := t.write(); err != nil {
		return err
	}
	doc, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if _, err := t.tx.Exec(t.ctx, `INSERT INTO jobctl_periods (kind, start, scheduler, doc) VALUES ($1, $2, $3, $4::jsonb)
		ON CONFLICT (kind, start, scheduler) DO UPDATE SET doc = excluded.doc`,
		string(p.Kind), p.Start, p.Scheduler, string(doc)); err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `DELETE FROM jobctl_periods WHERE kind = $1 AND (start, scheduler) NOT IN
		(SELECT start, scheduler FROM jobctl_periods WHERE kind = $1 ORDER BY start DESC, scheduler DESC LIMIT $2)`,
		string(p.Kind), store.PeriodLimit)
	return err
}

func (t *tx) Periods(kind store.PeriodKind) ([]store.Period, error) {
	rows, err := t.tx.Query(t.ctx, "SELECT doc::text FROM jobctl_periods WHERE kind = $1 ORDER BY start DESC, scheduler DESC", string(kind))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Period, error) {
		var doc []byte
		if err := row.Scan(&doc); err != nil {
			return store.Period{}, err
		}
		return store.DecodePeriod(doc)
	})
}
