package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// TestUpgradeFromSchema1: a file written before the history index (schema
// 1) is upgraded when opened, even read-only; its runs are then listed
// newest first and its history trimmed at the limit, counting the runs it
// already had.
func TestUpgradeFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	s := openBolt(t, path, OpenOptions{Create: true})
	storetest.Put(t, s, storetest.Job("a", 0), storetest.Job("b", 0))
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.PutSettings(store.Settings{HistoryLimit: 3}); err != nil {
			return err
		}
		for i := range 3 {
			for _, id := range []string{"a", "b"} {
				r := storetest.RunOf(id, i, store.Success)
				r.Submitted = storetest.T0.Add(time.Duration(i) * time.Minute)
				if id == "b" {
					r.Submitted = r.Submitted.Add(time.Second)
				}
				if err := tx.AddRun(r); err != nil {
					return err
				}
			}
		}
		return tx.AddRun(&store.Run{JobID: "a", Submitted: storetest.T0.Add(time.Hour), Outcome: store.Running})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	downgrade(t, path)

	ro := openBolt(t, path, OpenOptions{ReadOnly: true})
	runs := storetest.View(t, ro, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("", 3) })
	var got []string
	for _, r := range runs {
		got = append(got, r.JobID+"/"+string(r.Outcome))
	}
	if want := "[a/running b/success a/success]"; fmt.Sprint(got) != want {
		t.Errorf("newest runs after the upgrade: %v, want %s", got, want)
	}

	// a has 3 finished runs and one running: one more finished drops its
	// oldest finished run, and only that.
	rw := openBolt(t, path, OpenOptions{})
	storetest.AddRuns(t, rw, storetest.RunOf("a", 9, store.Failed))
	seqs := storetest.View(t, rw, func(tx store.Tx) ([]*store.Run, error) { return tx.Runs("a", 0) })
	var left []uint64
	for _, r := range seqs {
		left = append(left, r.Seq)
	}
	if fmt.Sprint(left) != "[5 4 3 2]" {
		t.Errorf("runs of a after one more: seqs %v, want [5 4 3 2]", left)
	}
}

// downgrade makes the file at path a schema 1 file, as the jobctl before
// the history index wrote it.
func downgrade(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketHistory, bucketFinished} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(metaSchema, u64(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
