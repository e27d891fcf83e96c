package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/listen"
	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/jobfile"
)

type runOptions struct {
	io        Streams
	now       func() time.Time
	db        *database
	notify    func(chan<- os.Signal)          // signal.Notify, but in tests
	journal   string                          // $JOURNAL_STREAM
	buildInfo func() (*debug.BuildInfo, bool) // debug.ReadBuildInfo, but in tests

	file            string
	memory          bool
	paused          bool
	once            bool
	noWait          bool
	shutdownTimeout time.Duration
	killGrace       time.Duration
	lease           time.Duration
	logFormat       string
	logLevel        string
	shell           string
	logDir          string
	http            string
}

func newRunCmd(f *Factory) *cobra.Command {
	o := &runOptions{io: f.IO, now: f.Now, db: f.DB, notify: notifyStop, buildInfo: debug.ReadBuildInfo}
	c := &cobra.Command{
		Use:   "run [-f JOBFILE [--memory]] [--paused] [--once] [flags]",
		Short: "Run the scheduler in the foreground",
		Long: `run is the scheduler: it runs the stored jobs' commands with /bin/sh -c when
their triggers say, and records every run in the history (jobctl history),
including the fire times it did not run: missed (later than the misfire
grace), skipped (max instances running), interrupted (the scheduler died
while it ran). Changes made with other jobctl commands reach it within a
second. One scheduler runs on a database file at a time; a second one
refuses. On a PostgreSQL database several run together, on any machines, as
a fleet: each fire time runs once, on one of them, and when one stops
renewing its lease (--lease) the others take over its runs in progress.

Each job runs in a process group of its own, in its directory. Its output
goes to stdout line by line, tagged with its id ("[backup] done"), and the
last 64 KiB of it to the run's record (jobctl logs); the scheduler's own log
goes to stderr, each line with its time unless stderr is the systemd
journal ($JOURNAL_STREAM), which adds it. A job that runs past its timeout
gets SIGTERM, its whole group with it, then SIGKILL after --kill-grace.

A job's environment is that of jobctl run, its own env, and:

    JOBCTL_JOB_ID      the job's id
    JOBCTL_FIRE_TIME   the fire time the run is for, in RFC 3339
    JOBCTL_ATTEMPT     which attempt at that fire time the run is: 1, or
                       more for a job with --recover whose scheduler died
                       while it ran
    JOBCTL_RUN_ID      the run's number (jobctl logs ID RUN)
    JOBCTL_SCHEDULER   the scheduler that runs it, as host:pid
    JOBCTL_STORE       the store it is in: default, or a jobfile's
                       [stores.NAME] (listeners get it too)

A scheduler killed outright leaves what its jobs started running: the next
one records those runs interrupted, and counts their processes that still
run (found by these variables) against max instances until they end.

With -f, the jobfile is applied to the database first (as jobctl apply);
with --memory too, only the jobfile's jobs run, in memory, and nothing is
stored. The executors and listeners are those of the jobfile applied last,
by -f or jobctl apply, which the database keeps; without any, the default
executor (10 workers) runs every job.

A jobfile that names stores ([stores.NAME] tables, jobctl(5)) runs them all
in one process: one scheduler per store, each with the jobs the file puts
in it, started and shut down together; each log line says its store
(store=NAME). A database file is locked by its scheduler as always; a
PostgreSQL database is not. Each scheduler has executors of its own, of
the jobfile's sizes: a job waits only for the workers of its own store
(APScheduler's stores share theirs). --store NAME runs that store alone.
Without -f, run runs one store: the one --store names ($JOBCTL_JOBFILE
names the stores), else the default one.

A listener runs its command with the shell, for at most a minute, on each
of its events, in the environment of jobctl run and the event's:

    JOBCTL_EVENT       the event: scheduler_started, job_error... (jobctl(5))
    JOBCTL_JOB_ID      the job, for job_* events

and for the events about a run (job_submitted, job_started, job_executed,
job_error, job_missed and job_max_instances):

    JOBCTL_RUN_ID      its number
    JOBCTL_FIRE_TIME   its fire time, in RFC 3339
    JOBCTL_ATTEMPT     which attempt at its fire time it is, from 1
    JOBCTL_OUTCOME     running, success, failed, timeout, interrupted, missed
                       or skipped
    JOBCTL_EXIT_CODE   its exit status, when it exited
    JOBCTL_SIGNAL      the signal that ended it, such as SIGKILL
    JOBCTL_REASON      why it failed, was missed or was skipped

SIGINT, SIGTERM or SIGHUP stops scheduling: from then on no job starts (the
runs not started yet, waiting for a worker or in their jitter delay, are
recorded missed, with why), and the running ones are waited for; then
jobctl exits 0. A second signal, or --shutdown-timeout elapsing, terminates
their process groups. --no-wait terminates them at once. Runs that the
database does not take (its disk full) are tried again, and jobctl run says
it waits for them, until it takes them, or until a second signal or
--shutdown-timeout gives up on them: jobctl then exits 1, and the next start
records them interrupted. A closed stdout
(jobctl run | head) does not stop the scheduler: the jobs' output still goes
to their run records and --log-dir.

--http ADDR (or the jobfile's [scheduler] http; the flag wins) serves, read-only,
on [HOST:]PORT (a port alone, 8080 or :8080, is on 127.0.0.1; 0.0.0.0:8080 or
[::]:8080 serves the network):

    /             a dashboard: every job, its trigger, state, next run, last
                  outcome and a timeline of its recent runs; live in a
                  browser with JavaScript, readable without
    /jobs/ID      a job's page: its history and each run's output tail
    /api/jobs     the jobs as jobctl list -o json gives them; /api/jobs/ID
                  one job with its runs, /api/jobs/ID/runs/RUN one run with
                  its output
    /api/runs     the newest runs as jobctl history -o json gives them
                  (?n=N), without their output
    /api/scheduler this scheduler and its fleet
    /healthz      200 while the scheduler's loop runs and the database
                  answers, 503 and why otherwise: for probes
    /metrics      Prometheus metrics: runs by job and outcome, their
                  durations, start lateness, runs running, each job's next
                  run, last run and last success, pauses, busy workers,
                  pings given up, and Go's process metrics

The pages and the API read a picture of the database that is refreshed
within a second of each change, in short reads: however many clients poll
them, the scheduler's runs and other jobctl commands are not held up. On a
PostgreSQL database each scheduler of a fleet serves the whole fleet's jobs
and runs, with its members, and metrics of the runs it made itself,
labelled scheduler="HOST:PID". With several stores, --http needs --store.

--once runs the jobs due now, waits for them (those waiting for a worker
too) and exits: for running jobctl from a systemd timer or from cron itself
rather than as a service, and for scripts. The misfire grace, coalescing and
max instances apply as always; a signal stops it as it stops a scheduler.
It does not wait for the retries of the runs that fail (see jobctl add
--retries): they stay pending in the store, and the next jobctl run (or
--once) makes them, however late.`,
		Example: `  jobctl run
  jobctl run -f jobs.toml --log-format json
  jobctl run -f jobs.toml --store reports
  jobctl run -f jobs.toml --memory --log-level debug
  jobctl run --once
  jobctl run --http 8080`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			o.journal = os.Getenv("JOURNAL_STREAM")
			return runRun(c.Context(), o)
		},
	}
	fs := c.Flags()
	fs.StringVarP(&o.file, "file", "f", "", "apply this jobfile first (- reads standard input)")
	fs.BoolVar(&o.memory, "memory", false, "run only the jobfile's jobs, in memory, storing nothing (needs -f)")
	fs.BoolVar(&o.paused, "paused", false, "pause the scheduler as it starts: kept in the database, as jobctl scheduler pause, until jobctl scheduler resume")
	fs.BoolVar(&o.once, "once", false, "run the jobs due now, wait for them, and exit")
	fs.BoolVar(&o.noWait, "no-wait", false, "at shutdown, terminate the running jobs instead of waiting for them")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 0, "at shutdown, wait at most this long for running jobs (0: no limit)")
	fs.DurationVar(&o.killGrace, "kill-grace", runner.DefaultKillGrace, "time between SIGTERM and SIGKILL when a job is terminated")
	fs.DurationVar(&o.lease, "lease", runner.DefaultLease, "on a PostgreSQL database: how long the fleet waits for this scheduler to renew its lease (every fifth of it) before taking over its runs")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug (explains every decision), info, warn or error")
	fs.StringVar(&o.shell, "shell", runner.DefaultShell[0], "the shell that runs commands, as SHELL -c COMMAND")
	fs.StringVar(&o.logDir, "log-dir", "", "also append each job's output to DIR/ID.log")
	fs.StringVar(&o.http, "http", "", "serve a dashboard, its JSON API (/api/), /metrics and /healthz on [HOST:]PORT, read-only (a port alone: on 127.0.0.1)")
	_ = c.MarkFlagFilename("file", "toml")
	_ = c.MarkFlagDirname("log-dir")
	_ = c.RegisterFlagCompletionFunc("http", cobra.NoFileCompletions)
	_ = c.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// notifyStop sends the signals that stop the scheduler to c: SIGINT,
