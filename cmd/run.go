package cmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/jobfile"
)

type runOptions struct {
	io      Streams
	now     func() time.Time
	db      *database
	notify  func(chan<- os.Signal) // signal.Notify, but in tests
	journal string                 // $JOURNAL_STREAM

	file            string
	memory          bool
	paused          bool
	once            bool
	noWait          bool
	shutdownTimeout time.Duration
	killGrace       time.Duration
	logFormat       string
	logLevel        string
	shell           string
	logDir          string
}

func newRunCmd(f *Factory) *cobra.Command {
	o := &runOptions{io: f.IO, now: f.Now, db: f.DB, notify: notifyStop}
	c := &cobra.Command{
		Use:   "run [-f JOBFILE [--memory]] [--paused] [--once] [flags]",
		Short: "Run the scheduler in the foreground",
		Long: `run is the scheduler: it runs the stored jobs' commands with /bin/sh -c when
their triggers say, and records every run in the history (jobctl history),
including the fire times it did not run: missed (later than the misfire
grace), skipped (max instances running), interrupted (the scheduler died
while it ran). Changes made with other jobctl commands reach it within a
second. One scheduler runs on a database at a time; a second one refuses.

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

A scheduler killed outright leaves what its jobs started running: the next
one records those runs interrupted, and counts their processes that still
run (found by these variables) against max instances until they end.

With -f, the jobfile is applied to the database first (as jobctl apply);
with --memory too, only the jobfile's jobs run, in memory, and nothing is
stored. The executors and listeners are those of the jobfile applied last,
by -f or jobctl apply, which the database keeps; without any, the default
executor (10 workers) runs every job.

A listener runs its command with the shell, for at most a minute, on each
of its events, in the environment of jobctl run and the event's:

    JOBCTL_EVENT       the event: scheduler_started, job_error... (jobctl(5))
    JOBCTL_JOB_ID      the job, for job_* events

and for the events about a run (job_submitted, job_executed, job_error,
job_missed and job_max_instances):

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
their process groups. --no-wait terminates them at once. A closed stdout
(jobctl run | head) does not stop the scheduler: the jobs' output still goes
to their run records and --log-dir.

--once runs the jobs due now, waits for them (those waiting for a worker
too) and exits: for running jobctl from a systemd timer or from cron itself
rather than as a service, and for scripts. The misfire grace, coalescing and
max instances apply as always; a signal stops it as it stops a scheduler.`,
		Example: `  jobctl run
  jobctl run -f jobs.toml --log-format json
  jobctl run -f jobs.toml --memory --log-level debug
  jobctl run --once`,
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
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug (explains every decision), info, warn or error")
	fs.StringVar(&o.shell, "shell", runner.DefaultShell[0], "the shell that runs commands, as SHELL -c COMMAND")
	fs.StringVar(&o.logDir, "log-dir", "", "also append each job's output to DIR/ID.log")
	_ = c.MarkFlagFilename("file", "toml")
	_ = c.MarkFlagDirname("log-dir")
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
	if err := r.open(); err != nil {
		return err
	}
	defer r.close()
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
	log     *slog.Logger  // set by check
	jobfile *jobfile.File // set by open, with store and unlock; nil without -f
	store   store.Store
	unlock  func() error
	sched   *runner.Scheduler // set by start, with the rest
	// The first signal cancels stopping (no job starts any more), the
	// second killing (the running jobs are terminated).
	stopping, killing context.Context
	stop, kill        context.CancelFunc
	sigs              chan os.Signal
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
	case r.shell == "":
		return usagef("--shell: empty")
	}
	if r.logDir != "" {
		if fi, err := os.Stat(r.logDir); err != nil || !fi.IsDir() {
			return usagef("--log-dir: %s is not a directory", r.logDir)
		}
	}
	return nil
}

// open reads the jobfile of -f and opens the store the scheduler runs on:
// a database file, locked, or memory.
func (r *runCommand) open() error {
	if r.file != "" {
		// The jobfile's commands run as this user: refused if others
		// could have written them. (Standard input is what this user
		// gave it.)
		if r.file != "-" {
			if err := checkPrivate(r.file); err != nil {
				return err
			}
		}
		var err error
		if r.jobfile, err = loadJobfile(r.file, r.io.In); err != nil {
			return err
		}
	}
	if r.memory {
		r.log.Info("running the jobfile's jobs in memory: nothing is stored")
		db, err := openMemory()
		if err != nil {
			return err
		}
		r.store, r.unlock = db, func() error { return nil }
	} else {
		l, err := r.db.location()
		if err != nil {
			return err
		}
		db, unlock, path, err := l.openScheduler()
		if err != nil {
			return err
		}
		r.store, r.unlock = db, unlock
		r.log.Info("database", "path", path)
	}
	return nil
}

// apply applies the jobfile of -f, if any, to the store.
func (r *runCommand) apply(ctx context.Context) error {
	if r.jobfile == nil {
		return nil
	}
	var rep jobfile.Report
	err := r.store.Update(ctx, func(tx store.Tx) (err error) {
		rep, err = jobfile.Apply(tx, r.jobfile, r.now(), jobfile.ApplyOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("applying %s: %w", inputName(r.file), err)
	}
	r.log.Info("jobfile applied", "file", inputName(r.file), "added", len(rep.Added), "changed", len(rep.Changed), "unchanged", len(rep.Unchanged))
	return nil
}

// close releases the scheduler lock and closes the store.
func (r *runCommand) close() {
	r.unlock()
	r.store.Close()
}

// config is the scheduler's configuration: the flags, and the executors and
// listeners of the jobfile applied last, whether just now (-f) or by an
// earlier apply.
func (r *runCommand) config(ctx context.Context) (runner.Config, error) {
	cfg := runner.Config{
		Store:       r.store,
		Shell:       []string{r.shell, "-c"},
		Logger:      r.log,
		Output:      r.io.Out,
		LogDir:      r.logDir,
		KillGrace:   r.killGrace,
		StartPaused: r.paused,
		ReapOrphans: os.Getpid() == 1,
	}
	if cfg.ReapOrphans {
		r.log.Info("running as PID 1: reaping the orphaned processes that jobs leave behind")
	}
	var set store.Settings
	if err := r.store.View(ctx, func(tx store.Tx) (err error) { set, err = tx.Settings(); return err }); err != nil {
		return cfg, err
	}
	cfg.Executors = make(map[string]int, len(set.Executors))
	for _, e := range set.Executors {
		cfg.Executors[e.Name] = e.MaxWorkers
	}
	cfg.Listeners = set.Listeners
	if len(set.Executors)+len(set.Listeners) > 0 {
		r.log.Info("executors and listeners of the jobfile applied last", "executors", len(set.Executors), "listeners", len(set.Listeners))
	}
	return cfg, nil
}

// start starts the scheduler, listening for signals from just before.
func (r *runCommand) start(ctx context.Context) error {
	cfg, err := r.config(ctx)
	if err != nil {
		return err
	}
	if r.sched, err = runner.New(cfg); err != nil {
		return err
	}
	r.signals()
	return r.sched.Start(ctx)
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
		_ = r.sched.Drain(r.stopping) // a signal ends the wait: Shutdown follows
	} else {
		<-r.stopping.Done()
	}
	if r.noWait {
		return r.sched.Close()
	}
	deadline := r.killing
	if r.shutdownTimeout > 0 {
		var cancel context.CancelFunc
		deadline, cancel = context.WithTimeout(r.killing, r.shutdownTimeout)
		defer cancel()
	}
	return r.sched.Shutdown(deadline)
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
