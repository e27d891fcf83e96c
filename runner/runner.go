// Package runner is jobctl's scheduler: it executes the jobs of a store as
// shell commands when their triggers say, and records a run for every fire
// time, including the ones it did not run (missed, skipped, interrupted).
// jobctl run is a thin caller of it; Go programs use it as APScheduler's
// BackgroundScheduler (Start, Shutdown) or BlockingScheduler (Run).
//
// # The loop
//
// One goroutine sleeps on an Alarm set for the store's earliest next run
// time, and on the store's Watch, which signals within a second a commit
// made by another process (a jobctl command), or its own. It never polls. Each time it
// wakes it runs one store transaction that reads the journal of changes
// (for events), the scheduler's paused setting, and the jobs due; for each
// due job it plans the fire times from its stored next run time up to now
// with schedule.Due (coalesce, misfire grace), records a Run for each of
// them — missed, skipped (max instances reached) or submitted (outcome
// running, with this scheduler as owner) — and stores the job's new next
// run time, or marks it finished. Only when that transaction has committed
// are processes started, so a crash can never run a fire time twice: a run
// still recorded as running when a scheduler starts is marked interrupted.
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
// drive the scheduler with a FakeClock, instantly and exactly.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// DefaultKillGrace is a Config's KillGrace unless set.
const DefaultKillGrace = 10 * time.Second

// DefaultShell runs a job's command: the command is its last argument.
var DefaultShell = []string{"/bin/sh", "-c"}