// SIGTERM, and SIGHUP (its terminal closed, or nohup's absent). SIGPIPE is
// caught too, and dropped: a write to a closed stdout or stderr (jobctl run
// | head) then fails with EPIPE instead of killing the scheduler, and jobs
// start with SIGPIPE as usual (a caught signal is reset by exec; an ignored
// one would not be).
func notifyStop(c chan<- os.Signal) {
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}

func runRun(ctx context.Context, o *runOptions) error {
	r := &runCommand{runOptions: o}
	if err := r.check(); err != nil {
		return err
	}
	defer r.close() // what open opened, if it fails part way
	if err := r.open(); err != nil {
		return err
	}
	if err := r.listenHTTP(r.stores[0]); err != nil {
		return err
	}
	if err := r.apply(ctx); err != nil {
		return err
	}
	defer r.stopSignals()
	if err := r.start(ctx); err != nil {
		return err
	}
	return r.wait()
}

// runCommand is one jobctl run, from its flags to its exit. runRun calls
// its methods in order, on one goroutine: check, open, apply, start
// (config, signals), wait, then stopSignals and close; each sets the fields
// that the next ones use. Only the goroutine of signals shares it: it reads
// sigs and log and calls stop and kill, all set before it starts.
type runCommand struct {
	*runOptions
	log     *slog.Logger   // set by check
	jobfile *loadedJobfile // set by open; nil without -f
	named   bool           // set by open: the stores are named, and so say which in logs and errors
	// stores are the stores it runs, the default one first: every one the
	// jobfile of -f names, else the one --store names (default: the default
	// store). start sets their schedulers, with the rest.
	stores []*runStore
	// The first signal cancels stopping (no job starts any more), the
	// second killing (the running jobs are terminated).
	stopping, killing context.Context
	stop, kill        context.CancelFunc
	sigs              chan os.Signal
	web               *runHTTP // set by listenHTTP, with --http; nil else
}

