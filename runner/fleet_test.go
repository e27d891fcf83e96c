package runner

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/runner/ping"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/postgres"
	"github.com/jobctl/jobctl/store/storetest"
)

// The fleet's tests run schedulers on a real PostgreSQL database, each on
// a handle of its own (as processes would be), with the real clock: leases
// go by the database's clock, which no fake one moves.

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openPG(t *testing.T, url string) store.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// calls records the calls of the Func "f" across schedulers.
type calls struct {
	mu    sync.Mutex
	calls []Call
	block chan struct{} // while open, f blocks (until its ctx ends)
}

func (c *calls) f(ctx context.Context, call Call, out io.Writer) error {
	c.mu.Lock()
	c.calls = append(c.calls, call)
	block := c.block
	c.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (c *calls) list() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

func fleetMember(t *testing.T, url, owner string, c *calls, lease time.Duration, log io.Writer) *Scheduler {
	t.Helper()
	if log == nil {
		log = io.Discard
	}
	s, err := New(Config{Store: openPG(t, url), Owner: owner, Funcs: map[string]Func{"f": c.f}, Lease: lease,
		Logger: slog.New(slog.NewTextHandler(log, nil)), Executors: map[string]int{store.DefaultExecutor: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func everySecond(id string, now time.Time) *store.Job {
	j, err := store.NewJob(id, FuncPrefix+"f", schedule.Spec{Every: "1s", Start: now.Truncate(time.Second).Add(time.Second).Format(time.RFC3339Nano)}, store.DefaultOptions(), now)
	if err != nil {
		panic(err)
	}
	return j
}

// TestFleetEachFireTimeOnce: three schedulers on one database run 60 jobs
// firing every second; every fire time of every job runs exactly once,
// with no gap, and the work spreads across them.
func TestFleetEachFireTimeOnce(t *testing.T) {
	url := pgtest.NewDB(t)
	admin := openPG(t, url)
	c := &calls{}
	var members []*Scheduler
	for i := range 3 {
		members = append(members, fleetMember(t, url, fmt.Sprintf("s%d", i), c, 0, nil))
	}
	now := time.Now()
	var jobs []*store.Job
	for i := range 60 {
		jobs = append(jobs, everySecond(fmt.Sprintf("j%02d", i), now))
	}
	storetest.Put(t, admin, jobs...)
	// Stop half-way between fire times: runs planned ahead of the next
	// (lead) would be recorded missed by the shutdown.
	time.Sleep(time.Until(now.Truncate(time.Second).Add(3500 * time.Millisecond)))
	for _, s := range members {
		if err := s.Shutdown(t.Context()); err != nil {
			t.Error(err)
		}
	}
	type fire struct {
		job string
		at  time.Time
	}
	seen := map[fire]int{}
	perJob := map[string][]time.Time{}
	for _, call := range c.list() {
		seen[fire{call.JobID, call.FireTime.UTC()}]++
		perJob[call.JobID] = append(perJob[call.JobID], call.FireTime)
	}
	for f, n := range seen {
		if n != 1 {
			t.Errorf("%s at %s ran %d times", f.job, f.at, n)
		}
	}
	for _, j := range jobs {
		fires := perJob[j.ID]
		if len(fires) < 2 {
			t.Errorf("job %s ran %d times in 3.5 s, want at least 2", j.ID, len(fires))
		}
	}
	owners := map[string]int{}
	runs := viewRuns(t, admin)
	for _, r := range runs {
		if r.Outcome != store.Success {
			t.Errorf("run %s/%d: %s (%s)", r.JobID, r.Seq, r.Outcome, r.Reason)
		}
		owners[r.Owner]++
	}
	if len(runs) != len(seen) {
		t.Errorf("%d runs recorded, %d made", len(runs), len(seen))
	}
	// Which scheduler wakes first for a fire time claims what is due then:
	// how the work spreads is a matter of timing, reported here and by
	// testdata/bench/fleet.sh, not asserted.
	t.Logf("runs by scheduler: %v", owners)
}

func viewRuns(t *testing.T, s store.Store) []*store.Run {
	t.Helper()
	var runs []*store.Run
	err := s.View(t.Context(), func(tx store.Tx) (err error) { runs, err = tx.Runs("", 0); return err })
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestFleetTakeover: a scheduler cut off from the database (its store
// closed under it: no renewal, no write) is taken for dead once its lease
// ends; a survivor records its run interrupted, naming it, and runs the
// fire time again as attempt 2, since the job recovers. The cut-off
// scheduler starts nothing more.
func TestFleetTakeover(t *testing.T) {
	url := pgtest.NewDB(t)
	admin := openPG(t, url)
	c := &calls{block: make(chan struct{})}
	lease := time.Second
	deadStore := openPG(t, url)
	dead, err := New(Config{Store: deadStore, Owner: "doomed", Funcs: map[string]Func{"f": c.f}, Lease: lease})
	if err != nil {
		t.Fatal(err)
	}
	if err := dead.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	j, err := store.NewJob("backup", FuncPrefix+"f", schedule.Spec{At: now.Add(300 * time.Millisecond).Format(time.RFC3339Nano)}, store.DefaultOptions(), now)
	if err != nil {
		t.Fatal(err)
	}
	j.Options.Recover = true
	mon := newMonitor(t)
	j.Options.Ping = mon.srv.URL + "/backup"
	storetest.Put(t, admin, j)
	waitFor(t, 5*time.Second, "the doomed scheduler starts the run", func() bool { return len(c.list()) == 1 })
	deadStore.Close()
	var log syncBuffer
	cutAt := time.Now()
	survivor := fleetMember(t, url, "survivor", c, lease, &log)
	defer survivor.Shutdown(t.Context())
	waitFor(t, 10*time.Second, "the survivor re-runs the fire time", func() bool { return len(c.list()) == 2 })
	took := time.Since(cutAt)
	got := c.list()
	if got[1].Attempt != 2 || !got[1].FireTime.Equal(got[0].FireTime) {
		t.Errorf("second call %+v, want attempt 2 of fire time %s", got[1], got[0].FireTime)
	}
	close(c.block)
	waitFor(t, 5*time.Second, "the recovered run is recorded", func() bool {
		runs := viewRuns(t, admin)
		return len(runs) == 2 && runs[0].Outcome == store.Success
	})
	runs := viewRuns(t, admin)
	first := runs[1]
	if first.Outcome != store.Interrupted || !strings.Contains(first.Reason, "its scheduler doomed") || !strings.Contains(first.Reason, "taken over by survivor") {
		t.Errorf("the doomed scheduler's run: %s (%s)", first.Outcome, first.Reason)
	}
	if runs[0].Owner != "survivor" || runs[0].Attempt != 2 {
		t.Errorf("the recovered run: owner %s, attempt %d", runs[0].Owner, runs[0].Attempt)
	}
	// The monitor hears of the run the doomed scheduler started from the
	// survivor, under the rid the doomed one started it with.
	startRID, endRID := ping.RunID("backup", first.Seq), ping.RunID("backup", runs[0].Seq)
	for _, want := range []string{"POST /backup/start?rid=" + startRID, "POST /backup/fail?rid=" + startRID + " jobctl: run " + strconv.FormatUint(first.Seq, 10) + " of backup interrupted: its scheduler doomed",
		"POST /backup/start?rid=" + endRID, "POST /backup/0?rid=" + endRID} {
		waitFor(t, 5*time.Second, want, func() bool {
			mon.mu.Lock()
			defer mon.mu.Unlock()
			return slices.ContainsFunc(mon.got, func(g string) bool { return strings.HasPrefix(g, want) })
		})
	}
	if took > lease+2*time.Second {
		t.Errorf("taken over %v after the cut, want within the lease (%v) and a renewal", took, lease)
	}
	t.Logf("taken over %v after the cut (lease %v)", took.Round(time.Millisecond), lease)
	// Cut off, it cannot record its run: it gives up when told to.
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := dead.Shutdown(ctx); err == nil {
		t.Error("the cut-off scheduler's Shutdown recorded its run")
	}
}

// TestFleetMaxInstances: max instances holds across the fleet: a job with
// max 1 whose run outlasts its interval is skipped by every scheduler
// while it runs, whichever runs it.
func TestFleetMaxInstances(t *testing.T) {
	url := pgtest.NewDB(t)
	admin := openPG(t, url)
	c := &calls{block: make(chan struct{})}
	a := fleetMember(t, url, "a", c, 0, nil)
	b := fleetMember(t, url, "b", c, 0, nil)
	storetest.Put(t, admin, everySecond("slow", time.Now()))
	time.Sleep(3500 * time.Millisecond)
	close(c.block)
	for _, s := range []*Scheduler{a, b} {
		if err := s.Shutdown(t.Context()); err != nil {
			t.Error(err)
		}
	}
	if n := len(c.list()); n != 1 {
		t.Errorf("%d instances ran, want 1 (max instances 1, the first still running)", n)
	}
	skipped := 0
	for _, r := range viewRuns(t, admin) {
		if r.Outcome == store.Skipped {
			skipped++
			if !strings.Contains(r.Reason, "1 of max 1 instances running") {
				t.Errorf("skipped run's reason: %s", r.Reason)
			}
		}
	}
	if skipped < 2 {
		t.Errorf("%d fire times skipped, want the 2 or more that came while the first ran", skipped)
	}
}

// TestFleetClockSkew: a host whose clock is 5 s fast goes by the
// database's clock, and says so: its job fires when the database's clock
// reads the fire time, not 5 s early.
func TestFleetClockSkew(t *testing.T) {
	url := pgtest.NewDB(t)
	admin := openPG(t, url)
	c := &calls{}
	var log syncBuffer
	s, err := New(Config{Store: openPG(t, url), Owner: "fast", Funcs: map[string]Func{"f": c.f}, Clock: fastClock{5 * time.Second},
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(t.Context())
	at := time.Now().Add(2 * time.Second)
	j, err := store.NewJob("once", FuncPrefix+"f", schedule.Spec{At: at.Format(time.RFC3339Nano)}, store.DefaultOptions(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, admin, j)
	waitFor(t, 10*time.Second, "the job runs", func() bool { return len(c.list()) == 1 })
	if early := time.Until(at); early > 500*time.Millisecond {
		t.Errorf("ran %v before its fire time by the database's clock", early)
	}
	if !strings.Contains(log.String(), "this host's clock is off the database's") {
		t.Errorf("the log does not say the clock is off:\n%s", log.String())
	}
}

// fastClock is the real clock, off by d.
type fastClock struct{ d time.Duration }

func (c fastClock) Now() time.Time                 { return time.Now().Add(c.d) }
func (c fastClock) NewTimer(d time.Duration) Timer { return RealClock{}.NewTimer(d) }
func (c fastClock) NewAlarm() Alarm                { return fastAlarm{RealClock{}.NewAlarm(), c.d} }

type fastAlarm struct {
	Alarm
	d time.Duration
}

func (a fastAlarm) Set(at time.Time) {
	if !at.IsZero() {
		at = at.Add(-a.d)
	}
	a.Alarm.Set(at)
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFleetLapsedLease: a scheduler whose lease lapses (its heartbeat
// stopped, as SIGSTOP would stop it) plans nothing and says why; a peer
// takes its run in progress over; when it renews at last it finds the
// lease lost, joins again, and starts nothing it planned before.
func TestFleetLapsedLease(t *testing.T) {
	url := pgtest.NewDB(t)
	admin := openPG(t, url)
	c := &calls{block: make(chan struct{})}
	var log syncBuffer
	lease := 3 * time.Second // long enough for its job's first fire time
	z := fleetMember(t, url, "zombie", c, lease, &log)
	z.stopBeat() // frozen: no renewal from here on
	<-z.beatDone
	planned := &instance{job: everySecond("planned", time.Now()), epoch: 0}
	if !z.mayStart(planned) {
		t.Fatal("an instance planned under a live lease may not start")
	}
	storetest.Put(t, admin, everySecond("tick", time.Now()))
	waitFor(t, 5*time.Second, "the zombie starts a run", func() bool { return len(c.list()) == 1 })
	waitFor(t, 2*lease, "the zombie's lease lapses", func() bool { ok, _ := z.fleet.valid(); return !ok })
	if z.mayStart(planned) {
		t.Error("an instance may start after the lease lapsed")
	}
	peer := fleetMember(t, url, "peer", c, lease, nil)
	defer peer.Shutdown(t.Context())
	waitFor(t, 5*time.Second, "the peer takes the run over", func() bool {
		for _, r := range viewRuns(t, admin) {
			if r.Owner == "zombie" && r.Outcome == store.Interrupted {
				return true
			}
		}
		return false
	})
	z.sync()
	if !strings.Contains(log.String(), "waiting for the database to renew this scheduler's lease: no run starts meanwhile") {
		t.Errorf("the zombie's log does not say it waits for its lease:\n%s", log.String())
	}
	z.beat(t.Context())
	if !strings.Contains(log.String(), "this scheduler's lease had lapsed") {
		t.Errorf("the zombie's log does not say its lease had lapsed:\n%s", log.String())
	}
	if z.mayStart(planned) {
		t.Error("an instance planned before the lease was lost may start after joining again")
	}
	close(c.block)
	if err := z.Shutdown(t.Context()); err != nil {
		t.Error(err)
	}
	// Its one run made ended (success) after the peer had recorded it
	// interrupted: that record stands.
	for _, r := range viewRuns(t, admin) {
		if r.Owner == "zombie" && r.Outcome == store.Success {
			t.Errorf("zombie's run %s/%d recorded %s over the peer's record", r.JobID, r.Seq, r.Outcome)
		}
	}
}
