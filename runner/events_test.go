package runner

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

// When the listeners' queue is full, an event is dropped and logged, and
// the scheduler is not held up.
func TestListenerQueueFull(t *testing.T) {
	var logged syncBuffer
	running := make(chan struct{}, listenerWorkers+listenerQueue)
	release := make(chan struct{})
	ls := newListeners([]store.Listener{{Events: []string{store.EventJobError}, Command: "notify"}},
		slog.New(slog.NewTextHandler(&logged, nil)),
		func(ctx context.Context, l store.Listener, e Event) {
			running <- struct{}{}
			<-release
		})
	e := Event{Name: store.EventJobError, JobID: "a"}
	ls.emit(Event{Name: store.EventJobExecuted, JobID: "a"}) // not an event it listens to
	for range listenerWorkers {
		ls.emit(e)
	}
	for range listenerWorkers {
		recv(t, running, "a listener command to run")
	}
	for range listenerQueue {
		ls.emit(e)
	}
	const over = 3
	if n := strings.Count(logged.String(), "listener queue full"); n != 0 {
		t.Fatalf("%d events dropped before the queue was full", n)
	}
	// Not held up: a blocking emit fails the test rather than hanging it.
	emitted := make(chan struct{})
	go func() {
		for range over {
			ls.emit(e)
		}
		close(emitted)
	}()
	recv(t, emitted, "emit to return with the queue full")
	if n := strings.Count(logged.String(), "listener queue full: event dropped"); n != over {
		t.Errorf("%d events dropped, want %d:\n%s", n, over, logged.String())
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ls.close(ctx)
	if n := len(running); n != listenerQueue {
		t.Errorf("%d queued commands ran, want %d", n, listenerQueue)
	}
}

// Changes lost from the journal before the scheduler read them (more than
// it keeps, made at once) are reported, with how many.
func TestJournalGap(t *testing.T) {
	h := newHarness(t, t0)
	h.put(job("a", cron("0 * * * *"))) // change 1
	var logged syncBuffer
	h.start(Config{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	h.sync()
	// Changes 2 to JournalLimit+6 in one commit: the journal keeps the
	// last JournalLimit of them, from 7; 2 to 6 are lost.
	const lost = 5
	err := h.st.Update(t.Context(), func(tx store.Tx) error {
		for range store.JournalLimit + lost {
			if err := tx.RecordChange(store.Change{Time: t0, Kind: store.JobModified, JobID: "a"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h.sync()
	want := fmt.Sprintf(`level=WARN msg="missed some changes to the jobs: the journal moved on" lost=%d`, lost)
	if !strings.Contains(logged.String(), want) {
		t.Errorf("no %s in the log:\n%.2000s", want, logged.String())
	}
}
