package ping

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// await waits for n requests to reach rec, failing the test after 5s.
func await(t *testing.T, rec *recorder, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for i := range n {
		select {
		case <-rec.got:
		case <-deadline:
			reqs, _ := rec.requests()
			t.Fatalf("%d of %d requests arrived within 5s: %q", i, n, reqs)
		}
	}
}

// none checks that no request reaches rec for a while.
func none(t *testing.T, rec *recorder, why string) {
	t.Helper()
	select {
	case <-rec.got:
		reqs, _ := rec.requests()
		t.Fatalf("a request arrived, though %s: %q", why, reqs)
	case <-time.After(100 * time.Millisecond):
	}
}

// inOrder checks that each key's requests, "POST /KEY/N", arrived in N's
// order, and that there are n of each.
func inOrder(t *testing.T, reqs []string, n int) {
	t.Helper()
	next := map[string]int{}
	for _, r := range reqs {
		var key string
		var i int
		if _, err := fmt.Sscanf(strings.ReplaceAll(r, "/", " "), "POST %s %d", &key, &i); err != nil {
			t.Fatalf("request %q: %v", r, err)
		}
		if i != next[key] {
			t.Errorf("key %s: ping %d arrived after %d", key, i, next[key]-1)
		}
		next[key] = i + 1
	}
	for key, got := range next {
		if got != n {
			t.Errorf("key %s: %d pings arrived; want %d", key, got, n)
		}
	}
}

// TestSlowKey: a monitor that never answers holds up its own key's pings,
// not those of any other key, nor the heartbeat's.
func TestSlowKey(t *testing.T) {
	dead, deadSrv := newRecorder(t)
	dead.hang = make(chan struct{})
	defer close(dead.hang)
	live, liveSrv := newRecorder(t)
	s, _, log := newSender(t, Config{Timeout: time.Hour})
	s.Send(Ping{URL: deadSrv.URL + "/dead/start", Key: "dead", Job: "dead", Run: 1})
	s.Send(Ping{URL: deadSrv.URL + "/dead/0", Key: "dead", Job: "dead", Run: 1})
	await(t, dead, 1)
	const keys = 20 // hashed onto 4 workers, as before, some would share "dead"'s
	for i := range keys {
		s.Send(Ping{URL: fmt.Sprintf("%s/k%d/0", liveSrv.URL, i), Key: fmt.Sprint("k", i)})
	}
	s.Send(Ping{URL: liveSrv.URL + "/beat/0"})
	for i := range keys {
		s.Send(Ping{URL: fmt.Sprintf("%s/k%d/1", liveSrv.URL, i), Key: fmt.Sprint("k", i)})
	}
	await(t, live, 2*keys+1)
	reqs, _ := live.requests()
	var jobs []string
	for _, r := range reqs {
		if r != "POST /beat/0" {
			jobs = append(jobs, r)
		}
	}
	if len(jobs) != len(reqs)-1 {
		t.Errorf("requests %q; want the heartbeat's once", reqs)
	}
	inOrder(t, jobs, 2)
	if reqs, _ := dead.requests(); len(reqs) != 1 {
		t.Errorf("the dead monitor got %q; want its first ping alone, the second waiting", reqs)
	}
	closeWithin(s, 50*time.Millisecond)
	if s.Failures() != 2 || !strings.Contains(log.String(), "job=dead") {
		t.Errorf("%d failures, log %q; want the dead monitor's 2", s.Failures(), log.String())
	}
}

// TestTurns: with more keys than InFlight, each key's pings still arrive
// in order, and all arrive.
func TestTurns(t *testing.T) {
	rec, srv := newRecorder(t)
	s, _, _ := newSender(t, Config{InFlight: 2})
	const keys, each = 10, 8
	for i := range each {
		for k := range keys {
			s.Send(Ping{URL: fmt.Sprintf("%s/k%d/%d", srv.URL, k, i), Key: fmt.Sprint("k", k)})
		}
	}
	closeWithin(s, 10*time.Second)
	reqs, _ := rec.requests()
	inOrder(t, reqs, each)
	if s.Failures() != 0 {
		t.Errorf("%d failures; want none", s.Failures())
	}
}

// TestBounds: at most InFlight keys are sent at once, the others wait
// their turn; pings beyond a key's queue or the whole queue are dropped at
// once, logged and counted; the heartbeat passes through all of it; and
// Close, with pings pending on many keys, drops them at its deadline and
// returns.
func TestBounds(t *testing.T) {
	rec, srv := newRecorder(t)
	rec.hang = make(chan struct{})
	defer close(rec.hang)
	s, _, log := newSender(t, Config{Queue: 8, KeyQueue: 3, InFlight: 2, Timeout: time.Hour})
	send := func(key string, i int) {
		s.Send(Ping{URL: fmt.Sprintf("%s/%s/%d", srv.URL, key, i), Key: key, Job: key, Run: uint64(i)})
	}
	send("a", 0)
	send("b", 0)
	await(t, rec, 2) // both under way, hanging
	send("c", 0)
	none(t, rec, "2 keys are in flight already")

	began := time.Now()
	for i := 1; i <= 4; i++ {
		send("a", i) // the 4th is one too many for a
	}
	if s.Failures() != 1 || !strings.Contains(log.String(), "job=a run=4") || !strings.Contains(log.String(), "3 pings before it wait still") {
		t.Fatalf("%d failures, log %q; want a's 4th dropped", s.Failures(), log.String())
	}
	for _, key := range []string{"d", "e", "f", "g", "h"} {
		send(key, 0) // waiting: c, a×3, then d to g; h is one too many
	}
	if s.Failures() != 2 || !strings.Contains(log.String(), "job=h run=0") || !strings.Contains(log.String(), "ping queue is full") {
		t.Fatalf("%d failures, log %q; want h's dropped", s.Failures(), log.String())
	}
	if took := time.Since(began); took > time.Second {
		t.Errorf("Send blocked for %s", took)
	}

	s.Send(Ping{URL: srv.URL + "/beat/0"})
	await(t, rec, 1)
	if reqs, _ := rec.requests(); len(reqs) != 3 || reqs[2] != "POST /beat/0" {
		t.Fatalf("requests %q; want a's, b's, then the heartbeat's", reqs)
	}

	began = time.Now()
	closeWithin(s, 50*time.Millisecond)
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("Close took %s past its grace of 50ms", took)
	}
	// Dropped: a's 4th and h's; abandoned: a's, b's and the heartbeat's;
	// never sent: the 8 waiting.
	if s.Failures() != 2+3+8 {
		t.Errorf("%d failures; want 13", s.Failures())
	}
	if reqs, _ := rec.requests(); len(reqs) != 3 {
		t.Errorf("requests %q; want no more once closed", reqs)
	}
}