// check builds the logger and checks the flags.
func (r *runCommand) check() (err error) {
	if r.log, err = r.logger(r.io.Err, r.journal); err != nil {
		return err
	}
	switch {
	case r.memory && r.file == "":
		return usagef("--memory runs a jobfile's jobs: it needs -f FILE")
	case r.once && r.noWait:
		return usagef("--once waits for the jobs it runs: it cannot be used with --no-wait")
	case r.shutdownTimeout < 0:
		return usagef("--shutdown-timeout: %s is negative", r.shutdownTimeout)
	case r.killGrace <= 0:
		return usagef("--kill-grace: %s is not positive", r.killGrace)
	case r.lease < time.Second:
		return usagef("--lease: %s is less than 1s", r.lease)
	case r.shell == "":
		return usagef("--shell: empty")
	}
	if r.http != "" {
		if _, err := listen.Addr(r.http); err != nil {
			return usagef("--http: %v", err) // before the database is opened
		}
	}
	if r.logDir != "" {
		if fi, err := os.Stat(r.logDir); err != nil || !fi.IsDir() {
			return usagef("--log-dir: %s is not a directory", r.logDir)
		}
	}
	return nil
}

// runStore is a store that jobctl run runs, and its scheduler.
type runStore struct {
	name   string
	log    *slog.Logger // the run's, saying the store's name when the jobfile names stores
	store  store.Store
	unlock func() error
	sched  *runner.Scheduler
	// runner.Config's, for a database file (see schedulerDB); nil else.
	storeErrors func(error)
	freeSpace   func() (uint64, error)
}