const (
	// dueBatch bounds the jobs planned in one transaction; more wait for
	// the next one, which follows at once.
	dueBatch = 1000
	// lead is how far ahead of a fire time its job is planned (see tick).
	lead = 200 * time.Millisecond
	// maxCatchUp bounds the runs of one job submitted at one wake-up with
	// coalescing off: when more fire times are due, the last run stands
	// for the rest (see schedule.Due).
	maxCatchUp = 100
	// Store errors are retried after a delay doubling from minBackoff up
	// to maxBackoff.
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// Config is what a Scheduler runs and how.
type Config struct {
	Store store.Store
	Clock Clock // nil: RealClock
	// Executors are the worker pools by name, with their number of
	// workers. The default executor has store.DefaultMaxWorkers unless set here. A
	// job naming an executor that is not configured runs in a pool of
	// store.DefaultMaxWorkers of that name, with a warning.
	Executors map[string]int
	Shell     []string // nil: DefaultShell
	Listeners []store.Listener
	Logger    *slog.Logger // nil: discard
	// Output receives every line the jobs print, stdout and stderr, each
	// tagged with its job's id: "[backup] done". nil: discard. After a
	// write fails, nothing more is written to it.
	Output io.Writer
	// LogDir, if set, is a directory where each job's output is appended
	// to ID.log.
	LogDir string
	// Owner names this scheduler in the runs it claims; "" is host:pid.
	Owner string
	// KillGrace is how long a process has between SIGTERM and SIGKILL;
	// 0: DefaultKillGrace.
	KillGrace time.Duration
	// Events, if set, is called for every event, from the scheduler's
	// goroutines: it must return quickly.
	Events func(Event)
	// StartPaused pauses the scheduler (in the store, as jobctl scheduler
	// pause does) as it starts.
	StartPaused bool
	// Environ is the environment jobs and listeners start from; nil: this
	// process's.
	Environ []string
	// ReapOrphans reaps the processes that jobs leave behind when they are
	// reparented to this process, as an init does: for a scheduler that is
	// PID 1 (a container's entry point). The jobs' own exit statuses are
	// never taken.
	ReapOrphans bool
}

// A Scheduler runs the jobs of a store. Only one Scheduler may run on a
// store at a time (the jobctl command holds bolt.Lock for a file to make sure): it
// takes every run recorded as running at its start to be a dead
// scheduler's.
type Scheduler struct {
	cfg     Config
	clock   Clock
	log     *slog.Logger
	out     *lineWriter
	environ []string
	ls      *listeners
	// children are the processes started, kept from the reaper; nil
	// without ReapOrphans.
	children   *children
	stopReaper context.CancelFunc
	launches   *launches
	// zone is the local zone's name, given to jobs stored without a zone
	// (by an older jobctl) as they are planned: the zone they fired in.
	zone string

	mu        sync.Mutex
	state     int
	pools     map[string]*pool
	instances map[string]int // per job: instances waiting or running
	lastSeq   uint64         // the last journal entry read
	paused    bool

	stopLoop  context.CancelFunc
	loopDone  chan struct{}
	loopEnded sync.Once
	// stopping is done when runs not yet started are no longer to start;
	// killing, when running processes are to be terminated.
	stopping context.Context
	stop     context.CancelFunc
	killing  context.Context
	kill     context.CancelFunc
	work     sync.WaitGroup // instances, from submission to their last run's end

	w *writer

	syncReq chan chan struct{}                   // see sync
	exec    func(*process, context.Context) exit // (*process).run, but in tests
}

const (
	stateNew = iota
	stateRunning
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
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		cfg.Owner = host + ":" + strconv.Itoa(os.Getpid())
	}
	if cfg.Environ == nil {
		cfg.Environ = os.Environ()
	}
	pools := map[string]*pool{store.DefaultExecutor: {name: store.DefaultExecutor, max: store.DefaultMaxWorkers}}
	for name, n := range cfg.Executors {
		if n < 1 {
			return nil, fmt.Errorf("runner: executor %q: max workers %d is less than 1", name, n)
		}
		pools[name] = &pool{name: name, max: n}
	}
	for i, l := range cfg.Listeners {
		for _, name := range l.Events {
			if !slices.Contains(store.EventNames, name) {
				return nil, fmt.Errorf("runner: listener %d: unknown event %q", i+1, name)
			}
		}
	}
	s := &Scheduler{
		cfg:       cfg,
		clock:     cfg.Clock,
		log:       cfg.Logger,
		out:       &lineWriter{w: cfg.Output},
		environ:   cfg.Environ,
		pools:     pools,
		instances: make(map[string]int),
		syncReq:   make(chan chan struct{}),
		exec:      (*process).run,
	}
	if cfg.ReapOrphans {
		s.children = newChildren()
	}
	s.zone, _ = store.LocalZone()
	s.launches = newLaunches()
	s.out.failed = func(err error) {
		s.log.Warn("cannot write the jobs' output: no more is written there (it is still recorded in their runs)", "err", err)
	}
	s.stopping, s.stop = context.WithCancel(context.Background())
	s.killing, s.kill = context.WithCancel(context.Background())
	s.ls = newListeners(cfg.Listeners, s.log, s.runListener)
	s.w = newWriter(s)
	return s, nil
}

