package postgres

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// TestClaimsDoNotOverlap: schedulers claiming at once (one handle each,
// as processes would be) each take different jobs, and together all of
// them, each fire time once.
func TestClaimsDoNotOverlap(t *testing.T) {
	url := pgtest.NewDB(t)
	const jobs, claimers = 300, 3
	var handles []*Store
	for range claimers {
		s, err := Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		handles = append(handles, s)
	}
	var all []*store.Job
	for i := range jobs {
		all = append(all, storetest.Job(fmt.Sprintf("j%03d", i), 0))
	}
	storetest.Put(t, handles[0], all...)
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for i, s := range handles {
		wg.Go(func() {
			for {
				var got []string
				err := s.Update(t.Context(), func(tx store.Tx) error {
					got = nil
					due, err := tx.Due(storetest.T0, 10)
					if err != nil {
						return err
					}
					for _, j := range due {
						r := &store.Run{JobID: j.ID, FireTime: j.NextRun, Submitted: storetest.T0, Outcome: store.Running, Owner: fmt.Sprint(i)}
						if err := tx.AddRun(r); err != nil {
							return err
						}
						j.NextRun = j.NextRun.Add(time.Minute)
						if err := tx.PutJob(j); err != nil {
							return err
						}
						got = append(got, j.ID)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, id := range got {
					claimed[id]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != jobs {
		t.Errorf("%d jobs claimed, want %d", len(claimed), jobs)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("job %s claimed %d times", id, n)
		}
	}
}

// TestDuplicateRun: a second run of one fire time and attempt is refused,
// and the transaction goes on; another attempt is a run of its own.
func TestDuplicateRun(t *testing.T) {
	s := open(t)
	defer s.Close()
	storetest.Put(t, s, storetest.Job("a", 0))
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.AddRun(storetest.RunOf("a", 0, store.Running)); err != nil {
			return err
		}
		err := tx.AddRun(storetest.RunOf("a", 0, store.Running))
		if !errors.Is(err, store.ErrDuplicateRun) || !strings.Contains(err.Error(), `job "a"`) {
			t.Errorf("a second run of the fire time: %v", err)
		}
		again := storetest.RunOf("a", 0, store.Running)
		again.Attempt = 2
		return tx.AddRun(again)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := storetest.View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("a", 0) }); len(got) != 2 || got[0].Attempt != 2 {
		t.Errorf("runs = %+v, want attempt 1 and 2", got)
	}
}

// TestNewerSchema: a database migrated by a newer jobctl is refused, with
// both versions named, and left alone.
func TestNewerSchema(t *testing.T) {
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
	if _, err := conn.Exec(t.Context(), "UPDATE jobctl_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), url)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("version 99, newer than this jobctl's (%d)", SchemaVersion)) {
		t.Errorf("opening a newer schema: %v", err)
	}
	var v int
	if err := conn.QueryRow(t.Context(), "SELECT version FROM jobctl_schema").Scan(&v); err != nil || v != 99 {
		t.Errorf("version after the refusal: %d, %v", v, err)
	}
}

// TestConcurrentMigrations: processes opening a new database at once
// create its schema once.
func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.NewDB(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(t.Context(), url)
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
}

func TestBadURL(t *testing.T) {
	for url, want := range map[string]string{
		"postgres://u:secret@localhost/db?jobctl_poll=soon": `jobctl_poll="soon" is not a positive duration`,
		"postgres://u:secret@localhost:99999/db":            "database URL postgres://u:xxxxx@localhost:99999/db",
		"postgres://u:secret@h/db%zz":                       `invalid URL escape "%zz"`,
	} {
		_, err := Open(t.Context(), url)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%s): %v, want %q and no password", url, err, want)
		}
		if err := CheckURL(url); err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckURL(%s): %v, want an error without the password", url, err)
		}
	}
}

// TestRunningOf counts the runs in progress of the jobs asked about, and
// only those, whoever owns them.
func TestRunningOf(t *testing.T) {
	s := open(t)
	defer s.Close()
	storetest.Put(t, s, storetest.Job("a", 0), storetest.Job("b", 0), storetest.Job("c", 0))
	mine, theirs := storetest.RunOf("a", 0, store.Running), storetest.RunOf("a", 1, store.Running)
	mine.Owner, theirs.Owner = "me", "them"
	storetest.AddRuns(t, s, mine, theirs, storetest.RunOf("a", 2, store.Success),
		storetest.RunOf("b", 0, store.Failed), storetest.RunOf("c", 0, store.Running))
	got := storetest.View(t, s, func(tx store.Tx) (map[string]int, error) {
		return tx.(store.FleetTx).RunningOf([]string{"a", "b"})
	})
	if len(got) != 1 || got["a"] != 2 {
		t.Errorf("RunningOf(a, b) = %v, want a: 2", got)
	}
}

// TestOrphaned: the runs in progress whose owner is not a member, and no
// others.
func TestOrphaned(t *testing.T) {
	s := open(t)
	defer s.Close()
	storetest.Put(t, s, storetest.Job("a", 0))
	member, gone, done := storetest.RunOf("a", 0, store.Running), storetest.RunOf("a", 1, store.Running), storetest.RunOf("a", 2, store.Success)
	member.Owner, gone.Owner, done.Owner = "m", "gone", "gone"
	storetest.AddRuns(t, s, member, gone, done)
	if err := s.Update(t.Context(), func(tx store.Tx) error {
		return tx.(store.FleetTx).Join(store.Member{ID: "m"}, time.Minute)
	}); err != nil {
		t.Fatal(err)
	}
	got := storetest.View(t, s, func(tx store.Tx) ([]*store.Run, error) { return tx.(store.FleetTx).Orphaned() })
	if len(got) != 1 || got[0].Owner != "gone" || got[0].Seq != gone.Seq {
		t.Errorf("Orphaned = %+v, want the running run of gone", got)
	}
}
