package cmd

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

func newSchedulerCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "scheduler pause|resume|status",
		Short: "Pause, resume or look at the whole scheduler",
		Long: `scheduler pause stops the scheduler from starting any job, from another
shell, until scheduler resume: the running jobs finish, and the pause is kept
in the database, so a restarted scheduler stays paused. On resume, the fire
times that passed meanwhile are dealt with as after downtime: coalesced, or
missed when later than their misfire grace. (To pause one job, see jobctl
pause.)`,
		Args: cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for \"jobctl scheduler\": want pause, resume or status", args[0])
			}
			return usagef("jobctl scheduler: want pause, resume or status")
		},
	}
	c.AddCommand(newSchedulerPauseCmd(f, true), newSchedulerPauseCmd(f, false), newSchedulerStatusCmd(f))
	return c
}

// schedulerPauseOptions are those of scheduler pause and scheduler resume.
type schedulerPauseOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	paused bool // pause, or resume
}

func newSchedulerPauseCmd(f *Factory, paused bool) *cobra.Command {
	o := &schedulerPauseOptions{io: f.IO, now: f.Now, db: f.DB, paused: paused}
	c := &cobra.Command{
		Use:   "pause",
		Short: "Pause the scheduler: no job starts until it is resumed",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return runSchedulerPause(c.Context(), o) },
	}
	if !paused {
		c.Use, c.Short = "resume", "Resume the paused scheduler"
	}
	return c
}

func runSchedulerPause(ctx context.Context, o *schedulerPauseOptions) error {
	var changed bool
	err := update(ctx, o.db, false, func(tx store.Tx) (err error) {
		changed, err = store.SetPaused(tx, o.paused, o.now())
		return err
	})
	if err != nil {
		return err
	}
	switch {
	case !changed && o.paused:
		fmt.Fprintln(o.io.Err, "the scheduler is already paused")
	case !changed:
		fmt.Fprintln(o.io.Err, "the scheduler is not paused")
	case o.paused:
		fmt.Fprintln(o.io.Err, "paused the scheduler: no job starts until jobctl scheduler resume; running jobs go on")
	default:
		fmt.Fprintln(o.io.Err, "resumed the scheduler")
	}
	return nil
}

// statusJSON is what scheduler status says.
type statusJSON struct {
	Running        bool           `json:"running"`          // a jobctl run holds the database file's lock, or a fleet's member a live lease
	PID            *int           `json:"pid"`              // its process id, when known (on a database file)
	Paused         bool           `json:"paused"`           // the whole scheduler is paused
	Jobs           map[string]int `json:"jobs"`             // by state: active, paused, finished, broken
	RunsInProgress int            `json:"runs_in_progress"` // runs recorded running
	NextRunTime    *string        `json:"next_run_time"`    // the earliest, or null
	NextJob        string         `json:"next_job,omitempty"`
	// StoreError is how the store of the running scheduler fails, while
	// it does (on a database file); else absent.
	StoreError *storeErrorJSON `json:"store_error,omitempty"`
	// Schedulers are the members of the fleet on a store that takes one
	// (PostgreSQL), [] when none; absent on a database file.
	Schedulers []view.Member `json:"schedulers,omitzero"`
}

// storeErrorJSON is how a running scheduler's store fails.
type storeErrorJSON struct {
	Since *string `json:"since"` // when it began to fail
	Last  *string `json:"last"`  // its last failure
	Error string  `json:"error"`
}

type schedulerStatusOptions struct {
	io  Streams
	now func() time.Time
	db  *database

	output string
}

