package bolt

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// FuzzDecodeJob: whatever bytes are stored as a job, reading them gives a job
// under its key, broken or whole, without panicking; and a whole one can be
// stored again and reads back the same.
func FuzzDecodeJob(f *testing.F) {
	good, err := json.Marshal(storetest.Job("x", time.Minute))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"x","state":"active","trigger":{"cron":"* * 99 * *"}}`))
	f.Add([]byte(`{"id":"x","state":"paused","trigger":{"any":[{"every":"1h"},{"at":"2026-01-01T00:00:00Z"}]}}`))
	f.Add([]byte(`{"id":"y"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, v []byte) {
		j := store.DecodeJob("x", v)
		if j.ID != "x" {
			t.Fatalf("decoded under id %q", j.ID)
		}
		if j.Broken != "" {
			return
		}
		s := mustTemp(t)
		defer s.Close()
		if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutJob(j) }); err != nil {
			t.Fatalf("a job read whole cannot be stored: %v", err)
		}
		again := storetest.View(t, s, func(tx store.Tx) (*store.Job, error) { return tx.Job("x") })
		a, _ := json.Marshal(j)
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) {
			t.Fatalf("stored again it reads back differently:\n%s\n%s", a, b)
		}
	})
}

// FuzzBoltFile: whatever the database file holds, the store answers with
// data or an error, never a panic, and a file it calls unusable is left as
// it was. Left running, the fuzzer also finds files whose page links loop,
// which hang bbolt (see the package doc); it reports them only as a stall.
func FuzzBoltFile(f *testing.F) {
	good := goodDB(f, 3)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "jobs.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s := &boltStore{path: path, opts: OpenOptions{Create: true, Timeout: time.Second}}
		s.watch.init()
		s.View(t.Context(), func(tx store.Tx) error {
			storetest.AllJobs(tx)
			tx.Due(storetest.T0.Add(time.Hour), 0)
			tx.NextRunTime()
			tx.Runs("", 0)
			tx.RunningRuns()
			tx.ChangesSince(0)
			tx.Settings()
			return nil
		})
		err := s.Update(t.Context(), func(tx store.Tx) error {
			tx.Due(storetest.T0.Add(time.Hour), 0)
			if err := tx.PutJob(storetest.Job("new", 0)); err != nil {
				return err
			}
			return tx.AddRun(storetest.RunOf("new", 0, store.Running))
		})
		var fe *FileError
		if errors.As(err, &fe) {
			if now, _ := os.ReadFile(path); !bytes.Equal(now, data) {
				t.Fatalf("the store wrote to a file it refused: %v", err)
			}
		}
	})
}
