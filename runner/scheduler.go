// Package runner is jobctl's scheduler: it runs the jobs of a store when
// their triggers say, as shell commands or as Go functions, and records a
// run for every fire time, including the ones it did not run (missed,
// skipped, interrupted). jobctl run is a thin caller of it; Go programs use
// it as APScheduler's BackgroundScheduler (Start, then Shutdown or Close)
// or BlockingScheduler (Run).
//
// # Files
//
// config.go has the Config; scheduler.go the Scheduler's life (New, Start,
// Shutdown, Close, Drain, Run); loop.go the goroutine that wakes and plans;
// planner.go the planning transaction's decisions, and policy.go its part
// of the run policies (retries, overlap); stop.go the runs a later fire
// time ends; executor.go the executors' pools, queues and instance counts;
// run.go one run, and process.go and func.go what carries it out; mail.go
// the mailing of their output, pings.go the run monitors' pings (package
// ping sends them); output.go the output's tail and lines; logfile.go the
// jobs' log files; writer.go (and launches.go) the recording of finished
// runs; retry.go the retrying of a failing store; events.go the events and
// listeners; stats.go what the scheduler is doing, from its memory, for
// metrics and probes; orphans.go the processes a killed scheduler left
// behind; reap.go reaping them as PID 1; clock.go and alarm.go time.
//
// # Commands and Go functions
//
// A job's Command is run with the shell (Config.Shell, "/bin/sh -c"), in a
// process group of its own; or, when it is FuncPrefix+NAME ("func:backup"),
// by calling the Go function Config.Funcs[NAME], a Func, which gets a
// context for its timeout and an io.Writer for its output, and whose error
// is the run's outcome. (An executor, as in APScheduler, is something else:
// a named pool of workers that either kind of job runs in.)
//
// # The loop
//
// One goroutine sleeps on an Alarm set for the store's earliest next run
// time, and on the store's Watch, which signals within a second a commit
// made by another process (a jobctl command), or its own. It never polls
// (but for free space, while the store fails for want of it: retry.go).
// Each time it wakes it runs one store transaction that reads the journal of
// changes (for events), the scheduler's paused setting, and the jobs due;
// for each due job it plans the fire times from its stored next run time up
// to now with schedule.Due (coalesce, misfire grace), records a Run for each
// of them — missed, skipped (max instances reached) or submitted (outcome
// running, with this scheduler as owner) — and stores the job's new next run
// time, or marks it finished (planner.go: decisions, nothing done). Only
// when that transaction has committed are runs started, so a crash can never
// run a fire time twice: a run still recorded as running when a scheduler
// starts is marked interrupted.
// To keep that transaction (and its fsync) off the path from a fire time to
// its process, the loop wakes a little ahead (lead) of the fire time, plans
// the job as of its fire time, and starts the process on an alarm at that
// instant.
//
// # Executors
//
// Submitted runs go to their job's executor, a pool of workers; a run that
// waits for a free worker is checked against its misfire grace again when it
// gets one. The runs of one job submitted together (several fire times
// caught up after downtime, with coalescing off) run one after another, as
// one instance, as APScheduler runs them. Results are written in batches by
// one writer goroutine, so a burst of short runs costs few commits.
//
// # Time
//
// Every reading of the time and every wait goes through a Clock, so tests
// drive the scheduler with a fake one (package clocktest), instantly and
// exactly.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jobctl/jobctl/store"
)

const (
	// dueBatch bounds the jobs planned in one transaction; more wait for
	// the next one, which follows at once.
	dueBatch = 1000
	// lead is how far ahead of a fire time its job is planned (see planner.decide).
	lead = 200 * time.Millisecond
	// maxCatchUp bounds the runs of one job submitted at one wake-up with
	// coalescing off: when more fire times are due, the last run stands
	// for the rest (see schedule.Due).
	maxCatchUp = 100
)