func newSchedulerStatusCmd(f *Factory) *cobra.Command {
	o := &schedulerStatusOptions{io: f.IO, now: f.Now, db: f.DB}
	c := &cobra.Command{
		Use:   "status [-o table|json]",
		Short: "Show whether a scheduler runs, is paused, and what it does next",
		Long: `scheduler status shows whether a scheduler runs on the database, whether the
scheduler is paused, how many jobs and runs there are, and the next run. On a
database a fleet of schedulers shares (PostgreSQL), it lists each of them:
its host, pid and version, when it started, its last heartbeat, whether its
lease is live or expired (then the others take it for dead), and its runs in
progress. A scheduler runs while one of them holds a live lease.

While the database of a running scheduler fails, so that it can neither
plan nor record runs (its disk full, say), status shows since when, and the
last error. It writes nothing, and answers on a read-only file system.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runSchedulerStatus(c.Context(), o) },
	}
	addOutputFlag(c.Flags(), &o.output)
	return c
}

func runSchedulerStatus(ctx context.Context, o *schedulerStatusOptions) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	l, err := o.db.location()
	if err != nil {
		return err
	}
	var (
		st       statusJSON
		next     time.Time
		nextZone *time.Location
		fleet    fleetView
		failure  storeFailure
	)
	err = viewAt(ctx, l.open, func(tx store.Tx) error {
		st = statusJSON{Jobs: map[string]int{"active": 0, "paused": 0, "finished": 0, "broken": 0}}
		next, nextZone = time.Time{}, time.Local
		set, err := tx.Settings()
		if err != nil {
			return err
		}
		st.Paused = set.Paused
		err = tx.Jobs(func(j *store.Job) error {
			st.Jobs[view.State(j)]++
			return nil
		})
		if err != nil {
			return err
		}
		running, err := tx.RunningRuns()
		if err != nil {
			return err
		}
		st.RunsInProgress = len(running)
		if fleet, err = readFleet(tx); err != nil {
			return err
		}
		next, _, err = tx.NextRunTime()
		if err != nil || next.IsZero() {
			return err
		}
		if due, err := tx.Due(next, 1); err == nil && len(due) == 1 {
			st.NextJob, nextZone = due[0].ID, due[0].Location()
		}
		st.NextRunTime = view.Time(next, nextZone)
		return nil
	})
	if err != nil {
		return err
	}
	if fleet.on {
		st.Running = fleet.running()
		st.Schedulers = make([]view.Member, len(fleet.members))
		for i, m := range fleet.members {
			st.Schedulers[i] = view.NewMember(m, fleet.now, time.Local)
		}
	} else {
		var pid int
		if st.Running, pid, err = l.scheduler(); err != nil {
			return err
		}
		if pid != 0 {
			st.PID = &pid
		}
		if st.Running {
			// The note is a help, not the answer: status answers without it.
			if failure, err = l.storeFailure(); err != nil {
				fmt.Fprintf(o.io.Err, "warning: %v\n", err)
			}
			if failure.err != "" {
				st.StoreError = &storeErrorJSON{Since: view.Time(failure.since, time.Local), Last: view.Time(failure.at, time.Local), Error: failure.err}
			}
		}
	}
	if o.output == outputJSON {
		return writeJSON(o.io.Out, st)
	}
	running := "no"
	if st.Running {
		running = "yes"
		if st.PID != nil {
			running += fmt.Sprintf(" (pid %d)", *st.PID)
		}
	}
	nextRun := "-"
	if !next.IsZero() {
		nextRun = view.WhenRelative(next, o.now(), nextZone) + ", job " + st.NextJob
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-17s %s\n", "Running:", running)
	if failure.err != "" {
		fmt.Fprintf(&b, "%-17s failing since %s, last %s: %s\n", "Store error:",
			view.WhenRelative(failure.since, o.now(), time.Local), view.Relative(failure.at, o.now()), failure.err)
	}
	fmt.Fprintf(&b, "%-17s %v\n", "Paused:", st.Paused)
	fmt.Fprintf(&b, "%-17s %d active, %d paused, %d finished, %d broken\n", "Jobs:",
		st.Jobs["active"], st.Jobs["paused"], st.Jobs["finished"], st.Jobs["broken"])
	fmt.Fprintf(&b, "%-17s %d\n", "Runs in progress:", st.RunsInProgress)
	fmt.Fprintf(&b, "%-17s %s\n", "Next run:", nextRun)
	if fleet.on {
		b.WriteString("\nSchedulers:\n")
		if len(fleet.members) == 0 {
			b.WriteString("  none\n")
		}
	}
	if _, err := io.WriteString(o.io.Out, b.String()); err != nil || len(fleet.members) == 0 {
		return err
	}
	return writeFleet(o.io.Out, fleet.members, fleet.now)
}

// writeFleet writes the fleet's members as a table indented under
// "Schedulers:", their times relative to now, by the store's clock: the
// viewer's own may be off.
func writeFleet(w io.Writer, fleet []store.Member, now time.Time) error {
	t := &table{header: []string{"  ID", "HOST", "PID", "VERSION", "STARTED", "HEARTBEAT", "LEASE", "RUNS IN PROGRESS"}}
	for _, m := range fleet {
		t.add("  "+m.ID, m.Host, strconv.Itoa(m.PID), m.Version, view.WhenRelative(m.Started, now, time.Local),
			view.Relative(m.Heartbeat, now), view.LeaseState(m, now), strconv.Itoa(m.Running))
	}
	return t.write(w, useColor(w))
}
