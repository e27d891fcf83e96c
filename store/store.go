// Package store is the home of jobctl's domain: the Job, its Options and
// its life (NewJob, SetTrigger, Pause, Resume, RunNow), the Run and its
// Outcome, the scheduler-wide Settings, the event names, and the contract
// every store engine keeps: the Store and Tx interfaces and their errors.
//
// The engines are packages of their own: store/bolt (a local file, shared
// by the CLI and a running scheduler) and store/memory (the same engine on
// a file no one else can reach). store/storetest is the conformance suite
// each of them runs, so that they cannot drift apart.
//
// A store knows nothing of processes: it records what the scheduler decided
// and answers "what is due, and when is the next one".
//
// # What every engine guarantees
//
//   - Due and NextRunTime cost O(log n + due): an engine keeps an index of
//     the active jobs by NextRun, and reads only what it returns.
//   - A job that cannot be decoded, or whose trigger no longer parses, is
//     returned with Broken set and is never rewritten by PutJob; Due
//     reports it and, in an Update, drops it from the index, so it is not
//     scheduled.
//   - AddRun numbers a job's runs from 1, after any RestoreRun gave it;
//     AddRun, PutRun and RestoreRun keep its newest HistoryLimit finished
//     runs (default 100) and every run in progress.
//   - PutPeriod keeps the newest PeriodLimit periods of each kind.
//   - The journal keeps the latest JournalLimit changes; a reader that
//     finds a gap after the seq it last saw has missed some.
//   - An Update is atomic: all of fn's writes or none. One that writes
//     nothing commits nothing and signals no watcher.
package store

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"time"

	"github.com/jobctl/jobctl/schedule"
)

// Errors callers tell apart with errors.Is.
var (
	ErrClosed   = errors.New("store is closed")
	ErrNotFound = errors.New("no such job")
	ErrExists   = errors.New("already exists") // a job, or a run (RestoreRun)
	ErrBusy     = errors.New("database is busy")
	// ErrDuplicateRun is AddRun or RestoreRun refusing a second run of one
	// job, fire time and attempt (see AddRun).
	ErrDuplicateRun = errors.New("a run of that fire time and attempt is recorded already")
)

// State is where a job is in its life.
type State string

const (
	Active   State = "active"   // in the index, fires at NextRun
	Paused   State = "paused"   // kept, not in the index
	Finished State = "finished" // its trigger has no more fire times; history stays
)

// Valid reports whether s is one of the states above.
func (s State) Valid() bool { return s == Active || s == Paused || s == Finished }

// Options are how a job runs. They are stored resolved: defaults are filled
// in by whoever creates the job.
type Options struct {
	MisfireGrace schedule.Grace `json:"misfire_grace"`
	Coalesce     bool           `json:"coalesce"`
	MaxInstances int            `json:"max_instances"`
	Executor     string         `json:"executor"`
	Timeout      time.Duration  `json:"timeout,omitempty"` // 0: none
	Jitter       time.Duration  `json:"jitter,omitempty"`
	Dir          string         `json:"dir,omitempty"`
	Env          []string       `json:"env,omitempty"` // KEY=VALUE
	// Recover re-runs a fire time, as a new attempt, when the scheduler
	// running it dies mid-run: a survivor sharing the store marks the run
	// interrupted and runs it again (Quartz's requestsRecovery). A store
	// only one scheduler uses has no survivor, so it does nothing there.
	Recover bool `json:"recover,omitempty"`
	// Retry tries a failed or timed-out run again for the same fire time.
	Retry schedule.Retry `json:"retry,omitzero"`
	// Overlap is what a fire time does when max instances already run.
	Overlap Overlap `json:"overlap,omitempty"`
	// MailTo is where a run's output is mailed, as cron's MAILTO: addresses
	// separated by commas, "" for no mail; nil is the scheduler's
	// (Settings.MailTo). MailOn says which runs (see mail.go).
	MailTo *string `json:"mailto,omitempty"`
	MailOn MailOn  `json:"mail_on,omitempty"`
	// Ping is a run monitor's URL (healthchecks.io conventions): each run
	// is pinged there as it starts and ends (see runner/ping.go); "": none.
	Ping string `json:"ping,omitempty"`
}

// Equal reports whether o and p say the same, comparing every field,
// whatever fields Options gains; a nil and an empty Env alike.
func (o Options) Equal(p Options) bool {
	envO, envP := o.Env, p.Env
	o.Env, p.Env = nil, nil
	return reflect.DeepEqual(o, p) && slices.Equal(envO, envP)
}