// A Scheduler runs the jobs of a store. Only one Scheduler may run on a
// store at a time, unless the store is a fleet's (store.FleetTx): it takes
// every run recorded as running at its start to be a dead scheduler's.
// (The jobctl command makes sure with bolt.Lock and an Exclusive store.)
type Scheduler struct {
	// Set by New and not changed after: read from any goroutine.
	cfg      Config       // with its defaults filled in
	clock    Clock        // cfg.Clock
	log      *slog.Logger // cfg.Logger
	out      *lineWriter  // cfg.Output, serialised for the runs
	ls       *listeners
	mail     *mailer
	pings    *pinger
	children *children // the processes started, kept from the reaper; nil without ReapOrphans
	launches *launches
	planner  planner
	w        *writer
	health   health                                // the store's failures, for cfg.StoreErrors
	syncReq  chan chan struct{}                    // see sync
	exec     func(*process, context.Context) exit  // (*process).run, but in tests
	jitter   func(max time.Duration) time.Duration // a random delay in [0, max): rand.N, but in tests
	// retryJitter draws in [-1, 1] how far a retry's delay moves (see
	// schedule.Retry.After): at random, but in tests.
	retryJitter func() float64
	// stopping is done when runs not yet started are no longer to start;
	// killing, when running processes are to be terminated and the
	// contexts of running Funcs cancelled.
	stopping context.Context
	stop     context.CancelFunc
	killing  context.Context
	kill     context.CancelFunc
	work     sync.WaitGroup // instances, from submission to their last run's end

	// skew is clock: Config.Clock corrected to a fleet's store's clock
	// (by nothing, alone on a store). Set by New.
	skew *skewClock

	// session is this scheduler's life on the store, for jobctl why:
	// who it is (set by New), and when it started (by Start, which
	// records it in its first transaction; finish records its End).
	session store.Period

	// Set by Start before it returns; used by Shutdown and Drain, which
	// are called after it.
	fleet      *fleet // nil: alone on the store
	stopBeat   context.CancelFunc
	beatDone   chan struct{} // closed when the heartbeat returns
	stopLoop   context.CancelFunc
	loopDone   chan struct{} // closed when the loop returns
	loopEnded  sync.Once
	stopReaper context.CancelFunc // nil without ReapOrphans

	// stopped is closed when Shutdown or Close returns; stopErr, written
	// before, is what it returned (for a Close that ends its wait).
	stopped chan struct{}
	stopErr error

	// Owned by the loop's goroutine (by Start's before the loop starts):
	// read and written by no other, with no lock.
	lastSeq uint64 // the last journal entry read
	paused  bool   // what the store said at the last tick, for the log
	lapsed  bool   // the fleet's lease had lapsed at the last tick, for the log

	// For Stats, from any goroutine: paused as the loop last saw it, and
	// whether the loop runs.
	pausedSeen atomic.Bool
	looping    atomic.Bool

	// mu guards these, for the loop, the workers, watchOrphans, Shutdown
	// and Drain.
	mu        sync.Mutex
	state     int                   // stateNew, stateRunning, stateStopping, stateStopped
	pools     map[string]*pool      // each pool's busy and queue too
	instances map[string]int        // per job: instances submitted or running
	runCtx    map[runKey]runContext // per run submitted and not yet recorded (stop.go)
}

const (
	stateNew = iota
	stateRunning
	stateStopping // in Shutdown or Close
	stateStopped
)

