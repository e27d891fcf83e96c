package runner

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jobctl/jobctl/store"
)

// runOne runs one fire time of inst's job, its shell command or its Func,
// fills in r, and returns the event to emit once r is recorded.
func (s *Scheduler) runOne(inst *instance, r *store.Run, ctx context.Context) Event {
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
	// Logged once the run has started: the log's write is not on the way
	// to it.
	started := func(at time.Time, err error) {
		s.launched(inst)
		if err == nil {
			s.log.Info("run started", "job", j.ID, "run", r.Seq, "fire_time", r.FireTime, "late", at.Sub(r.FireTime).Round(time.Millisecond))
			begun := *r
			begun.Started = at
			s.emit(Event{Name: store.EventJobStarted, Time: at, JobID: j.ID, Run: &begun})
			s.pings.started(j.Options.Ping, &begun)
		}
	}
	var e exit
	if name, ok := strings.CutPrefix(j.Command, FuncPrefix); ok {
		e = s.call(ctx, name, inst, r, raw, line, started)
	} else {
		env := make([]string, 0, len(s.cfg.Environ)+len(j.Options.Env)+3)
		env = append(append(env, s.cfg.Environ...), j.Options.Env...)
		env = append(append(env, runEnv(r)...), runVars(r)...)
		e = s.exec(&process{
			argv:      append(slices.Clone(s.cfg.Shell), j.Command),
			dir:       j.Options.Dir,
			env:       env,
			timeout:   j.Options.Timeout,
			killGrace: s.cfg.KillGrace,
			clock:     s.clock,
			children:  s.children,
			raw:       raw,
			line:      line,
			started:   started,
		}, ctx)
	}
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
	if e.escaped {
		s.log.Warn(escapedNote, "job", j.ID, "run", r.Seq)
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

// runVars are what a run's command and the listeners of its events alike
// are told of it beyond its ids: the fire time it is for and which attempt
// at that fire time it is.
func runVars(r *store.Run) []string {
	return []string{
		"JOBCTL_FIRE_TIME=" + r.FireTime.Format(time.RFC3339),
		"JOBCTL_ATTEMPT=" + strconv.Itoa(r.AttemptNumber()),
	}
}