// Job is a command and the trigger that decides when it runs.
type Job struct {
	ID      string        `json:"id"`
	Name    string        `json:"name,omitempty"`
	Command string        `json:"command"` // run by the shell
	Trigger schedule.Spec `json:"trigger"` // as the user wrote it
	// Anchor is the instant the trigger was set; relative parts of the Spec
	// ("now", an interval without a start) are read against it, so re-parsing
	// a stored job gives the same fire times.
	Anchor  time.Time `json:"anchor"`
	Options Options   `json:"options"`
	State   State     `json:"state"`
	NextRun time.Time `json:"next_run,omitzero"` // zero unless Active
	// NextFire is the trigger's next fire time, which NextRun is no later
	// than: Wake brings NextRun forward, for a run requested, a retry or a
	// buffered fire time, and the planner plans the trigger's fire times
	// from here. Zero when the trigger has none left, or in a job stored
	// before jobctl kept it (see NextFireTime).
	NextFire time.Time `json:"next_fire,omitzero"`
	// Requested is when jobctl run-now asked for a run that has not been
	// made yet: it runs however late (NextRun is then no later).
	Requested time.Time `json:"requested,omitzero"`
	// Retry is the next attempt at a fire time whose run failed: it runs
	// at Retry.At (NextRun is then no later), and counts meanwhile as an
	// instance of the job, against max instances.
	Retry *PendingRetry `json:"retry,omitempty"`
	// Buffered are the fire times that came while max instances ran and
	// wait, oldest first, for one of them to end (see Overlap).
	Buffered []Waiting `json:"buffered,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`

	// PausedAt is when the job was paused, while it is: the fire times
	// from then until it is resumed are passed over (see ResumePaused).
	PausedAt time.Time `json:"paused_at,omitzero"`

	// Broken is why a stored job could not be decoded or its trigger parsed.
	// A broken job is kept, listed and never scheduled.
	Broken string `json:"-"`
}

// Outcome is what became of a run.
type Outcome string

const (
	Running     Outcome = "running"
	Success     Outcome = "success"
	Failed      Outcome = "failed"
	TimedOut    Outcome = "timeout"
	Missed      Outcome = "missed"      // later than its misfire grace; not run
	Skipped     Outcome = "skipped"     // max instances already running; not run
	Interrupted Outcome = "interrupted" // its scheduler died while it ran
	Cancelled   Outcome = "cancelled"   // ended by a later fire time (overlap cancel_other, terminate_other)
)

// Valid reports whether o is one of the outcomes above.
func (o Outcome) Valid() bool {
	switch o {
	case Running, Success, Failed, TimedOut, Missed, Skipped, Interrupted, Cancelled:
		return true
	}
	return false
}

// Run is one fire time of a job (with the earlier ones coalesced into it) and
// what became of it. Every scheduler decision leaves a Run, including the
// runs it did not make.
type Run struct {
	JobID     string    `json:"job_id"`
	Seq       uint64    `json:"seq"` // per job, from 1, assigned by AddRun (kept by RestoreRun)
	FireTime  time.Time `json:"fire_time"`
	Coalesced int       `json:"coalesced,omitempty"` // earlier fire times folded into this one
	Requested bool      `json:"requested,omitempty"` // asked for by jobctl run-now: never missed
	Submitted time.Time `json:"submitted"`           // when the scheduler decided
	Started   time.Time `json:"started,omitzero"`
	Ended     time.Time `json:"ended,omitzero"`
	Outcome   Outcome   `json:"outcome"`
	ExitCode  *int      `json:"exit_code,omitempty"`
	Signal    string    `json:"signal,omitempty"`
	Reason    string    `json:"reason,omitempty"` // why it was missed, skipped, failed
	Output    string    `json:"output,omitempty"` // the last 64 KiB
	Owner     string    `json:"owner,omitempty"`  // the scheduler that claimed it
	// Attempt counts the runs of one fire time: a job that recovers gets a
	// new run, its Attempt one more, when its scheduler dies mid-run. 0
	// (every record written before attempts were counted) and 1 both mean
	// the first; read it with AttemptNumber.
	Attempt int `json:"attempt,omitempty"`
	// RetryAt, on a failed run, is when the next attempt runs (see
	// Options.Retry); zero when none does.
	RetryAt time.Time `json:"retry_at,omitzero"`
	// Buffered is when the run's fire time came and found max instances
	// running, when it waited for one to end (see Overlap).
	Buffered time.Time `json:"buffered,omitzero"`
	// Stop, on a running run, asks the scheduler running it to end it.
	Stop *Stop `json:"stop,omitempty"`
}