// New checks cfg and returns a Scheduler ready to Start.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Store == nil {
		return nil, errors.New("runner: no store")
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	if cfg.Shell == nil {
		cfg.Shell = DefaultShell
	}
	if len(cfg.Shell) == 0 || cfg.Shell[0] == "" {
		return nil, errors.New("runner: empty shell")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = DefaultKillGrace
	}
	host, _ := os.Hostname()
	if cfg.Owner == "" {
		cfg.Owner = host + ":" + strconv.Itoa(os.Getpid())
	}
	if cfg.Environ == nil {
		cfg.Environ = os.Environ()
	}
	pools := map[string]*pool{store.DefaultExecutor: {max: store.DefaultMaxWorkers}}
	for name, n := range cfg.Executors {
		if n < 1 {
			return nil, fmt.Errorf("runner: executor %q: max workers %d is less than 1", name, n)
		}
		pools[name] = &pool{max: n}
	}
	if err := store.CheckSendmail(cfg.Sendmail); err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	cfg.Funcs = maps.Clone(cfg.Funcs) // the caller's map may change
	for name, f := range cfg.Funcs {
		if f == nil {
			return nil, fmt.Errorf("runner: func %q is nil", name)
		}
	}
	for i, l := range cfg.Listeners {
		for _, name := range l.Events {
			if !slices.Contains(store.EventNames, name) {
				return nil, fmt.Errorf("runner: listener %d: unknown event %q", i+1, name)
			}
		}
	}
	s := &Scheduler{
		cfg:         cfg,
		clock:       cfg.Clock,
		log:         cfg.Logger,
		out:         &lineWriter{w: cfg.Output},
		pools:       pools,
		instances:   make(map[string]int),
		runCtx:      make(map[runKey]runContext),
		syncReq:     make(chan chan struct{}),
		stopped:     make(chan struct{}),
		exec:        (*process).run,
		jitter:      rand.N[time.Duration],
		retryJitter: func() float64 { return rand.Float64()*2 - 1 },
	}
	if cfg.ReapOrphans {
		s.children = newChildren()
	}
	s.skew = &skewClock{base: cfg.Clock}
	s.session = store.Period{Kind: store.SessionPeriod, Scheduler: cfg.Owner, Host: host, PID: os.Getpid(), Version: cfg.Version}
	s.clock = s.skew
	s.planner.owner = cfg.Owner
	s.planner.zone, _ = store.LocalZone()
	s.planner.nextJob = s.log.Enabled(context.Background(), slog.LevelDebug)
	s.launches = newLaunches()
	s.health.report = cfg.StoreErrors
	s.out.failed = func(err error) {
		s.log.Warn("cannot write the jobs' output: no more is written there (it is still recorded in their runs)", "err", err)
	}
	s.stopping, s.stop = context.WithCancel(context.Background())
	s.killing, s.kill = context.WithCancel(context.Background())
	s.ls = newListeners(cfg.Listeners, s.log, s.runListener)
	s.mail = newMailer(s)
	s.pings = newPinger(s)
	s.w = newWriter(s)
	return s, nil
}

