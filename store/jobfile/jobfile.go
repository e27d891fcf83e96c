// Package jobfile reads and writes jobfiles: TOML files that describe
// scheduler settings and jobs, the declarative way to fill a store.
//
//	[scheduler]                      # optional
//	timezone = "Europe/Berlin"       # zone of triggers that name none
//	history_limit = 200              # finished runs kept per job
//	mailto = "ops@example.com"       # mail runs' output here, as cron's MAILTO
//	sendmail = "/usr/sbin/sendmail"  # default: sendmail on PATH
//	ping = "https://hc-ping.com/UUID" # a run monitor each scheduler pings every ping_every
//	ping_every = "1m"                # default 1m
//
//	[job_defaults]                   # optional; override the built-in defaults
//	coalesce = true                  # default true
//	max_instances = 1                # default 1
//	misfire_grace_time = "1m"        # a duration, an integer of seconds, or "none"
//	recover = false                  # default false; see store.Options.Recover
//	mail_on = "output"               # output, failure or always; see store.MailOn
//	ping = ""                        # a run monitor's URL; default none
//
//	[executors.slow]                 # a named pool; "default" always exists
//	max_workers = 2
//
//	[stores.reports]                 # a named store, for the jobs that say store = "reports"
//	url = "reports.db"               # a file (relative: to the jobfile) or postgres:// URL
//
//	[[listener]]                     # run a command on scheduler events
//	events = ["job_error", "job_missed"]
//	command = "notify-send jobctl \"$JOBCTL_EVENT $JOBCTL_JOB_ID\""
//
//	[[job]]
//	id = "backup"                    # required, unique
//	command = "restic backup /home"  # required, run by the shell
//	cron = "30 2 * * *"              # exactly one trigger: cron, every, at, any or all
//
// A trigger is cron = "crontab expression" or a [job.cron] table (or inline
// table) of APScheduler's keyword fields year, month, day, week,
// day_of_week, hour, minute, second; every = "5m"; at = a TOML datetime, a
// local datetime read in the job's zone, or a string; or any = [...] / all
// = [...] lists of inline tables holding one trigger each. timezone, start
// and end bound the trigger. A job takes every option of jobctl add:
// name, misfire_grace_time, coalesce, max_instances, executor, timeout,
// jitter, dir (relative to the jobfile's directory), env (a table of
// strings), recover, mailto ("" for no mail, though [scheduler] has a
// mailto), mail_on, ping (a run monitor's URL, pinged as each run starts
// and ends) and paused; and store, the [stores.NAME] it goes in.
// Unknown keys are errors.
//
// Parse reports every error it finds, each with its line and column, not
// just the first; only a TOML syntax error stops it, since nothing after one
// can be read.
package jobfile

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// File is a parsed jobfile.
type File struct {
	Name      string // as given to Parse, for messages
	Scheduler Scheduler
	// Defaults are the built-in DefaultOptions with [job_defaults] applied;
	// every job's options are already resolved against them.
	Defaults  store.Options
	Executors []Executor // by name
	Stores    []Store    // by name
	Listeners []Listener
	Jobs      []Job // in file order
}

// Scheduler holds the [scheduler] table.
type Scheduler struct {
	Timezone     string // IANA name; every job's trigger that names no zone gets it
	HistoryLimit int    // 0: not set
	MailTo       string // mail of the jobs that set no mailto goes here; "": none
	Sendmail     string // the program mail is sent with; "": sendmail on PATH
	// Ping is the scheduler's run monitor, pinged every PingEvery (0:
	// store.DefaultPingEvery) by each scheduler; "": none.
	Ping      string
	PingEvery time.Duration
	// HTTP is where jobctl run -f serves its dashboard ([HOST:]PORT, as
	// --http: see listen.Addr); "": nowhere. Not kept in the store: it is
	// the running process's, not the jobs'.
	HTTP string
}

