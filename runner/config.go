package runner

import (
	"io"
	"log/slog"
	"time"

	"github.com/jobctl/jobctl/store"
)

// DefaultKillGrace is a Config's KillGrace unless set.
const DefaultKillGrace = 10 * time.Second

// DefaultShell runs a job's command: the command is its last argument.
var DefaultShell = []string{"/bin/sh", "-c"}

// Config is what a Scheduler runs and how.
type Config struct {
	Store store.Store
	Clock Clock // nil: RealClock
	// Executors are the worker pools by name, with their number of
	// workers; jobs run in them, commands and Funcs alike. The default
	// executor has store.DefaultMaxWorkers unless set here. A job naming
	// an executor that is not configured runs in a pool of
	// store.DefaultMaxWorkers of that name, with a warning.
	Executors map[string]int
	Shell     []string // nil: DefaultShell
	// Funcs are the Go functions jobs can run by name: a job whose
	// Command is FuncPrefix+NAME ("func:backup") runs Funcs[NAME] in
	// place of a shell command; one naming a function not here fails.
	Funcs     map[string]Func
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
	// Lease is how long a scheduler's lease lasts on a store shared by a
	// fleet (see fleet.go); 0: DefaultLease. Its runs in progress are
	// taken over by the others once it has not renewed it for that long.
	Lease time.Duration
	// Version is this jobctl's version, which a fleet's members show.
	Version string
	// ReapOrphans reaps the processes that jobs leave behind when they are
	// reparented to this process, as an init does: for a scheduler that is
	// PID 1 (a container's entry point). The jobs' own exit statuses are
	// never taken.
	ReapOrphans bool
	// StoreErrors, if set, is told of the store's failures, to show them
	// where the log is not read (jobctl scheduler status): each error of
	// the planning and of the recording of runs, and nil once both work
	// again. It is called from the scheduler's goroutines, one call at a
	// time, and must return quickly.
	StoreErrors func(err error)
	// Sendmail is the program the jobs' runs are mailed with (see
	// mail.go) when the store's settings name none: an absolute path, or
	// a name looked up on PATH. "": sendmail on PATH, else
	// store.DefaultSendmail.
	Sendmail string
	// FreeSpace, if set, says how many bytes are free where the store
	// writes (for a database file, statfs of its file system). While the
	// store fails for want of space (ENOSPC), it is asked every second,
	// and space freed brings the retry forward (see retry.go). It must not
	// write, and may be called from several goroutines at once.
	FreeSpace func() (uint64, error)
}