// Stop is a request to end a running run, made by a later fire time of
// its job (overlap cancel_other or terminate_other), perhaps on another
// scheduler of a fleet.
type Stop struct {
	FireTime time.Time `json:"fire_time"`        // the fire time that asked
	Kill     bool      `json:"kill,omitempty"`   // SIGKILL at once, not SIGTERM and the kill grace
	Reason   string    `json:"reason,omitempty"` // what the stopped run's record is to say
}

// RunKey names a run: its job and its seq.
type RunKey struct {
	JobID string
	Seq   uint64
}

// AttemptNumber is which attempt at its fire time r is, from 1.
func (r *Run) AttemptNumber() int { return max(r.Attempt, 1) }

// Store is a transactional home for jobs and their history. A Store is safe
// for concurrent use by several goroutines; the bbolt Store is also shared
// safely with other processes.
//
// View and Update may call fn more than once (an engine may retry a
// transaction that conflicted with another, as a SQL engine does on a
// serialization failure), so fn must not have effects outside the Tx: it
// collects what it found in variables it resets at its start, and acts on
// them after the transaction has returned.
type Store interface {
	// View runs fn in a read-only transaction. ctx bounds the wait for the
	// store (a lock, a connection); once fn runs it runs to its end.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committed when fn returns
	// nil and rolled back (nothing written) when it returns an error.
	Update(ctx context.Context, fn func(Tx) error) error
	// Watch returns a channel that is a hint to look again: it signals,
	// within a second, after commits that changed something, whoever made
	// them (the caller's own included), and may signal when nothing
	// changed. Signals coalesce: one pending signal stands for any number
	// of commits. The channel closes when ctx is done or the Store is
	// closed.
	Watch(ctx context.Context) (<-chan struct{}, error)
	Close() error
}

// Tx is a transaction. Jobs it returns are copies owned by the caller.
type Tx interface {
	Job(id string) (*Job, error) // ErrNotFound
	// Jobs calls fn for every job, broken ones included, in id order.
	Jobs(fn func(*Job) error) error
	// PutJob inserts or replaces a job and keeps the run-time index in step
	// with its State and NextRun.
	PutJob(j *Job) error
	// DeleteJob removes a job and its history; ErrNotFound if absent.
	DeleteJob(id string) error

	// Due returns the active jobs whose NextRun is at or before now, earliest
	// first (ties by id), at most limit of them (limit <= 0: all); its cost
	// does not grow with the number of jobs that are not due. Broken jobs
	// among them are returned with Broken set, for the caller to report and
	// not run; in an Update they leave the index.
	Due(now time.Time, limit int) ([]*Job, error)
	// NextRunTime is the earliest NextRun of any active job (ok false: none).
	NextRunTime() (t time.Time, ok bool, err error)

	// AddRun records a new run, assigning r.Seq, and drops the job's oldest
	// finished runs beyond the history limit; runs in progress are kept.
	// ErrNotFound if the job does not exist. An engine shared by several
	// schedulers refuses a second run of the same job, fire time and
	// attempt, so that no two can claim one fire time: ErrDuplicateRun,
	// after which the transaction goes on.
	AddRun(r *Run) error
	// PutRun replaces the run r.JobID/r.Seq, whose Submitted time stays
	// as AddRun recorded it (the runs of all jobs are ordered by it); a
	// run it finishes counts against the history limit at once.
	PutRun(r *Run) error
	// RestoreRun records r as it is, its Seq included, for copying history
	// between stores: it assigns nothing, and r.Submitted places the run
	// among the runs of all jobs as AddRun's would. Runs may be restored in
	// any order, into a job with runs of its own. The history limit applies
	// as in AddRun, by seq: a finished run whose seq is below those of the
	// job's newest HistoryLimit finished runs is dropped at once. Later
	// AddRuns of the job number after the highest seq AddRun gave it or
	// RestoreRun restored (until DeleteJob, after which a job of that id
	// starts from 1 again). ErrExists if the job already has a run of that
	// seq (which is left as it is), ErrNotFound if there is no such job; a
	// Seq of 0 or an unknown Outcome is an error. An engine that refuses a
	// second run of one fire time and attempt in AddRun refuses it here
	// too, with ErrDuplicateRun, though another store (bbolt) may hold
	// such pairs: fire times compared as that engine keeps them
	// (PostgreSQL: to the microsecond).
	RestoreRun(r *Run) error
	// Runs returns up to n runs (n <= 0: all), newest first, of one job
	// (by seq; ErrNotFound if there is no such job) or, with jobID "", of
	// all jobs (by Submitted time).
	Runs(jobID string, n int) ([]*Run, error)
	// RunKeys returns which runs Runs("", n) would return, in its order,
	// without reading them: for a reader that looks for the runs it has not
	// seen, at a cost that does not grow with their output.
	RunKeys(n int) ([]RunKey, error)
	// Run returns one run; ErrNotFound if absent.
	Run(jobID string, seq uint64) (*Run, error)
	// RunningRuns returns every run whose outcome is Running.
	RunningRuns() ([]*Run, error)

	// RecordChange appends c to the journal of changes (assigning c.Seq), so
	// a running scheduler learns what another command did. The journal keeps
	// the most recent entries only.
	RecordChange(c Change) error
	// ChangesSince returns the journal entries after seq, oldest first.
	ChangesSince(seq uint64) ([]Change, error)

	// Settings are scheduler-wide.
	Settings() (Settings, error)
	PutSettings(Settings) error

	// PutPeriod records p (see Period), replacing the period of the same
	// Kind, Start and Scheduler (Start compared as the engine keeps times:
	// PostgreSQL to the microsecond), and drops the oldest periods of its
	// kind beyond PeriodLimit, by Start. A Period that fails Check is an
	// error.
	PutPeriod(p Period) error
	// Periods returns the kept periods of one kind, newest (by Start)
	// first.
	Periods(kind PeriodKind) ([]Period, error)
}

