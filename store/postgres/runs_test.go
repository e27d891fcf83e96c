package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// TestRestoreRunReadError: a stored run RestoreRun cannot read is an error
// of its own, not a seq taken for free (whose insert the primary key would
// refuse with a raw unique violation).
func TestRestoreRunReadError(t *testing.T) {
	url := pgtest.NewDB(t)
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.Put(t, s, storetest.Job("a", 0))
	storetest.AddRuns(t, s, storetest.RunOf("a", 0, store.Success))
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "UPDATE jobctl_runs SET doc = 'not json'::bytea WHERE job_id = 'a' AND seq = 1"); err != nil {
		t.Fatal(err)
	}
	r := storetest.RunOf("a", 5, store.Success)
	r.Seq = 1
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.RestoreRun(r) })
	if err == nil || !strings.Contains(err.Error(), "cannot decode") {
		t.Errorf("restoring over an unreadable a/1: %v, want its decode error", err)
	}
}
