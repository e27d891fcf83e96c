package runner

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/bolt"
)

// A scheduler on a bbolt file, with nothing scheduled, hears of a job
// added by another store value (another process: jobctl add) through the
// store's Watch, and runs it within seconds. Real clock.
func TestBoltWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	st, err := bolt.Open(path, bolt.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ran := make(chan Call, 1)
	s, err := New(Config{Store: st, Funcs: map[string]Func{"hello": func(_ context.Context, c Call, _ io.Writer) error {
		ran <- c
		return nil
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()

	other, err := bolt.Open(path, bolt.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	now := time.Now()
	j, err := store.NewJob("hello", FuncPrefix+"hello", schedule.Spec{At: now.Format(time.RFC3339Nano)}, store.DefaultOptions(), now)
	if err != nil {
		t.Fatal(err)
	}
	err = other.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.PutJob(j); err != nil {
			return err
		}
		return tx.RecordChange(store.Change{Time: now, Kind: store.JobAdded, JobID: j.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := recv(t, ran, "the job added by another store to run"); c.JobID != "hello" || c.Run != 1 || !c.FireTime.Equal(j.NextRun) {
		t.Errorf("ran %+v, want hello's run 1 at %v", c, j.NextRun)
	}
}

// Start's ctx bounds its store I/O: done, Start fails with its error, and
// the scheduler does not run.
func TestStartContext(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "jobs.db"), bolt.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Start(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Start with its ctx done: %v, want %v", err, context.Canceled)
	}
	if s.running() {
		t.Error("the scheduler runs after Start failed")
	}
}