// Executor is a named pool of workers, as the store keeps it.
type Executor = store.Executor

// Listener runs Command on the events it names.
type Listener struct {
	store.Listener
	Pos Position
}

// Job is a job as the file describes it: ready to store, its State Active or
// Paused, with no Anchor, NextRun or timestamps yet (Apply sets them).
type Job struct {
	store.Job
	Pos        Position // its [[job]] header
	TriggerPos Position // its trigger key
	Store      string   // the [stores.NAME] it goes in; "" is DefaultStore
}

// Position is a place in a file: line and column from 1 (0: unknown).
type Position struct {
	Line, Col int
}

func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is one problem in a jobfile.
type Error struct {
	File string   // as given to Parse
	Pos  Position // where the problem is; zero when the file as a whole is
	Msg  string   // names the key and the bad value
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ":")
	}
	if e.Pos.Line > 0 {
		b.WriteString(e.Pos.String() + ":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	return b.String() + e.Msg
}

// Errors is every problem Parse found, in file order.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// MaxSize is the largest jobfile Load reads: ample for 100,000 jobs, and
// small enough that reading and decoding one costs bounded memory, whatever
// file or device the path names.
const MaxSize = 32 << 20

// Load reads and parses the jobfile at path.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, fmt.Errorf("%s: is a directory, not a jobfile", path)
	case fi.Size() > MaxSize:
		return nil, fmt.Errorf("%s: larger than a jobfile may be (%d MiB)", path, MaxSize>>20)
	}
	return Read(path, f)
}

// Read reads a jobfile from r, at most MaxSize bytes of it, and parses it;
// name is as for Parse ("stdin" for standard input: relative dirs are then
// read from the working directory).
func Read(name string, r io.Reader) (*File, error) {
	// A device or a pipe has no size to check beforehand.
	src, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxSize {
		return nil, fmt.Errorf("%s: larger than a jobfile may be (%d MiB)", name, MaxSize>>20)
	}
	return Parse(name, src)
}

// Parse parses a jobfile. name is its path, used in errors and as the
// place a relative dir is read from (its directory; the working directory
// for a bare name such as "stdin"); every dir must be an existing
// directory, and is made absolute. The error, if any, is Errors.
func Parse(name string, src []byte) (*File, error) {
	d := newDecoder(name, src)
	f := d.file()
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *Error) int {
			return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
		})
		return nil, d.errs
	}
	return f, nil
}

// ResolveDir makes dir, a job's working directory, absolute against base
// (itself absolute) and checks that it is a directory. A relative dir is
// read where it was written (the shell of jobctl add, a jobfile's
// directory), not in whatever directory the scheduler runs; and a dir that
// does not exist would fail every run ("cannot start") rather than now.
// An empty dir is the scheduler's and stays empty.
func ResolveDir(dir, base string) (string, error) {
	if dir == "" {
		return "", nil
	}
	abs, what := dir, fmt.Sprintf("%q", dir)
	if !filepath.IsAbs(dir) {
		abs = filepath.Join(base, dir)
		what = fmt.Sprintf("%q (%s)", dir, abs)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s does not exist", what)
	case err != nil:
		return "", err
	case !fi.IsDir():
		return "", fmt.Errorf("%s is not a directory", what)
	}
	return abs, nil
}

// ParseGrace parses a misfire grace time: a duration of at least store.MinGrace,
// or "none" for no limit.
func ParseGrace(s string) (schedule.Grace, error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return schedule.NoGrace, nil
	}
	d, err := schedule.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w, or none", err)
	}
	if err := store.CheckGrace(schedule.Grace(d)); err != nil {
		return 0, err
	}
	return schedule.Grace(d), nil
}

// FormatGrace writes g as ParseGrace reads it.
func FormatGrace(g schedule.Grace) string {
	if g < 0 {
		return "none"
	}
	return schedule.FormatDuration(time.Duration(g))
}