// Start recovers the runs a dead scheduler left running (recording them
// interrupted), pauses the scheduler if configured to, and starts
// scheduling in the background. It returns once the jobs due at the start
// are submitted: Start followed by Shutdown with wait runs them once.
func (s *Scheduler) Start() error {
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		return errors.New("runner: scheduler already started")
	}
	s.state = stateRunning
	s.mu.Unlock()

	now := s.clock.Now()
	var interrupted []*store.Run
	var orphans map[*store.Run][]int
	var paused bool
	err := s.cfg.Store.Update(context.Background(), func(tx store.Tx) error {
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
		}
		interrupted = runs
		if s.cfg.StartPaused {
			if _, err := SetPaused(tx, true, now); err != nil {
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
		s.mu.Lock()
		s.state = stateStopped
		s.mu.Unlock()
		return fmt.Errorf("starting the scheduler: %w", err)
	}
	s.paused = paused
	for _, r := range interrupted {
		s.log.Warn("run interrupted", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "reason", r.Reason)
		s.emit(Event{Name: store.EventJobError, JobID: r.JobID, Run: r})
		if pids := orphans[r]; len(pids) > 0 {
			s.mu.Lock()
			s.instances[r.JobID]++ // before the first tick: watchOrphans keeps it
			s.mu.Unlock()
			go s.watchOrphans(r, pids)
		}
	}
	s.log.Info("scheduler started", "owner", s.cfg.Owner, "paused", paused)
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
	ctx, cancel := context.WithCancel(context.Background())
	s.stopLoop, s.loopDone = cancel, make(chan struct{})
	watch, err := s.cfg.Store.Watch(ctx)
	if err != nil {
		s.log.Error("cannot watch the store: changes made by other commands are seen only at the next wake-up", "err", err)
	}
	// Everything due at the start is submitted before Start returns.
	next, more, err := s.tick()
	for more && err == nil {
		next, more, err = s.tick()
	}
	go s.loop(ctx, watch, next, err)
	go s.w.run()
	return nil
}

// Shutdown stops scheduling, and from then on starts no process: the runs
// not started yet (waiting for a worker, in their jitter delay, or planned
// ahead of their fire time) are recorded missed, with why. With wait, the
// running processes go on until they end or ctx is done; then, or at once
// without wait, their groups are terminated (SIGTERM, then SIGKILL after
// the kill grace) and their runs recorded interrupted. It returns when
// every run is recorded and the listeners have had their say (ctx bounds
// that too).
func (s *Scheduler) Shutdown(ctx context.Context, wait bool) error {
	s.mu.Lock()
	if s.state != stateRunning {
		s.mu.Unlock()
		return errors.New("runner: scheduler not running")
	}
	s.state = stateStopped
	s.mu.Unlock()
	s.endLoop()
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
		s.waitIdle(ctx, "shutting down: terminating the runs still going")
	}
	return s.finish(ctx)
}

