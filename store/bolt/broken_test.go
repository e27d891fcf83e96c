package bolt

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// putRaw stores bytes as a job, bypassing PutJob's checks, as an older or
// newer jobctl, or a damaged disk, might have left them.
func putRaw(t *testing.T, s store.Store, id, v string, indexAt time.Time) {
	t.Helper()
	err := s.Update(t.Context(), func(x store.Tx) error {
		tx := x.(*tx)
		tx.dirty = true
		if err := tx.bucket(bucketJobs).Put([]byte(id), []byte(v)); err != nil {
			return err
		}
		if indexAt.IsZero() {
			return nil
		}
		return tx.bucket(bucketIndex).Put(append(timeKey(indexAt), id...), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func rawJob(t *testing.T, s store.Store, id string) string {
	t.Helper()
	return storetest.View(t, s, func(x store.Tx) (string, error) { return string(x.(*tx).bucket(bucketJobs).Get([]byte(id))), nil })
}

func testBrokenJobs(t *testing.T, s store.Store) {
	storetest.Put(t, s, storetest.Job("good", time.Second))
	const garbage = `{"id": "junk", "trig`
	putRaw(t, s, "junk", garbage, storetest.T0)
	badTrigger := strings.Replace(mustJSON(t, storetest.Job("cron", 0)), `"every":"1m"`, `"cron":"* * 99 * *"`, 1)
	putRaw(t, s, "cron", badTrigger, storetest.T0)

	all := storetest.View(t, s, storetest.AllJobs)
	if got := storetest.IDs(all); !slices.Equal(got, []string{"cron", "good", "junk"}) {
		t.Fatalf("Jobs = %v: broken jobs must be listed", got)
	}
	for _, j := range all {
		want := map[string]string{"cron": "trigger: ", "junk": "cannot decode", "good": ""}[j.ID]
		if (want == "") != (j.Broken == "") || !strings.Contains(j.Broken, want) {
			t.Errorf("job %s: Broken = %q, want %q", j.ID, j.Broken, want)
		}
	}
	if j := storetest.View(t, s, func(tx store.Tx) (*store.Job, error) { return tx.Job("cron") }); !strings.Contains(j.Broken, "99") {
		t.Errorf("Job(cron).Broken = %q, want the bad value named", j.Broken)
	}

	// A View reports broken due jobs without changing anything.
	if got := storetest.DueIDs(t, s, storetest.T0.Add(time.Hour), 0); !slices.Equal(got, []string{"cron", "junk", "good"}) {
		t.Fatalf("Due in a View = %v", got)
	}
	// An Update reports them once and drops them from the index.
	var due []*store.Job
	if err := s.Update(t.Context(), func(tx store.Tx) (err error) { due, err = tx.Due(storetest.T0.Add(time.Hour), 0); return err }); err != nil {
		t.Fatal(err)
	}
	if got := storetest.IDs(due); !slices.Equal(got, []string{"cron", "junk", "good"}) || due[0].Broken == "" || due[2].Broken != "" {
		t.Fatalf("Due in an Update = %v", got)
	}
	if got := storetest.DueIDs(t, s, storetest.T0.Add(time.Hour), 0); !slices.Equal(got, []string{"good"}) {
		t.Errorf("Due after broken jobs were reported = %v", got)
	}
	if at, _ := storetest.NextRun(t, s); !at.Equal(storetest.T0.Add(time.Second)) {
		t.Errorf("NextRunTime = %v, want good's", at)
	}

	// Putting a job read as broken is refused, and the stored bytes stay.
	broken := all[2]
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutJob(broken) })
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("PutJob of a broken job: %v", err)
	}
	if got := rawJob(t, s, "junk"); got != garbage {
		t.Errorf("stored bytes of a broken storetest.Job changed to %q", got)
	}
	// A good job may replace a broken one, which is how a user repairs it.
	storetest.Put(t, s, storetest.Job("junk", 0))
	if j := storetest.View(t, s, func(tx store.Tx) (*store.Job, error) { return tx.Job("junk") }); j.Broken != "" {
		t.Errorf("replaced storetest.Job is still broken: %s", j.Broken)
	}
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteJob("cron") }); err != nil {
		t.Errorf("removing a broken job: %v", err)
	}
}

func mustJSON(t *testing.T, j *store.Job) string {
	t.Helper()
	var s string
	st := mustTemp(t)
	defer st.Close()
	storetest.Put(t, st, j)
	s = rawJob(t, st, j.ID)
	return s
}

func TestBrokenJobs(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		testBrokenJobs(t, openBolt(t, filepath.Join(t.TempDir(), "jobs.db"), OpenOptions{Create: true}))
	})
	t.Run("temp", func(t *testing.T) { testBrokenJobs(t, mustTemp(t)) })
}

// mustTemp opens a temporary store, closed when the test ends.
func mustTemp(t testing.TB) store.Store {
	t.Helper()
	s, err := OpenTemp()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
