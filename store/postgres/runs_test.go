package postgres

import (
	"errors"
	"strings"
	"testing"
	"time"

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

// TestRestoreRunDuplicate: RestoreRun refuses a second run of one fire time
// (to the microsecond, as PostgreSQL keeps it) and attempt, as AddRun does,
// and the transaction goes on; another attempt is a run of its own.
func TestRestoreRunDuplicate(t *testing.T) {
	s := open(t)
	defer s.Close()
	storetest.Put(t, s, storetest.Job("a", 0))
	restored := func(seq uint64, attempt int) *store.Run {
		r := storetest.RunOf("a", 0, store.Success)
		r.Seq, r.Attempt = seq, attempt
		return r
	}
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.RestoreRun(restored(1, 0)); err != nil {
			return err
		}
		again := restored(2, 1) // attempt 0 is attempt 1
		again.FireTime = again.FireTime.Add(time.Nanosecond)
		err := tx.RestoreRun(again)
		if !errors.Is(err, store.ErrDuplicateRun) || !strings.Contains(err.Error(), `job "a"`) {
			t.Errorf("restoring a second run of the fire time: %v, want ErrDuplicateRun", err)
		}
		return tx.RestoreRun(restored(3, 2))
	})
	if err != nil {
		t.Fatal(err)
	}
	got := storetest.View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("a", 0) })
	if len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 1 {
		t.Errorf("runs = %+v, want a/3 and a/1", got)
	}
}