// Drain stops scheduling (no fire time is planned after it returns) and
// waits until every run already submitted has run, those waiting for a
// worker or in their jitter delay too, each checked against its misfire
// grace as it starts; or until ctx is done. Shutdown follows it: jobctl run
// --once is Start, Drain and Shutdown.
func (s *Scheduler) Drain(ctx context.Context) error {
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	if state != stateRunning {
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

// waitIdle waits until no instance is submitted or running, or ctx is
// done, when it logs why it stops waiting.
func (s *Scheduler) waitIdle(ctx context.Context, giveUp string) {
	select {
	case <-s.idle():
	case <-ctx.Done():
		s.log.Warn(giveUp)
	}
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
	s.log.Info("scheduler shut down")
	s.emit(Event{Name: store.EventSchedulerShutdown})
	s.ls.close(ctx)
	if s.stopReaper != nil {
		s.stopReaper()
	}
	return err
}

// Run starts the scheduler and blocks until ctx is done, then shuts down,
// waiting for the running jobs to end.
func (s *Scheduler) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	return s.Shutdown(context.Background(), true)
}

// SetPaused pauses or resumes the whole scheduler in tx, recording the
// change in the journal so that a running scheduler hears of it. It reports
// whether anything changed: pausing a paused scheduler does nothing.
func SetPaused(tx store.Tx, paused bool, now time.Time) (bool, error) {
	set, err := tx.Settings()
	if err != nil {
		return false, err
	}
	if set.Paused == paused {
		return false, nil
	}
	set.Paused = paused
	if err := tx.PutSettings(set); err != nil {
		return false, err
	}
	kind := store.SchedulerResumed
	if paused {
		kind = store.SchedulerPaused
	}
	return true, tx.RecordChange(store.Change{Time: now, Kind: kind})
}

// loop wakes for the alarm, the store's watch and nothing else, until ctx
// is done. next and err are the first tick's.
func (s *Scheduler) loop(ctx context.Context, watch <-chan struct{}, next time.Time, err error) {
	defer close(s.loopDone)
	alarm := s.clock.NewAlarm()
	defer alarm.Close()
	backoff := time.Duration(0)
	for {
		if err != nil {
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			s.log.Error("store error; trying again", "err", err, "in", backoff)
			next = s.clock.Now().Add(backoff)
		} else {
			backoff = 0
		}
		alarm.Set(next)
		var synced chan struct{}
		select {
		case <-ctx.Done():
			return
		case <-alarm.C():
		case _, ok := <-watch:
			if !ok {
				watch = nil
			}
		case synced = <-s.syncReq:
		}
		next, _, err = s.tick()
		if synced != nil {
			close(synced)
		}
	}
}

// sync makes the loop wake and look at the store now, and returns when it
// has: tests call it after moving a FakeClock.
func (s *Scheduler) sync() {
	done := make(chan struct{})
	s.syncReq <- done
	<-done
}

// A tick's decisions, acted on once its transaction has committed.
type tick struct {
	changes   []store.Change
	paused    bool
	events    []Event     // missed and skipped runs
	submit    []*instance // to hand to executors
	finished  []string    // jobs whose trigger has no more fire times
	broken    []*store.Job
	next      time.Time // the earliest next run time, zero: none
	nextJob   string
	more      bool // a full batch was due: look again at once
	unmatched int  // journal entries lost before lastSeq
}

// tick runs one transaction of the loop and then acts on it; it returns
// when to wake next (zero: only for a change in the store), and whether
// more jobs are due than it took.
//
// A job whose fire time comes within lead is planned ahead, as if at its
// fire time, and its process started by an alarm at that instant: the
// transaction (and its fsync) is then off the path from the fire time to
// the process. The one decision that could come out differently at the
// fire time, max instances reached (an instance may end meanwhile), is
// not taken ahead: such a job waits for its fire time.
func (s *Scheduler) tick() (wake time.Time, more bool, err error) {
	var t tick
	now := s.clock.Now()
	s.mu.Lock()
	inFlight := maps.Clone(s.instances)
	s.mu.Unlock()
	err = s.cfg.Store.Update(context.Background(), func(tx store.Tx) error {
		t = tick{}
		var err error
		if t.changes, err = tx.ChangesSince(s.lastSeq); err != nil {
			return err
		}
		set, err := tx.Settings()
		if err != nil {
			return err
		}
		t.paused = set.Paused
		if t.paused {
			return nil
		}
		due, err := tx.Due(now.Add(lead), dueBatch)
		if err != nil {
			return err
		}
		t.more = len(due) == dueBatch
		for _, j := range due {
			at := now
			if j.NextRun.After(now) {
				if j.Broken == "" && inFlight[j.ID] >= max(j.Options.MaxInstances, 1) {
					continue // decided at its fire time
				}
				at = j.NextRun
			}
			if err := s.plan(tx, j, at, now, inFlight, &t); err != nil {
				return err
			}
		}
		if t.next, _, err = tx.NextRunTime(); err != nil {
			return err
		}
		if !t.next.IsZero() && s.log.Enabled(context.Background(), slog.LevelDebug) {
			if js, err := tx.Due(t.next, 1); err == nil && len(js) == 1 {
				t.nextJob = js[0].ID
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, err
	}
	s.act(&t, now)
	switch {
	case t.paused:
		return time.Time{}, false, nil
	case t.more:
		return now, true, nil
	case t.next.IsZero():
		s.log.Debug("no job scheduled: waiting for a change")
		return time.Time{}, false, nil
	}
	// Woken lead ahead of the next fire time, or at it for a job left to
	// be decided then.
	wake = t.next.Add(-lead)
	if !wake.After(now) {
		wake = t.next
	}
	s.log.Debug("next wake-up", "at", wake, "fire_time", t.next, "job", t.nextJob, "in", wake.Sub(now))
	return wake, false, nil
}

// plan decides what to do about one due job as of at (now, or its fire time
// when planned ahead), in the tick's transaction: records its runs and
// stores its next run time.
func (s *Scheduler) plan(tx store.Tx, j *store.Job, at, now time.Time, inFlight map[string]int, t *tick) error {
	if j.Broken != "" {
		t.broken = append(t.broken, j)
		return nil
	}
	trig, err := j.ParseTrigger()
	if err != nil { // stored jobs parse, or are Broken; a trigger cannot change its mind
		j.Broken = err.Error()
		t.broken = append(t.broken, j)
		return nil
	}
	if j.Trigger.Timezone == "" && s.zone != "" {
		j.Trigger.Timezone = s.zone
	}
	o := j.Options
	next, req := j.NextRun, j.Requested
	if !req.IsZero() && !next.Before(req) {
		// run-now made the job due at req, in place of its next fire time.
		next = trig.Next(req.Add(-time.Nanosecond))
	}
	p := schedule.Due(trig, next, at, o.Coalesce, o.MisfireGrace, maxCatchUp)
	if !req.IsZero() && !req.After(at) {
		p = p.WithRequest(req, o.Coalesce)
		j.Requested = time.Time{}
	}
	var inst *instance
	for _, f := range p.Fires {
		r := &store.Run{JobID: j.ID, FireTime: f.Time, Coalesced: f.Coalesced, Requested: f.Requested, Submitted: now, Owner: s.cfg.Owner}
		switch {
		case f.Missed:
			r.Outcome = store.Missed
			r.Reason = fmt.Sprintf("late by %s, more than the misfire grace of %s", at.Sub(f.Time).Round(time.Millisecond), time.Duration(o.MisfireGrace))
			t.events = append(t.events, Event{Name: store.EventJobMissed, JobID: j.ID, Run: r})
		case inst == nil && inFlight[j.ID] >= max(o.MaxInstances, 1):
			r.Outcome = store.Skipped
			r.Reason = fmt.Sprintf("%d of max %d instances running", inFlight[j.ID], o.MaxInstances)
			t.events = append(t.events, Event{Name: store.EventJobMaxInstances, JobID: j.ID, Run: r})
		default:
			r.Outcome = store.Running
			if inst == nil {
				inst = &instance{job: j, start: at}
				inFlight[j.ID]++
				t.submit = append(t.submit, inst)
			}
			inst.runs = append(inst.runs, r)
		}
		if err := tx.AddRun(r); err != nil {
			return err
		}
	}
	j.NextRun = p.Next
	if r := j.Requested; !r.IsZero() && (j.NextRun.IsZero() || r.Before(j.NextRun)) {
		j.NextRun = r // requested after a fire time due now: next
	}
	if j.NextRun.IsZero() {
		j.State = store.Finished
		t.finished = append(t.finished, j.ID)
	}
	return tx.PutJob(j)
}

// act carries out a committed tick: events, log, submissions.
func (s *Scheduler) act(t *tick, now time.Time) {
	if len(t.changes) > 0 {
		if t.changes[0].Seq > s.lastSeq+1 && s.lastSeq > 0 {
			s.log.Warn("missed some changes to the jobs: the journal moved on", "lost", t.changes[0].Seq-s.lastSeq-1)
		}
		s.lastSeq = t.changes[len(t.changes)-1].Seq
	}
	for _, c := range t.changes {
		s.log.Info("change", "kind", c.Kind, "job", c.JobID)
		s.emit(Event{Name: string(c.Kind), Time: c.Time, JobID: c.JobID})
	}
	if t.paused != s.paused {
		s.paused = t.paused
		if t.paused {
			s.log.Info("scheduler paused: no job starts until it is resumed; running jobs go on")
		} else {
			s.log.Info("scheduler resumed")
		}
	}
	for _, j := range t.broken {
		s.log.Error("job is broken and not scheduled", "job", j.ID, "reason", j.Broken)
	}
	for _, e := range t.events {
		r := e.Run
		if r.Outcome == store.Missed {
			s.log.Warn("run missed", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "coalesced", r.Coalesced, "reason", r.Reason)
		} else {
			s.log.Warn("run skipped", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "reason", r.Reason)
		}
		s.emit(e)
	}
	for _, id := range t.finished {
		s.log.Info("job finished: its trigger has no more fire times", "job", id)
	}
	// Instances planned ahead start at their fire time: one alarm for each
	// instant.
	var ahead map[time.Time][]*instance
	for _, inst := range t.submit {
		s.submitted(inst)
		if !inst.start.After(now) {
			s.submit(inst)
			continue
		}
		if ahead == nil {
			ahead = make(map[time.Time][]*instance)
		}
		ahead[inst.start] = append(ahead[inst.start], inst)
	}
	for at, insts := range ahead {
		go s.submitAt(at, insts)
	}
}

// submitAt submits instances when the wall clock reads at.
func (s *Scheduler) submitAt(at time.Time, insts []*instance) {
	alarm := s.clock.NewAlarm()
	defer alarm.Close()
	alarm.Set(at)
	select {
	case <-alarm.C():
		for _, inst := range insts {
			s.submit(inst)
		}
	case <-s.stopping.Done():
		for _, inst := range insts {
			s.drop(inst, "the scheduler shut down before it started")
		}
	}
}

// emit passes e to the Events hook and the listeners.
func (s *Scheduler) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = s.clock.Now()
	}
	if s.cfg.Events != nil {
		s.cfg.Events(e)
	}
	s.ls.emit(e)
}

// An instance is the runs of one job submitted together, run one after
// another in one worker; it counts once against max instances.
type instance struct {
	job    *store.Job
	runs   []*store.Run
	start  time.Time     // not before: its fire time when planned ahead
	jitter time.Duration // drawn at submission
	// launched is set, by its worker, once its first process has started
	// or none will (see launches).
	launched bool
}

// A pool is an executor: at most max instances run at once, the rest wait
// in order. Its fields are guarded by the Scheduler's mu.
type pool struct {
	name  string
	max   int
	busy  int
	queue []*instance
}

// submitted counts a new instance against its job's max instances, as it
// is planned, and emits its runs' job_submitted.
func (s *Scheduler) submitted(inst *instance) {
	s.work.Add(1)
	s.mu.Lock()
	s.instances[inst.job.ID]++
	s.mu.Unlock()
	for _, r := range inst.runs {
		s.log.Debug("run submitted", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "coalesced", r.Coalesced, "executor", inst.job.Options.Executor)
		s.emit(Event{Name: store.EventJobSubmitted, JobID: r.JobID, Run: r})
	}
}

// submit hands an instance to its executor, after its jitter.
func (s *Scheduler) submit(inst *instance) {
	if j := inst.job.Options.Jitter; j > 0 {
		inst.jitter = rand.N(j)
		s.log.Debug("jitter", "job", inst.job.ID, "delay", inst.jitter)
		go func() {
			t := s.clock.NewTimer(inst.jitter)
			defer t.Stop()
			select {
			case <-t.C():
				s.enqueue(inst)
			case <-s.stopping.Done():
				s.drop(inst, "the scheduler shut down before it started")
			}
		}()
		return
	}
	s.enqueue(inst)
}

// enqueue starts inst in a free worker of its executor, or queues it.
func (s *Scheduler) enqueue(inst *instance) {
	name := inst.job.Options.Executor
	if name == "" {
		name = store.DefaultExecutor
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Err() != nil {
		go s.drop(inst, "the scheduler shut down before it started")
		return
	}
	p := s.pools[name]
	if p == nil {
		s.log.Warn("executor not configured: using one of default size", "executor", name, "workers", store.DefaultMaxWorkers, "job", inst.job.ID)
		p = &pool{name: name, max: store.DefaultMaxWorkers}
		s.pools[name] = p
	}
	if p.busy < p.max {
		p.busy++
		s.launches.add()
		go s.worker(p, inst)
		return
	}
	s.log.Debug("waiting for a free worker", "job", inst.job.ID, "executor", name, "busy", p.busy, "queued", len(p.queue))
	p.queue = append(p.queue, inst)
}

// worker runs inst, then the instances queued in its pool, until none is.
func (s *Scheduler) worker(p *pool, inst *instance) {
	for inst != nil {
		s.execute(inst)
		s.mu.Lock()
		inst = nil
		if len(p.queue) > 0 && s.stopping.Err() == nil {
			inst, p.queue = p.queue[0], p.queue[1:]
			s.launches.add()
		} else {
			p.busy--
		}
		s.mu.Unlock()
	}
}

// drainQueues records the queued instances missed, at shutdown.
func (s *Scheduler) drainQueues() {
	s.mu.Lock()
	var left []*instance
	for _, p := range s.pools {
		left = append(left, p.queue...)
		p.queue = nil
	}
	s.mu.Unlock()
	for _, inst := range left {
		s.drop(inst, "the scheduler shut down while it waited for a worker")
	}
}

// abandon records runs of inst that will not start, its last ones.
func (s *Scheduler) abandon(inst *instance, runs []*store.Run, reason string) {
	s.free(inst)
	for _, r := range runs {
		r.Outcome, r.Reason = store.Missed, reason
		s.w.put(r, Event{Name: store.EventJobMissed, JobID: r.JobID, Run: r})
	}
}

// drop abandons an instance that never started.
func (s *Scheduler) drop(inst *instance, reason string) {
	s.abandon(inst, inst.runs, reason)
	s.work.Done()
}

// free stops counting inst against its job's max instances: before its
// last run is recorded, so that whoever sees the record can count on it.
func (s *Scheduler) free(inst *instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.instances[inst.job.ID]--; s.instances[inst.job.ID] <= 0 {
		delete(s.instances, inst.job.ID)
	}
}

// execute runs an instance's runs one after another, each checked against
// the misfire grace as it starts.
func (s *Scheduler) execute(inst *instance) {
	defer s.work.Done()
	defer s.launched(inst) // if no process started
	j := inst.job
	for i, r := range inst.runs {
		if s.stopping.Err() != nil {
			s.abandon(inst, inst.runs[i:], "the scheduler shut down before it started")
			return
		}
		now := s.clock.Now()
		due := r.FireTime.Add(inst.jitter)
		var e Event
		if !r.Requested && j.Options.MisfireGrace.Late(due, now) {
			r.Outcome = store.Missed
			r.Reason = fmt.Sprintf("started late by %s, more than the misfire grace of %s (waited for a worker)",
				now.Sub(due).Round(time.Millisecond), time.Duration(j.Options.MisfireGrace))
			s.log.Warn("run missed", "job", r.JobID, "run", r.Seq, "fire_time", r.FireTime, "reason", r.Reason)
			e = Event{Name: store.EventJobMissed, JobID: j.ID, Run: r}
		} else {
			e = s.runOne(inst, r)
		}
		if i == len(inst.runs)-1 {
			s.free(inst)
		}
		s.w.put(r, e)
	}
}

// launched counts off inst's launch, once: its first process has started,
// or none will.
func (s *Scheduler) launched(inst *instance) {
	if !inst.launched {
		inst.launched = true
		s.launches.done()
	}
}

// runOne runs one fire time of j's command, fills in r, and returns the
// event to emit once r is recorded.
func (s *Scheduler) runOne(inst *instance, r *store.Run) Event {
	j := inst.job
	// The record keeps the end of the output as it came; the log file all
	// of it; jobctl's output, each line tagged.
	out := newTail(TailSize)
	var raw io.Writer = out
	logFile := s.openLog(j, r)
	if logFile != nil {
		raw = io.MultiWriter(out, logFile)
	}
	prefix := "[" + j.ID + "] "
	line := func(b []byte) { s.out.writeLine(prefix, b) }
	env := make([]string, 0, len(s.environ)+len(j.Options.Env)+3)
	env = append(append(env, s.environ...), j.Options.Env...)
	env = append(append(env, runEnv(r)...), "JOBCTL_FIRE_TIME="+r.FireTime.Format(time.RFC3339))
	p := &process{
		argv:      append(slices.Clone(s.cfg.Shell), j.Command),
		dir:       j.Options.Dir,
		env:       env,
		timeout:   j.Options.Timeout,
		killGrace: s.cfg.KillGrace,
		clock:     s.clock,
		children:  s.children,
		raw:       raw,
		line:      line,
	}
	// Logged once the process has started: the log's write is not on the
	// way to it.
	p.started = func(at time.Time, err error) {
		s.launched(inst)
		if err == nil {
			s.log.Info("run started", "job", j.ID, "run", r.Seq, "fire_time", r.FireTime, "late", at.Sub(r.FireTime).Round(time.Millisecond))
		}
	}
	e := s.exec(p, s.killing)
	if logFile != nil {
		logFile.Close()
	}
	r.Started, r.Ended, r.Outcome = e.started, e.ended, e.outcome
	r.ExitCode, r.Signal, r.Reason = e.code, e.signal, e.reason
	r.Output = out.String()
	attrs := []any{"job", j.ID, "run", r.Seq, "outcome", r.Outcome, "duration", r.Ended.Sub(r.Started).Round(time.Millisecond)}
	if r.ExitCode != nil {
		attrs = append(attrs, "exit_code", *r.ExitCode)
	}
	if r.Signal != "" {
		attrs = append(attrs, "signal", r.Signal)
	}
	name := store.EventJobExecuted
	if r.Outcome == store.Success {
		s.log.Info("run ended", attrs...)
	} else {
		name = store.EventJobError
		s.log.Error("run ended", append(attrs, "reason", r.Reason)...)
	}
	return Event{Name: name, JobID: j.ID, Run: r}
}

// openLog opens j's log file, if there is a log directory, for r's output.
func (s *Scheduler) openLog(j *store.Job, r *store.Run) *os.File {
	if s.cfg.LogDir == "" {
		return nil
	}
	// The directory may be one others can write to (/tmp): a link planted
	// there is not followed, and another user's file is not written to.
	name := filepath.Join(s.cfg.LogDir, j.ID+".log")
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err == nil {
		if err = checkOwner(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		s.log.Warn("cannot open the job's log file", "job", j.ID, "file", name, "err", err)
		return nil
	}
	fmt.Fprintf(f, "--- run %d, fire time %s\n", r.Seq, r.FireTime.Format(time.RFC3339))
	return f
}

// checkOwner fails unless f belongs to this process's user or root.
func checkOwner(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() && st.Uid != 0 {
		return fmt.Errorf("owned by uid %d, another user", st.Uid)
	}
	return nil
}

// runListener runs one listener command for one event.
func (s *Scheduler) runListener(ctx context.Context, l store.Listener, e Event) {
	if ctx.Err() != nil {
		s.log.Warn("listener not run: shutting down", "event", e.Name, "command", l.Command)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, listenerTimeout)
	defer cancel()
	out := newTail(4 << 10)
	p := &process{
		argv:      append(slices.Clone(s.cfg.Shell), l.Command),
		env:       append(slices.Clone(s.environ), e.Env()...),
		killGrace: s.cfg.KillGrace,
		clock:     RealClock{}, // a listener's time limit is a safety net, not a schedule
		children:  s.children,
		raw:       out,
		line:      func([]byte) {},
	}
	x := p.run(ctx)
	if x.outcome != store.Success {
		reason := x.reason
		if ctx.Err() == context.DeadlineExceeded {
			reason = "timed out after " + listenerTimeout.String()
		}
		s.log.Warn("listener failed", "event", e.Name, "job", e.JobID, "command", l.Command, "reason", reason, "output", out.String())
		return
	}
	s.log.Debug("listener ran", "event", e.Name, "job", e.JobID, "command", l.Command)
}