// ChangeKind names a change to a job or to the scheduler, with the names of
// the events a running scheduler emits for it.
type ChangeKind string

const (
	JobAdded         ChangeKind = EventJobAdded
	JobModified      ChangeKind = EventJobModified // options, trigger, pause, resume, run-now
	JobRemoved       ChangeKind = EventJobRemoved
	SchedulerPaused  ChangeKind = EventSchedulerPaused
	SchedulerResumed ChangeKind = EventSchedulerResumed
	// StopRun is no event: it tells the scheduler running run Run of the
	// job that its Stop is set (see Run.Stop).
	StopRun ChangeKind = "stop_run"
)

// Change is one entry of the journal: who changed what, and when.
type Change struct {
	Seq   uint64     `json:"seq"`
	Time  time.Time  `json:"time"`
	Kind  ChangeKind `json:"kind"`
	JobID string     `json:"job_id,omitempty"`
	Run   uint64     `json:"run,omitempty"` // StopRun's
}

// Settings are the scheduler-wide state kept with the jobs.
type Settings struct {
	Paused       bool `json:"paused"`        // the whole scheduler is paused
	HistoryLimit int  `json:"history_limit"` // finished runs kept per job; see KeptRuns
	// Executors and Listeners are those of the jobfile applied last (its
	// [executors] and [[listener]] tables), for a scheduler started
	// without one; by name, and in file order.
	Executors []Executor `json:"executors,omitempty"`
	Listeners []Listener `json:"listeners,omitempty"`
	// MailTo is where the runs of the jobs that set no mailto of their own
	// are mailed ("": nowhere), and Sendmail the program that sends them
	// ("": sendmail on the scheduler's PATH, else /usr/sbin/sendmail): the
	// jobfile's [scheduler] mailto and sendmail, kept here so that every
	// scheduler of a store mails alike, with or without the jobfile.
	MailTo   string `json:"mailto,omitempty"`
	Sendmail string `json:"sendmail,omitempty"`
	// Ping is a run monitor's URL that every scheduler of the store pings
	// each PingEvery while it runs, as a heartbeat ("": none): the
	// jobfile's [scheduler] ping and ping_every (0: DefaultPingEvery).
	Ping      string        `json:"ping,omitempty"`
	PingEvery time.Duration `json:"ping_every,omitempty"`
}

// Executor is a named pool of workers that jobs run in.
type Executor struct {
	Name       string `json:"name"`
	MaxWorkers int    `json:"max_workers"`
}

// Listener is a command the scheduler runs on the events it names.
type Listener struct {
	Events  []string `json:"events"`
	Command string   `json:"command"`
}

// JournalLimit is how many changes the journal keeps: far more than a
// running scheduler, woken within a second of each commit, falls behind.
const JournalLimit = 1000

// DefaultHistoryLimit is how many runs per job are kept unless configured.
const DefaultHistoryLimit = 100

// KeptRuns is how many finished runs per job s keeps: its HistoryLimit, or
// DefaultHistoryLimit when that is 0.
func (s Settings) KeptRuns() int {
	if s.HistoryLimit <= 0 {
		return DefaultHistoryLimit
	}
	return s.HistoryLimit
}

// ParseTrigger parses the job's trigger in its zone, against the job's
// Anchor; a job stored without a zone (by an older jobctl) is read in the
// local zone.
func (j *Job) ParseTrigger() (schedule.Trigger, error) {
	return j.Trigger.Parse(time.Local, j.Anchor)
}
