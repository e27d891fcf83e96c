package runner

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jobctl/jobctl/runner/ping"
	"github.com/jobctl/jobctl/store"
)

// Run monitors (package ping): a job with a Ping URL has each run pinged
// there as its process starts (/start) and as it ends: /0 for a success,
// /EXIT_CODE for a failure with an exit code, /fail for any other end (a
// timeout, a signal, a run interrupted, cancelled or missed), and /log
// for a failed attempt whose retry is pending, so that only the last
// attempt's failure turns the check down, as with mail. A run skipped
// (another instance of the job runs, and pings) sends nothing. Every ping
// of a run carries the run's rid (ping.RunID), so that the monitor pairs
// its start and end, whichever scheduler of a fleet sends them.
//
// The store's Settings.Ping is the scheduler's own check, pinged every
// PingEvery while the scheduler runs: the check URL itself while the
// store answers, /fail with the store's error while it fails. Every
// scheduler of a fleet pings it.

// pinger builds the pings and hands them to its sender. beat is written by
// the loop (configure) and read by the heartbeat's goroutine.
type pinger struct {
	s      *Scheduler
	sender *ping.Sender
	beat   atomic.Pointer[beatSettings]
	// changed wakes the heartbeat when beat changes.
	changed chan struct{}
	// Set by startBeat (Start), read by close (Shutdown), which follows.
	stop context.CancelFunc // ends the heartbeat; nil before start
	done chan struct{}      // closed when the heartbeat returns
}

// beatSettings are the store's Settings.Ping and its period.
type beatSettings struct {
	url   string
	every time.Duration
}

func newPinger(s *Scheduler) *pinger {
	p := &pinger{s: s, changed: make(chan struct{}, 1)}
	agent := "jobctl"
	if s.cfg.Version != "" {
		agent += "/" + s.cfg.Version
	}
	p.sender = ping.New(ping.Config{Logger: s.log, UserAgent: agent})
	p.beat.Store(&beatSettings{})
	return p
}

// configure takes the store's settings, at each planning.
func (p *pinger) configure(set store.Settings) {
	b := beatSettings{url: set.Ping, every: set.PingPeriod()}
	if *p.beat.Load() != b {
		p.beat.Store(&b)
		select {
		case p.changed <- struct{}{}:
		default:
		}
	}
}

// started pings the start of run r of a job pinging url, whose process
// has started.
func (p *pinger) started(url string, r *store.Run) {
	if url != "" {
		p.send(url, ping.Start, r, "")
	}
}

// ended pings the end of run r of a job pinging url: r has its outcome,
// and its RetryAt if another attempt follows.
func (p *pinger) ended(url string, r *store.Run) {
	if signal, body, ok := endPing(r); ok && url != "" {
		p.send(url, signal, r, body)
	}
}

// endPing is the signal and body that ping the end of run r, and whether
// its end is pinged at all (a skipped run's is not). The body is the
// run's output, then a line saying how a run that did not succeed ended,
// cut to its last ping.MaxBody bytes.
func endPing(r *store.Run) (signal, body string, ok bool) {
	var note string
	switch {
	case r.Outcome == store.Skipped || r.Outcome == store.Running:
		return "", "", false
	case !r.RetryAt.IsZero():
		signal = ping.Log
		note = fmt.Sprintf("jobctl: attempt %d of run %d of %s %s; attempt %d runs at %s",
			r.AttemptNumber(), r.Seq, r.JobID, endedAs(r), r.AttemptNumber()+1, r.RetryAt.Format(time.RFC3339))
	case r.Outcome == store.Success:
		signal = "0"
	case r.Outcome == store.Failed && r.ExitCode != nil && *r.ExitCode != 0:
		signal = strconv.Itoa(*r.ExitCode)
		note = fmt.Sprintf("jobctl: run %d of %s %s", r.Seq, r.JobID, endedAs(r))
	default:
		signal = ping.Fail
		note = fmt.Sprintf("jobctl: run %d of %s %s", r.Seq, r.JobID, endedAs(r))
	}
	body = r.Output
	if note != "" {
		if body != "" && !strings.HasSuffix(body, "\n") {
			body += "\n"
		}
		body += note + "\n"
	}
	return signal, ping.Body(body), true
}

