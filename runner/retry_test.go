package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
)

// errNoSpace is a store's error on a full disk, as bbolt's commit gives it.
var errNoSpace = fmt.Errorf("jobs.db: commit: %w", syscall.ENOSPC)

// wantFails checks how many updates f has failed.
func (f *flaky) wantFails(t *testing.T, want int, when string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails != want {
		t.Fatalf("%s: %d updates failed, want %d", when, f.fails, want)
	}
}

// commit makes a commit to st as another process (jobctl modify) would,
// which st's Watch signals.
func commit(t *testing.T, st store.Store, at time.Time) {
	t.Helper()
	err := st.Update(context.Background(), func(tx store.Tx) error {
		return tx.RecordChange(store.Change{Time: at, Kind: store.JobModified, JobID: "other"})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// step moves the clock by d and has the loop do what is due.
func (h *harness) step(d time.Duration) {
	h.clock.Advance(d)
	h.sync()
}

// failLoop has the loop of a started harness fail to plan a's 10:01 fire
// time on fl, then fail its own retries until its delay is 8s.
func failLoop(t *testing.T, h *harness, fl *flaky) {
	t.Helper()
	fl.setFailing(true)
	h.advance(time.Minute)
	fl.wantFails(t, 1, "at 10:01")
	for i, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		h.step(d - time.Nanosecond)
		fl.wantFails(t, 1+i, fmt.Sprintf("just before the retry %v after the failure", d))
		h.step(time.Nanosecond)
		fl.wantFails(t, 2+i, fmt.Sprintf("%v after the failure", d))
	}
}

// Issue 14, item 4: commits of other processes (jobctl commands), which
// wake the loop through the store's Watch, each doubled its delay, so that
// it reached 30s within milliseconds. Now the delay doubles only when a
// retry of its own fails; a commit brings the retry forward, to a second
// after the last failure, since a write may succeed now.
func TestRetryCommitsDoNotDouble(t *testing.T) {
	h := newHarness(t, t0)
	mem := h.st
	h.put(job("a", cron("* * * * *")))
	fl := &flaky{Store: mem}
	h.st = fl
	h.start(Config{})
	h.settle()
	failLoop(t, h, fl) // its delay is now 8s
	fails := 4
	for i := range 5 {
		commit(t, mem, h.clock.Now())
		h.step(time.Second - time.Nanosecond)
		fl.wantFails(t, fails, fmt.Sprintf("commit %d, before a second has passed since the failure", i+1))
		h.step(time.Nanosecond)
		fails++
		fl.wantFails(t, fails, fmt.Sprintf("commit %d, a second after the failure", i+1))
	}
	// Its own retry comes 8s after the last failure: five failures after
	// commits have not doubled the delay.
	h.step(8*time.Second - time.Nanosecond)
	fl.wantFails(t, fails, "before the loop's own retry")
	h.step(time.Nanosecond)
	fl.wantFails(t, fails+1, "8s after the last failure")
	fl.setFailing(false)
	commit(t, mem, h.clock.Now())
	h.step(time.Second)
	h.wantHistory("a", "10:00:00 success\n10:01:00 success\n")
}

// space is a Config.FreeSpace whose answer the test sets.
type space struct {
	free  atomic.Uint64
	asked atomic.Int64
}

func (s *space) FreeSpace() (uint64, error) {
	s.asked.Add(1)
	return s.free.Load(), nil
}

// Issue 14, item 4: out of space, the loop waited its whole delay (up to
// 30s) after space was freed. Now it asks every second how much space is
// free, writing nothing, and tries again when more is.
func TestRetryWhenSpaceIsFreed(t *testing.T) {
	h := newHarness(t, t0)
	mem := h.st
	h.put(job("a", cron("* * * * *")))
	fl := &flaky{Store: mem, err: errNoSpace}
	h.st = fl
	sp := &space{}
	sp.free.Store(4096)
	h.start(Config{FreeSpace: sp.FreeSpace})
	h.settle()
	failLoop(t, h, fl) // its delay is now 8s
	for range 3 {
		h.step(time.Second) // no more space: asked, no retry
	}
	fl.wantFails(t, 4, "while no space is freed")
	if n := sp.asked.Load(); n < 3 {
		t.Errorf("asked for the free space %d times in 3s", n)
	}
	sp.free.Store(1 << 30)
	fl.setFailing(false)
	h.step(time.Second)
	h.wantHistory("a", "10:00:00 success\n10:01:00 success\n")

	// A store failing otherwise is not waited for by free space.
	fl.mu.Lock()
	fl.err, fl.failing = store.ErrBusy, true
	fl.mu.Unlock()
	asked := sp.asked.Load()
	h.advance(time.Minute)
	h.step(500 * time.Millisecond)
	if n := sp.asked.Load(); n != asked {
		t.Errorf("asked for the free space %d times for a busy store", n-asked)
	}
}

// refusing is a store that, while failing, refuses the records of
// finished runs (the writer's) with errNoSpace, and takes the rest (the
// loop's planning).
type refusing struct {
	store.Store
	mu      sync.Mutex
	failing bool
	fails   int
}

func (r *refusing) Update(ctx context.Context, fn func(store.Tx) error) error {
	return r.Store.Update(ctx, func(tx store.Tx) error { return fn(refusingTx{tx, r}) })
}

func (r *refusing) set(failing bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failing = failing
}

type refusingTx struct {
	store.Tx
	r *refusing
}

func (t refusingTx) PutRun(run *store.Run) error {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	if t.r.failing && run.Outcome != store.Running {
		t.r.fails++
		return errNoSpace
	}
	return t.Tx.PutRun(run)
}

// Issue 14, item 4, for the writer: a run that ended while the store
// failed waited for the writer's own delay, up to 30s, after the store
// took writes again. A commit seen through the store's Watch, or space
// freed, now brings its retry forward, to a second after the failure.
func TestWriterRetriesOnSigns(t *testing.T) {
	for _, sign := range []string{"commit", "space"} {
		t.Run(sign, func(t *testing.T) {
			h := newHarness(t, t0)
			mem := h.st
			h.put(job("a", cron("0 * * * *")))
			h.hold("a")
			rf := &refusing{Store: mem}
			h.st = rf
			sp := &space{}
			h.start(Config{FreeSpace: sp.FreeSpace})
			h.settle()
			rf.set(true)
			h.release("a")
			// The writer fails its own retries until its delay is 8s.
			// Waiting, it has three timers set (its delay, a retry brought
			// forward, the next question for space), and the loop its
			// alarm for 11:00.
			for i, d := range []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second} {
				h.clock.Advance(d)
				h.waitFor(fmt.Sprintf("failure %d, and the writer to wait", i+1), func() bool {
					rf.mu.Lock()
					defer rf.mu.Unlock()
					return rf.fails == i+1 && h.clock.Waiters() == 4
				})
			}
			rf.set(false)
			switch sign {
			case "commit":
				commit(t, mem, h.clock.Now())
			case "space":
				sp.free.Store(1 << 30)
			}
			h.clock.Advance(time.Second)
			h.waitFor("the run to be recorded", func() bool { return h.history("a") == "10:00:00 success\n" })
		})
	}
}

// Config.StoreErrors hears of every failure, and of nil once neither the
// loop's last attempt nor the writer's failed.
func TestHealth(t *testing.T) {
	var got []error
	h := health{report: func(err error) { got = append(got, err) }}
	planning, recording := errors.New("planning"), errors.New("recording")
	h.set(loopSource, planning)
	h.set(writerSource, recording)
	h.set(loopSource, nil) // the writer still fails
	h.set(writerSource, recording)
	h.set(writerSource, nil)
	if want := []error{planning, recording, recording, nil}; !slices.Equal(got, want) {
		t.Errorf("reported %v, want %v", got, want)
	}
}

// Issue 14, item 4: a shutdown while the store refuses the runs that ended
// waited saying nothing. It says what it waits for, and gives up when its
// ctx is done, with how many runs it could not record.
func TestShutdownSaysItWaitsForTheStore(t *testing.T) {
	h := newHarness(t, t0)
	mem := h.st
	h.put(job("a", cron("0 * * * *")))
	h.hold("a")
	fl := &flaky{Store: mem, err: errNoSpace}
	h.st = fl
	var log syncBuffer
	h.start(Config{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	h.settle()
	fl.setFailing(true)
	h.release("a")
	h.waitFor("the writer to fail", func() bool { return strings.Contains(log.String(), "cannot record runs") })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.s.Shutdown(ctx) }()
	const says = `msg="shutting down: runs could not be recorded yet; trying again until the store takes them, or until the shutdown gives up on them" runs=1`
	h.waitFor("the shutdown to say what it waits for", func() bool { return strings.Contains(log.String(), says) })
	cancel()
	if err := recv(t, done, "the shutdown to give up"); err == nil || !strings.Contains(err.Error(), "1 runs could not be recorded") {
		t.Errorf("Shutdown: %v, want 1 run not recorded", err)
	}
	if n := strings.Count(log.String(), "shutting down: runs could not be recorded yet"); n != 1 {
		t.Errorf("said it waits %d times, want once:\n%s", n, log.String())
	}
}
