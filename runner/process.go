package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/jobctl/jobctl/store"
)

// drainWait is how long the output pipe is read after every process of a
// run's group is gone, for a writer that left the group (a daemon that
// called setsid) but kept the pipe: the run does not wait for it longer.
const drainWait = 100 * time.Millisecond

// groupPoll is how often the group is looked at while its processes have
// the kill grace to end: the pipe's end cannot tell when the last of them
// is gone if a writer outside the group holds it.
const groupPoll = 50 * time.Millisecond

// escapedNote is the reason of a run whose pipe a writer outside its group
// still held when the drain was over (see drainWait), and what the log
// says of it.
const escapedNote = "a process that left the job's process group (setsid) kept its output open; it was left running"

// process is one command to run: the shell and its arguments, where, with
// what environment, for how long.
type process struct {
	argv      []string // the shell, its arguments, then the command
	dir       string
	env       []string // the whole environment
	timeout   time.Duration
	killGrace time.Duration
	clock     Clock
	children  *children // nil: no reaper to keep away
	// The output, stdout and stderr merged, goes to raw as it comes, and
	// to line a line at a time (see copyLines).
	raw  io.Writer
	line func([]byte)
	// started, if set, is called once the process has started, with the
	// time it did, or once starting it has failed (err).
	started func(at time.Time, err error)
}

// exit is how a process ended.
type exit struct {
	started, ended time.Time
	outcome        store.Outcome // Success, Failed, TimedOut or Interrupted
	code           *int
	signal         string
	reason         string
	escaped        bool // escapedNote is in reason
}

// run starts p in a process group of its own, streams its output and waits
// for it. When the timeout elapses, or ctx is done (the scheduler is
// shutting down without waiting, or a Stop ends the run: see stop.go), the
// whole group gets SIGTERM and, after the kill grace, SIGKILL (a Stop that
// kills: SIGKILL at once). When the command itself ends, whatever it left
// behind in its group is terminated the same way, so that a run leaves no
// process behind; and the pipe is read to its end, so that no output is
// lost, unless a process outside the group holds it (see drainWait).
func (p *process) run(ctx context.Context) exit {
	if p.dir != "" {
		// exec reports a missing directory as a missing shell.
		if _, err := os.Stat(p.dir); err != nil {
			now := p.clock.Now()
			return exit{started: now, ended: now, outcome: store.Failed, reason: fmt.Sprintf("cannot start: %v", err)}
		}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return exit{outcome: store.Failed, reason: fmt.Sprintf("cannot start: %v", err)}
	}
	cmd := &exec.Cmd{
		Path:        p.argv[0],
		Args:        p.argv,
		Dir:         p.dir,
		Env:         p.env,
		Stdout:      pw,
		Stderr:      pw,
		SysProcAttr: procAttr(),
	}
	e := exit{started: p.clock.Now()}
	reaped, err := p.children.start(cmd)
	if p.started != nil {
		p.started(e.started, err)
	}
	pw.Close() // the child has its copy; EOF comes when the last writer goes
	if err != nil {
		pr.Close()
		e.ended, e.outcome, e.reason = e.started, store.Failed, fmt.Sprintf("cannot start: %v", err)
		return e
	}
	pgid := cmd.Process.Pid
	read := make(chan struct{})
	go func() {
		defer close(read)
		copyLines(io.TeeReader(pr, p.raw), p.line)
	}()
	exited := make(chan struct{})
	go func() {
		waitExited(cmd)
		close(exited)
	}()

	var timeout <-chan time.Time
	if p.timeout > 0 {
		t := p.clock.NewTimer(p.timeout)
		defer t.Stop()
		timeout = t.C()
	}
	select {
	case <-exited:
	case <-timeout:
		e.outcome, e.reason = store.TimedOut, "timed out after "+p.timeout.String()
		p.terminate(pgid, exited)
	case <-ctx.Done():
		stop, ok := stopped(ctx)
		switch {
		case !ok:
			e.outcome, e.reason = store.Interrupted, "terminated: the scheduler shut down"
			p.terminate(pgid, exited)
		case stop.Kill:
			e.outcome, e.reason = store.Cancelled, stop.Reason
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-exited
		default:
			e.outcome, e.reason = store.Cancelled, stop.Reason
			p.terminate(pgid, exited)
		}
	}
	e.ended = p.clock.Now()
	// The leader has exited but is not reaped yet, so its process group id
	// cannot have been reused: what is left of the group goes too. The
	// unreaped leader is in the group, so a signal to it succeeds even
	// when nothing else is: waitGroup asks groupLive, which tells, but
	// only if the pipe does not end first, as it does at once unless a
	// process holds it (groupLive reads all of /proc).
	if !p.wait(read, 0) && syscall.Kill(-pgid, syscall.SIGTERM) == nil && !p.waitGroup(read, pgid) {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	if !p.wait(read, drainWait) {
		// A writer outside the group holds the pipe: stop reading, so that
		// nothing it writes from now on is taken for the run's.
		e.escaped = true
		pr.Close()
		<-read
	}
	pr.Close()
	cmd.Wait() // reaps the leader; the status is in cmd.ProcessState
	reaped()

	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		e.signal = unix.SignalName(ws.Signal())
	default:
		code := ws.ExitStatus()
		e.code = &code
	}
	switch {
	case e.outcome != "":
	case e.signal != "":
		e.outcome, e.reason = store.Failed, "killed by "+e.signal
	case *e.code != 0:
		e.outcome, e.reason = store.Failed, fmt.Sprintf("exit status %d", *e.code)
	default:
		e.outcome = store.Success
	}
	if e.escaped {
		// A note: the outcome stays what the command's own end says.
		if e.reason != "" {
			e.reason += "; "
		}
		e.reason += escapedNote
	}
	return e
}

// terminate sends SIGTERM to the group and SIGKILL after the kill grace if
// the leader has not exited by then, and waits for it to exit.
func (p *process) terminate(pgid int, exited <-chan struct{}) {
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err == nil && !p.wait(exited, p.killGrace) {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	<-exited
}

// waitGroup reports whether, within the kill grace, the pipe reaches its
// end (done is closed) or no process of group pgid is left alive. The group
// is looked at every groupPoll of real time: a sweep, not a schedule.
func (p *process) waitGroup(done <-chan struct{}, pgid int) bool {
	t := p.clock.NewTimer(p.killGrace)
	defer t.Stop()
	poll := time.NewTicker(groupPoll)
	defer poll.Stop()
	for {
		select {
		case <-done:
			return true
		case <-t.C():
			return false
		case <-poll.C:
			if !groupLive(pgid) {
				return true
			}
		}
	}
}

// wait reports whether ch is closed within d of elapsed time.
func (p *process) wait(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	default:
		if d <= 0 {
			return false
		}
	}
	t := p.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C():
		return false
	}
}
