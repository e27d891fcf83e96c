// Package jobfile reads and writes jobfiles: TOML files that describe
// scheduler settings and jobs, the declarative way to fill a store.
//
//	[scheduler]                      # optional
//	timezone = "Europe/Berlin"       # zone of triggers that name none
//	history_limit = 200              # finished runs kept per job
//
//	[job_defaults]                   # optional; override the built-in defaults
//	coalesce = true                  # default true
//	max_instances = 1                # default 1
//	misfire_grace_time = "1m"        # a duration, an integer of seconds, or "none"
//
//	[executors.slow]                 # a named pool; "default" always exists
//	max_workers = 2
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
// strings) and paused. Unknown keys are errors.
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
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	Listeners []Listener
	Jobs      []Job // in file order
}

// Scheduler holds the [scheduler] table.
type Scheduler struct {
	Timezone     string // IANA name; every job's trigger that names no zone gets it
	HistoryLimit int    // 0: not set
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
}

// Events are the names of the scheduler events a listener can take, as
// APScheduler 3.x names them (EVENT_JOB_MISSED is job_missed).
var Events = []string{
	"scheduler_started", "scheduler_shutdown", "scheduler_paused", "scheduler_resumed",
	"job_added", "job_removed", "job_modified",
	"job_submitted", "job_executed", "job_error", "job_missed", "job_max_instances",
}

// DefaultExecutor is the pool jobs run in unless they name another.
const DefaultExecutor = "default"

// DefaultOptions are the options of a job that sets none: coalesce on and
// one instance at a time as in APScheduler 3.x, and one minute of misfire
// grace (APScheduler's one second drops runs under ordinary load).
func DefaultOptions() store.Options {
	return store.Options{
		MisfireGrace: schedule.Grace(time.Minute),
		Coalesce:     true,
		MaxInstances: 1,
		Executor:     DefaultExecutor,
	}
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

// MaxIDLen bounds ids, in bytes: they are typed, printed in tables and used
// as keys.
const MaxIDLen = 64

// CheckID reports whether id can name a job or an executor: 1 to 64 bytes
// of UTF-8, printable characters with no whitespace or slash, not starting
// with "-" (it would read as a flag).
func CheckID(id string) error { return checkIdent("id", id) }

// checkIdent checks an id or an executor's name; what names it in errors.
func checkIdent(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty %s", what)
	case len(name) > MaxIDLen:
		return fmt.Errorf("%s %q is longer than %d bytes", what, name, MaxIDLen)
	case strings.HasPrefix(name, "-"):
		return fmt.Errorf("%s %q starts with '-'", what, name)
	case !utf8.ValidString(name):
		// Ranging over it would read each bad byte as U+FFFD, a printable
		// character; stored, the id could be neither typed nor exported.
		return fmt.Errorf("%s %q is not valid UTF-8", what, name)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || r == '/' || !unicode.IsPrint(r) {
			return fmt.Errorf("%s %q contains %q (want no whitespace, slash or control characters)", what, name, r)
		}
	}
	return nil
}

// CheckName reports whether name can be a job's name: any text for people,
// spaces included, but UTF-8 with no control characters or line breaks. A
// newline or an escape sequence in a name would break the lines of every
// table that shows it, or drive the terminal showing it.
func CheckName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("name %q is not valid UTF-8", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("name %q contains %q (want no control characters or line breaks)", name, r)
		}
	}
	return nil
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

// MinGrace is the shortest misfire grace time. A process starts some
// milliseconds after its fire time, so a shorter grace would have every run
// missed; APScheduler refuses less than a second too.
const MinGrace = schedule.Grace(time.Second)

// ParseGrace parses a misfire grace time: a duration of at least MinGrace,
// or "none" for no limit.
func ParseGrace(s string) (schedule.Grace, error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return schedule.NoGrace, nil
	}
	d, err := schedule.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w, or none", err)
	}
	if err := checkGrace(schedule.Grace(d)); err != nil {
		return 0, err
	}
	return schedule.Grace(d), nil
}

// checkGrace refuses a grace time below MinGrace (none is NoGrace).
func checkGrace(g schedule.Grace) error {
	if g != schedule.NoGrace && g < MinGrace {
		return fmt.Errorf("%s is less than %s: every run would be missed, as no process starts exactly on time (want at least %s, or none)",
			schedule.FormatDuration(time.Duration(g)), schedule.FormatDuration(time.Duration(MinGrace)), schedule.FormatDuration(time.Duration(MinGrace)))
	}
	return nil
}

// FormatGrace writes g as ParseGrace reads it.
func FormatGrace(g schedule.Grace) string {
	if g < 0 {
		return "none"
	}
	return schedule.FormatDuration(time.Duration(g))
}

var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckEnv reports whether kv is a valid KEY=VALUE environment entry.
func CheckEnv(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	switch {
	case !ok:
		return fmt.Errorf("%q is not KEY=VALUE", kv)
	case !envKey.MatchString(k):
		return fmt.Errorf("%q: %q is not a variable name (letters, digits and _, not starting with a digit)", kv, k)
	case strings.ContainsRune(v, 0):
		return fmt.Errorf("%q: the value contains a NUL byte", kv)
	}
	return nil
}

// CheckOptions reports the first invalid option, naming it as the jobfile
// does.
func CheckOptions(o store.Options) error {
	if err := checkGrace(o.MisfireGrace); err != nil {
		return fmt.Errorf("misfire_grace_time: %w", err)
	}
	switch {
	case o.MaxInstances < 1:
		return fmt.Errorf("max_instances: %d is less than 1", o.MaxInstances)
	case o.Timeout < 0:
		return fmt.Errorf("timeout: %s is negative", o.Timeout)
	case o.Jitter < 0:
		return fmt.Errorf("jitter: %s is negative", o.Jitter)
	}
	if err := checkIdent("executor name", o.Executor); err != nil {
		return err
	}
	for _, kv := range o.Env {
		if err := CheckEnv(kv); err != nil {
			return fmt.Errorf("env: %w", err)
		}
	}
	return nil
}