// pingOf adds to pings, read in tx, the Ping of run r's job, if it has
// one: for a run that another scheduler started, and this one ends (a dead
// scheduler's, recorded interrupted). A job removed since has none.
func pingOf(tx store.Tx, r *store.Run, pings map[*store.Run]string) (map[*store.Run]string, error) {
	j, err := tx.Job(r.JobID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return pings, nil
	case err != nil:
		return pings, err
	case j.Options.Ping == "":
		return pings, nil
	}
	if pings == nil {
		pings = map[*store.Run]string{}
	}
	pings[r] = j.Options.Ping
	return pings, nil
}

// endedAs says how r ended, for a ping's body: its outcome, and why.
func endedAs(r *store.Run) string {
	what := string(r.Outcome)
	switch {
	case r.ExitCode != nil:
		what += fmt.Sprintf(" (exit code %d)", *r.ExitCode)
	case r.Signal != "":
		what += " (" + r.Signal + ")"
	}
	if r.Reason != "" {
		what += ": " + r.Reason
	}
	return what
}

func (p *pinger) send(url, signal string, r *store.Run, body string) {
	to, err := ping.Endpoint(url, signal, ping.RunID(r.JobID, r.Seq))
	if err != nil { // checked as it was stored: a store written by hand
		p.s.log.Warn("ping not sent: bad URL", "job", r.JobID, "run", r.Seq, "url", url, "err", err)
		return
	}
	p.sender.Send(ping.Ping{URL: to, Body: body, Key: r.JobID, Job: r.JobID, Run: r.Seq})
}

// startBeat starts the heartbeat, once the first planning has read the
// settings.
func (p *pinger) startBeat() {
	var ctx context.Context
	ctx, p.stop = context.WithCancel(context.Background())
	p.done = make(chan struct{})
	select { // the settings it starts with are news no more
	case <-p.changed:
	default:
	}
	go p.heartbeat(ctx)
}

// heartbeat pings the scheduler's check at once, then every period, and
// at once again when the check or its period changes. The period is
// counted on the wall clock (an Alarm, not a Timer), as the monitor
// counts it: a clock set forward past a ping's instant pings then.
func (p *pinger) heartbeat(ctx context.Context) {
	defer close(p.done)
	alarm := p.s.clock.NewAlarm()
	defer alarm.Close()
	for {
		var next time.Time // zero: no check, no alarm
		if b := p.beat.Load(); b.url != "" {
			next = p.s.clock.Now().Add(b.every)
			p.pulse(b.url)
		}
		alarm.Set(next)
		select {
		case <-ctx.Done():
			return
		case <-p.changed:
		case <-alarm.C():
		}
	}
}

// pulse pings url once: alive, or failing with the store's error. It
// beats on through a shutdown's wait for the running jobs: the scheduler
// is there, and stops cleanly.
func (p *pinger) pulse(url string) {
	signal, body := "", "jobctl scheduler "+p.s.cfg.Owner+" is running"
	if err := p.s.health.err(); err != nil {
		signal, body = ping.Fail, "jobctl scheduler "+p.s.cfg.Owner+": the store fails: "+err.Error()
	}
	to, err := ping.Endpoint(url, signal, "")
	if err != nil {
		p.s.log.Warn("scheduler's ping not sent: bad URL", "url", url, "err", err)
		return
	}
	p.sender.Send(ping.Ping{URL: to, Body: ping.Body(body)})
}

// close ends the heartbeat, then gives the pings still queued until ctx
// is done, the shutdown's grace (a ctx with no deadline, a grace that
// only a second signal ends, gives them ping.Timeout), and drops the
// rest.
func (p *pinger) close(ctx context.Context) {
	if p.stop != nil {
		p.stop()
		<-p.done
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ping.Timeout)
		defer cancel()
	}
	p.sender.Close(ctx)
}