// Start recovers the runs a dead scheduler left running (recording them
// interrupted), pauses the scheduler if configured to, and starts
// scheduling in the background. It returns once the jobs due at the start
// are submitted: Start followed by Shutdown runs them once. ctx bounds
// Start's own store I/O, not the scheduler's life (Shutdown and Close end
// that): the recovery transaction, whose failure fails Start, and the
// first planning, whose failure the loop retries as any store error.
func (s *Scheduler) Start(ctx context.Context) error {
	if !s.setState(stateNew, stateRunning) {
		return errors.New("runner: scheduler already started")
	}

	now := s.clock.Now()
	s.session.Start = now
	var interrupted []*store.Run
	var interruptedPings map[*store.Run]string
	var orphans map[*store.Run][]int
	var paused bool
	var joined renewal
	var atStart []string // jobs fired by this start
	var fleetRunning bool
	sent := time.Now()
	err := s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		interrupted, interruptedPings, orphans, paused = nil, nil, nil, false
		if ftx, ok := tx.(store.FleetTx); ok {
			// In a fleet, the runs in progress are the others'.
			s.fleet = newFleet(s.session, s.cfg.Lease)
			var err error
			if joined, err = s.join(ftx); err != nil {
				return err
			}
		} else {
			// Alone on the store: what runs is a dead scheduler's.
			runs, err := tx.RunningRuns()
			if err != nil {
				return err
			}
			var lookErr error
			if len(runs) > 0 {
				orphans, lookErr = findOrphans(runs)
			}
			for _, r := range runs {
				r.Outcome = store.Interrupted
				r.Reason = orphanReason(r, orphans[r], lookErr)
				if err := tx.PutRun(r); err != nil {
					return err
				}
				if err := store.RunEnded(tx, r, now); err != nil {
					return err
				}
				if interruptedPings, err = pingOf(tx, r, interruptedPings); err != nil {
					return err
				}
			}
			interrupted = runs
		}
		var err error
		if atStart, fleetRunning, err = s.fireAtStart(tx, now); err != nil {
			return err
		}
		if err := tx.PutPeriod(s.session); err != nil {
			return err
		}
		if s.cfg.StartPaused {
			if _, err := store.SetPaused(tx, true, now); err != nil {
				return err
			}
		}
		set, err := tx.Settings()
		if err != nil {
			return err
		}
		paused = set.Paused
		// Only what happens from now on is news.
		changes, err := tx.ChangesSince(0)
		if err != nil {
			return err
		}
		if len(changes) > 0 {
			s.lastSeq = changes[len(changes)-1].Seq
		}
		return nil
	})
	if err != nil {
		s.setState(stateRunning, stateStopped)
		return fmt.Errorf("starting the scheduler: %w", err)
	}
	s.paused = paused
	s.pausedSeen.Store(paused)
	for _, r := range interrupted {
		s.log.Warn("run interrupted", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "reason", r.Reason)
		s.emit(Event{Name: store.EventJobError, JobID: r.JobID, Run: r})
		s.pings.ended(interruptedPings[r], r)
		if pids := orphans[r]; len(pids) > 0 {
			s.mu.Lock()
			s.instances[r.JobID]++ // before the first tick: watchOrphans keeps it
			s.mu.Unlock()
			go s.watchOrphans(r, pids)
		}
	}
	if s.fleet != nil {
		s.log.Info("joined the fleet of schedulers on the database", "lease", s.fleet.lease)
		s.renewed(joined, sent)
		var beating context.Context
		beating, s.stopBeat = context.WithCancel(context.Background())
		s.beatDone = make(chan struct{})
		go s.heartbeat(beating, s.beatDone)
	}
	s.log.Info("scheduler started", "owner", s.cfg.Owner, "paused", paused)
	if len(atStart) > 0 {
		s.log.Info("jobs that run at each start are due", "jobs", atStart)
	} else if fleetRunning {
		s.log.Info("joined a running fleet: jobs that run at each start are not fired (they run once per start of the fleet)")
	}
	if paused {
		// The pause is kept in the store: a scheduler started after a
		// run --paused or a scheduler pause is still paused, and says so.
		s.log.Warn("the scheduler is paused: no job starts until jobctl scheduler resume (the pause is kept in the database, across restarts)")
	}
	s.emit(Event{Name: store.EventSchedulerStarted})

	if s.children != nil {
		var reaping context.Context
		reaping, s.stopReaper = context.WithCancel(context.Background())
		go s.children.reap(reaping)
	}
	// The loop's transactions are bounded by its life: once it is to stop,
	// one waiting for the store gives up, planning nothing.
	life, cancel := context.WithCancel(context.Background())
	s.stopLoop, s.loopDone = cancel, make(chan struct{})
	watch, err := s.cfg.Store.Watch(life)
	if err != nil {
		s.log.Error("cannot watch the store: changes made by other commands are seen only at the next wake-up", "err", err)
	}
	// Everything due at the start is submitted before Start returns.
	next, more, err := s.tick(ctx)
	for more && err == nil {
		next, more, err = s.tick(ctx)
	}
	s.looping.Store(true)
	s.pings.startBeat()
	go s.loop(life, watch, next, err)
	go s.w.run()
	return nil
}

// Shutdown stops scheduling, and from then on starts no run: the runs not
// started yet (waiting for a worker, in their jitter delay, or planned
// ahead of their fire time) are recorded missed, with why. The running
// ones go on until they end or ctx is done; then their processes are
// terminated (SIGTERM to the group, then SIGKILL after the kill grace),
// the contexts of their Funcs cancelled, and their runs recorded
// interrupted. It returns when every run is recorded and the listeners
// have had their say, ctx bounding that too: its error says which runs
// could not be recorded. As with http.Server, Close is the same without
// the waiting.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	return s.shutdown(ctx, true)
}

