package postgres

import (
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

// TestWatchHearsOtherProcesses: a commit through one handle signals the
// watchers of another, by LISTEN and by polling, within a second.
func TestWatchHearsOtherProcesses(t *testing.T) {
	url := pgtest.NewDB(t)
	for _, mode := range []string{"listen", "poll"} {
		t.Run(mode, func(t *testing.T) {
			u := url
			if mode == "poll" {
				u += "&jobctl_poll=100ms"
			}
			watcher, err := Open(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			defer watcher.Close()
			writer, err := Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer writer.Close()
			ch, err := watcher.Watch(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			// The first signal says the watch has begun (connected, or
			// read the sequence once).
			wait(t, ch, "the watch began")
			time.Sleep(300 * time.Millisecond)
			for len(ch) > 0 {
				<-ch
			}
			storetest.Put(t, writer, storetest.Job(mode, 0))
			start := time.Now()
			wait(t, ch, "another handle committed")
			if d := time.Since(start); d > time.Second {
				t.Errorf("signalled %v after the commit, want within a second", d)
			}
		})
	}
}

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("no signal 5 s after %s", what)
	}
}

// TestWatchSurvivesRestart: after the server restarts, a watcher
// reconnects, signals (commits may have been missed), and hears commits
// again; the store's next transactions succeed on new connections.
func TestWatchSurvivesRestart(t *testing.T) {
	s := open(t).(*Store)
	defer s.Close()
	ch, err := s.Watch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wait(t, ch, "the watch began")
	pgtest.Restart(t)
	wait(t, ch, "the server restarted")
	var err2 error
	for range 50 { // the pool's old connections fail once each
		if err2 = s.Update(t.Context(), func(tx store.Tx) error { return tx.PutJob(storetest.Job("a", 0)) }); err2 == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err2 != nil {
		t.Fatalf("no update succeeded after the restart: %v", err2)
	}
	for len(ch) > 0 {
		<-ch
	}
	storetest.Put(t, s, storetest.Job("b", 0))
	wait(t, ch, "a commit after the restart")
}
