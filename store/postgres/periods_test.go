package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// TestUpgradeToPeriods: a database of schema 1, before periods, is
// migrated when opened, and keeps periods then.
func TestUpgradeToPeriods(t *testing.T) {
	url := pgtest.NewDB(t)
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "DROP TABLE jobctl_periods; UPDATE jobctl_schema SET version = 1"); err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := store.Period{Kind: store.PausePeriod, Start: storetest.T0}
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutPeriod(p) }); err != nil {
		t.Fatal(err)
	}
	got := storetest.View(t, s, func(tx store.Tx) ([]store.Period, error) { return tx.Periods(store.PausePeriod) })
	if len(got) != 1 || !got[0].Start.Equal(p.Start) {
		t.Errorf("periods after the upgrade: %+v", got)
	}
}
