package cmd

import (
	"context"
	"errors"
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
	now             func() time.Time
	signals         func(chan<- os.Signal) // signal.Notify, but in tests
}

func newRunCmd(s Streams) *cobra.Command {
	o := &runOptions{now: time.Now, signals: notifyStop}
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
		RunE: func(c *cobra.Command, _ []string) error { return runRun(c.Context(), o, s) },
	}
	f := c.Flags()
	f.StringVarP(&o.file, "file", "f", "", "apply this jobfile first (- reads standard input)")
	f.BoolVar(&o.memory, "memory", false, "run only the jobfile's jobs, in memory, storing nothing (needs -f)")
	f.BoolVar(&o.paused, "paused", false, "pause the scheduler as it starts: kept in the database, as jobctl scheduler pause, until jobctl scheduler resume")
	f.BoolVar(&o.once, "once", false, "run the jobs due now, wait for them, and exit")
	f.BoolVar(&o.noWait, "no-wait", false, "at shutdown, terminate the running jobs instead of waiting for them")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 0, "at shutdown, wait at most this long for running jobs (0: no limit)")
	f.DurationVar(&o.killGrace, "kill-grace", runner.DefaultKillGrace, "time between SIGTERM and SIGKILL when a job is terminated")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug (explains every decision), info, warn or error")
	f.StringVar(&o.shell, "shell", runner.DefaultShell[0], "the shell that runs commands, as SHELL -c COMMAND")
	f.StringVar(&o.logDir, "log-dir", "", "also append each job's output to DIR/ID.log")
	_ = c.MarkFlagFilename("file", "toml")
	_ = c.MarkFlagDirname("log-dir")
	_ = c.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func init() { commands = append(commands, newRunCmd) }

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

func runRun(ctx context.Context, o *runOptions, s Streams) error {
	log, err := o.logger(s.Err, os.Getenv("JOURNAL_STREAM"))
	if err != nil {
		return err
	}
	switch {
	case o.memory && o.file == "":
		return usagef("--memory runs a jobfile's jobs: it needs -f FILE")
	case o.once && o.noWait:
		return usagef("--once waits for the jobs it runs: it cannot be used with --no-wait")
	case o.shutdownTimeout < 0:
		return usagef("--shutdown-timeout: %s is negative", o.shutdownTimeout)
	case o.killGrace <= 0:
		return usagef("--kill-grace: %s is not positive", o.killGrace)
	case o.shell == "":
		return usagef("--shell: empty")
	}
	if o.logDir != "" {
		if fi, err := os.Stat(o.logDir); err != nil || !fi.IsDir() {
			return usagef("--log-dir: %s is not a directory", o.logDir)
		}
	}

	var f *jobfile.File
	if o.file != "" {
		// The jobfile's commands run as this user: refused if others
		// could have written them. (Standard input is what this user
		// gave it.)
		if o.file != "-" {
			if err := store.CheckPrivate(o.file); err != nil {
				return err
			}
		}
		if f, err = loadJobfile(o.file, s.In); err != nil {
			return err
		}
	}
	db, unlock, err := o.open(log)
	if err != nil {
		return err
	}
	defer db.Close()
	defer unlock()
	if f != nil {
		var r jobfile.Report
		err := db.Update(ctx, func(tx store.Tx) (err error) {
			r, err = jobfile.Apply(tx, f, o.now(), jobfile.ApplyOptions{})
			return err
		})
		if err != nil {
			return fmt.Errorf("applying %s: %w", inputName(o.file), err)
		}
		log.Info("jobfile applied", "file", inputName(o.file), "added", len(r.Added), "changed", len(r.Changed), "unchanged", len(r.Unchanged))
	}

	cfg := runner.Config{
		Store:       db,
		Shell:       []string{o.shell, "-c"},
		Logger:      log,
		Output:      s.Out,
		LogDir:      o.logDir,
		KillGrace:   o.killGrace,
		StartPaused: o.paused,
		ReapOrphans: os.Getpid() == 1,
	}
	if cfg.ReapOrphans {
		log.Info("running as PID 1: reaping the orphaned processes that jobs leave behind")
	}
	// The executors and listeners are those of the jobfile applied last,
	// whether just now (-f) or by an earlier apply.
	var set store.Settings
	if err := db.View(ctx, func(tx store.Tx) (err error) { set, err = tx.Settings(); return err }); err != nil {
		return err
	}
	cfg.Executors = make(map[string]int, len(set.Executors))
	for _, e := range set.Executors {
		cfg.Executors[e.Name] = e.MaxWorkers
	}
	for _, l := range set.Listeners {
		cfg.Listeners = append(cfg.Listeners, store.Listener{Events: l.Events, Command: l.Command})
	}
	if len(set.Executors)+len(set.Listeners) > 0 {
		log.Info("executors and listeners of the jobfile applied last", "executors", len(set.Executors), "listeners", len(set.Listeners))
	}
	sched, err := runner.New(cfg)
	if err != nil {
		return err
	}

	sigs := make(chan os.Signal, 2)
	o.signals(sigs)
	defer signal.Stop(sigs)
	if err := sched.Start(ctx); err != nil {
		return err
	}
	// The first signal stops scheduling; the second terminates the jobs.
	stopping, stop := context.WithCancel(context.Background())
	defer stop()
	killing, kill := context.WithCancel(context.Background())
	defer kill()
	go func() {
		for first := true; ; first = false {
			select {
			case sig := <-sigs:
				if first {
					log.Info("signal: stopping", "signal", sig.String())
					stop()
					continue
				}
				log.Warn("signal: terminating the running jobs", "signal", sig.String())
				kill()
			case <-killing.Done():
			}
			return
		}
	}()
	if o.once {
		_ = sched.Drain(stopping) // a signal ends the wait: Shutdown follows
	} else {
		<-stopping.Done()
	}
	if o.noWait {
		return sched.Close()
	}
	deadline := killing
	if o.shutdownTimeout > 0 {
		var cancel context.CancelFunc
		deadline, cancel = context.WithTimeout(killing, o.shutdownTimeout)
		defer cancel()
	}
	return sched.Shutdown(deadline)
}

// open opens the store the scheduler runs on, and takes the scheduler lock
// of a database file.
func (o *runOptions) open(log *slog.Logger) (store.Store, func() error, error) {
	if o.memory {
		log.Info("running the jobfile's jobs in memory: nothing is stored")
		return store.NewMemory(), func() error { return nil }, nil
	}
	path, err := dbPath()
	if err != nil {
		return nil, nil, err
	}
	if err := store.CheckPrivate(path); err != nil {
		return nil, nil, err
	}
	unlock, err := store.Lock(path)
	if errors.Is(err, store.ErrLocked) {
		return nil, nil, fmt.Errorf("%w: one scheduler per database", err)
	}
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(path, store.OpenOptions{Create: true})
	if err != nil {
		unlock()
		return nil, nil, err
	}
	log.Info("database", "path", path)
	return db, unlock, nil
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

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