// open reads the jobfile of -f and opens the stores the schedulers run on:
// database files, locked, PostgreSQL databases, or memory.
func (r *runCommand) open() error {
	if r.file != "" {
		var err error
		if r.jobfile, err = loadPrivateJobfile(r.file, r.io.In); err != nil {
			return err
		}
	}
	stores, named, err := r.db.stores(r.jobfile)
	if err != nil {
		return err
	}
	r.named = named
	if r.jobfile == nil {
		stores = stores[:1] // nothing to apply: the store --store names, or the default one
	}
	if r.memory {
		r.log.Info("running the jobfile's jobs in memory: nothing is stored")
	}
	for _, s := range stores {
		rs := &runStore{name: s.name, log: r.log}
		if r.named {
			rs.log = r.log.With("store", s.name)
		}
		if r.memory {
			if rs.store, err = openMemory(); err != nil {
				return err
			}
			rs.unlock = func() error { return nil }
		} else {
			db, err := s.loc.openScheduler(r.now, rs.log)
			if err != nil {
				return storeErr(s.name, r.named, err)
			}
			rs.store, rs.unlock, rs.storeErrors, rs.freeSpace = db.store, db.unlock, db.storeErrors, db.freeSpace
			rs.log.Info("database", "path", db.where)
		}
		r.stores = append(r.stores, rs)
	}
	return nil
}

// apply applies the jobfile of -f, if any, to the stores: each gets its
// jobs, in a transaction of its own.
func (r *runCommand) apply(ctx context.Context) error {
	if r.jobfile == nil {
		return nil
	}
	for _, rs := range r.stores {
		var rep jobfile.Report
		err := rs.store.Update(ctx, func(tx store.Tx) (err error) {
			rep, err = jobfile.Apply(tx, r.jobfile.File, r.now(), jobfile.ApplyOptions{Store: rs.name})
			return err
		})
		if err != nil {
			return storeErr(rs.name, r.named, fmt.Errorf("applying %s: %w", inputName(r.file), err))
		}
		rs.log.Info("jobfile applied", "file", inputName(r.file), "added", len(rep.Added), "changed", len(rep.Changed),
			"unchanged", len(rep.Unchanged), "removed", len(rep.Removed))
	}
	return nil
}

// close releases the scheduler locks and closes the stores.
func (r *runCommand) close() {
	r.web.close()
	for _, rs := range r.stores {
		rs.unlock()
		rs.store.Close()
	}
}

// config is the configuration of the scheduler of rs: the flags, and the
// executors and listeners of the jobfile applied last to its store, whether
// just now (-f) or by an earlier apply. Its jobs' output goes to out; reap
// says that it reaps orphaned processes (see start).
func (r *runCommand) config(ctx context.Context, rs *runStore, out io.Writer, reap bool) (runner.Config, error) {
	cfg := runner.Config{
		Store:       rs.store,
		Shell:       []string{r.shell, "-c"},
		Logger:      rs.log,
		Output:      out,
		LogDir:      r.logDir,
		KillGrace:   r.killGrace,
		Lease:       r.lease,
		StartPaused: r.paused,
		ReapOrphans: reap,
		Environ:     append(os.Environ(), "JOBCTL_STORE="+rs.name),
		Version:     shortVersion(r.buildInfo()),
		StoreErrors: rs.storeErrors,
		FreeSpace:   rs.freeSpace,
	}
	var set store.Settings
	if err := rs.store.View(ctx, func(tx store.Tx) (err error) { set, err = tx.Settings(); return err }); err != nil {
		return cfg, storeErr(rs.name, r.named, err)
	}
	cfg.Executors = make(map[string]int, len(set.Executors))
	for _, e := range set.Executors {
		cfg.Executors[e.Name] = e.MaxWorkers
	}
	cfg.Listeners = set.Listeners
	if len(set.Executors)+len(set.Listeners) > 0 {
		rs.log.Info("executors and listeners of the jobfile applied last", "executors", len(set.Executors), "listeners", len(set.Listeners))
	}
	return cfg, nil
}