// Close stops the scheduler as Shutdown does, but does not wait for the
// running runs to end: their processes are terminated at once, and their
// Funcs' contexts cancelled. It returns once their runs are recorded (a
// failing store is tried again until it takes them) and the listeners have
// had their say. Called while a Shutdown waits for the runs, it ends the
// wait in the same way, and returns what that Shutdown returns.
func (s *Scheduler) Close() error {
	s.mu.Lock()
	if s.state == stateStopping {
		s.mu.Unlock()
		s.stop() // if Shutdown has not yet: nothing more starts
		s.kill()
		<-s.stopped
		return s.stopErr
	}
	s.mu.Unlock()
	return s.shutdown(context.Background(), false)
}

func (s *Scheduler) shutdown(ctx context.Context, wait bool) (err error) {
	if !s.setState(stateRunning, stateStopping) {
		return errors.New("runner: scheduler not running")
	}
	defer func() {
		s.stopErr = err
		s.setState(stateStopping, stateStopped)
		close(s.stopped)
	}()
	s.endLoop()
	if s.fleet != nil {
		s.fleet.endTakeovers()
	}
	s.stop()
	s.drainQueues()
	s.mu.Lock()
	running := 0
	for _, p := range s.pools {
		running += p.busy
	}
	s.mu.Unlock()
	if wait && running > 0 {
		s.log.Info("shutting down: waiting for the running jobs to end; nothing new starts", "running", running)
		select {
		case <-s.idle():
		case <-ctx.Done():
			s.log.Warn("shutting down: terminating the runs still going")
		}
	}
	return s.finish(ctx)
}

// Drain stops scheduling (no fire time is planned after it returns) and
// waits until every run already submitted has run, those waiting for a
// worker or in their jitter delay too, each checked against its misfire
// grace as it starts; or until ctx is done. Shutdown follows it: jobctl run
// --once is Start, Drain and Shutdown.
func (s *Scheduler) Drain(ctx context.Context) error {
	if !s.running() {
		return errors.New("runner: scheduler not running")
	}
	s.endLoop()
	select {
	case <-s.idle():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endLoop stops the loop, once, and waits for it to return.
func (s *Scheduler) endLoop() {
	s.loopEnded.Do(func() {
		s.stopLoop()
		<-s.loopDone
	})
}

// idle is closed once no instance is submitted or running.
func (s *Scheduler) idle() <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		s.work.Wait()
		close(ch)
	}()
	return ch
}

// finish terminates what still runs, records every run and says goodbye.
func (s *Scheduler) finish(ctx context.Context) error {
	s.kill()
	<-s.idle()
	err := s.w.close(ctx)
	// Mail and pings have the same grace, not one after the other.
	pinged := make(chan struct{})
	go func() {
		s.pings.close(ctx)
		close(pinged)
	}()
	s.mail.close(ctx)
	<-pinged
	s.endSession()
	if s.fleet != nil {
		s.leave()
	}
	s.log.Info("scheduler shut down")
	s.emit(Event{Name: store.EventSchedulerShutdown})
	s.ls.close(ctx)
	if s.stopReaper != nil {
		s.stopReaper()
	}
	return err
}

// endSessionWait bounds the wait to record the end of this scheduler's
// session: past it, the session reads as a scheduler that died.
const endSessionWait = 5 * time.Second

// endSession records that this scheduler stopped cleanly, now that every
// run is recorded; without it, jobctl why takes it for dead.
func (s *Scheduler) endSession() {
	ctx, cancel := context.WithTimeout(context.Background(), endSessionWait)
	defer cancel()
	end := s.session
	if end.End = s.clock.Now(); end.End.Before(end.Start) {
		end.End = end.Start // the clock was set back
	}
	err := s.cfg.Store.Update(ctx, func(tx store.Tx) error { return tx.PutPeriod(end) })
	if err != nil {
		s.log.Warn("cannot record this scheduler's stop: jobctl why will say it died", "err", err)
	}
}

// Run starts the scheduler and blocks until ctx is done, then shuts down,
// waiting for the running jobs to end: APScheduler's BlockingScheduler.
func (s *Scheduler) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	return s.Shutdown(context.Background())
}

// setState moves the scheduler from state from to state to, and reports
// whether it was in from.
func (s *Scheduler) setState(from, to int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != from {
		return false
	}
	s.state = to
	return true
}

// running reports whether the scheduler has started and not yet been shut
// down.
func (s *Scheduler) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateRunning
}