// start starts the schedulers, listening for signals from just before.
func (r *runCommand) start(ctx context.Context) error {
	out := r.io.Out
	if len(r.stores) > 1 {
		out = &syncWriter{w: out}
	}
	// As PID 1, jobctl inherits the orphans of its jobs. The reaper of one
	// scheduler would take the exit statuses of another's children: only a
	// lone scheduler reaps.
	pid1 := os.Getpid() == 1
	reap := pid1 && len(r.stores) == 1
	switch {
	case reap:
		r.log.Info("running as PID 1: reaping the orphaned processes that jobs leave behind")
	case pid1:
		r.log.Warn("running as PID 1 with several stores: the orphaned processes that jobs leave behind are not reaped (run jobctl under an init, such as tini)")
	}
	for _, rs := range r.stores {
		cfg, err := r.config(ctx, rs, out, reap)
		if err != nil {
			return err
		}
		r.web.events(&cfg) // only one store has a dashboard
		if rs.sched, err = runner.New(cfg); err != nil {
			return storeErr(rs.name, r.named, err)
		}
	}
	if err := r.web.instrument(ctx, r.stores[0], shortVersion(r.buildInfo())); err != nil {
		return storeErr(r.stores[0].name, r.named, err)
	}
	r.signals()
	for i, rs := range r.stores {
		if err := rs.sched.Start(ctx); err != nil {
			for _, started := range r.stores[:i] {
				started.sched.Close()
			}
			return storeErr(rs.name, r.named, err)
		}
	}
	r.web.serve(r, r.stores[0])
	return nil
}

// syncWriter serialises the writes of several schedulers to one writer:
// each serialises only its own.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// signals makes the first stop signal cancel stopping and the second
// killing.
func (r *runCommand) signals() {
	r.sigs = make(chan os.Signal, 2)
	r.notify(r.sigs)
	r.stopping, r.stop = context.WithCancel(context.Background())
	r.killing, r.kill = context.WithCancel(context.Background())
	go func() {
		for first := true; ; first = false {
			select {
			case sig := <-r.sigs:
				if first {
					r.log.Info("signal: stopping", "signal", sig.String())
					r.stop()
					continue
				}
				r.log.Warn("signal: terminating the running jobs", "signal", sig.String())
				r.kill()
			case <-r.killing.Done():
			}
			return
		}
	}()
}

// stopSignals undoes signals, if it was called.
func (r *runCommand) stopSignals() {
	if r.sigs == nil {
		return
	}
	signal.Stop(r.sigs)
	r.stop()
	r.kill() // ends the goroutine of signals
}

// wait runs the scheduler until a signal stops it (with --once, until the
// jobs due now have run), then shuts it down: it waits for the running
// jobs, unless --no-wait, a second signal or --shutdown-timeout says not to.
func (r *runCommand) wait() error {
	if r.once {
		// A signal ends the wait: Shutdown follows.
		r.each(func(rs *runStore) error { _ = rs.sched.Drain(r.stopping); return nil })
	} else {
		<-r.stopping.Done()
	}
	if r.noWait {
		return r.each(func(rs *runStore) error { return rs.sched.Close() })
	}
	deadline := r.killing
	if r.shutdownTimeout > 0 {
		var cancel context.CancelFunc
		deadline, cancel = context.WithTimeout(r.killing, r.shutdownTimeout)
		defer cancel()
	}
	return r.each(func(rs *runStore) error { return rs.sched.Shutdown(deadline) })
}

// each calls fn for every store at once, and waits for them all: the
// schedulers drain and shut down together, none waiting for another's jobs.
func (r *runCommand) each(fn func(*runStore) error) error {
	errs := make([]error, len(r.stores))
	var wg sync.WaitGroup
	for i, rs := range r.stores {
		wg.Go(func() { errs[i] = storeErr(rs.name, r.named, fn(rs)) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// logger builds the scheduler's logger. When w is the systemd journal (as
// $JOURNAL_STREAM, passed as journal, says) the text format leaves out the
// time, which the journal adds; anywhere else, a file (2>sched.log, nohup)
// as much as a terminal, the time is the log's only record of when.
func (o *runOptions) logger(w io.Writer, journal string) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, usagef("--log-level: %q is not debug, info, warn or error", o.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch o.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		if journalStream(w, journal) {
			opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey && len(groups) == 0 {
					return slog.Attr{}
				}
				return a
			}
		}
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, usagef("--log-format: %q is not text or json", o.logFormat)
}
