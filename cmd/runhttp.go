package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/jobctl/jobctl/internal/listen"
	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/runner/metrics"
	"github.com/jobctl/jobctl/runner/web"
	"github.com/jobctl/jobctl/store"
)

// runHTTP is the HTTP side of jobctl run (--http, [scheduler] http): the
// dashboard, the API, the metrics and the probes of its one store, served
// from the scheduler's start to its end. runCommand calls, in order:
// httpAddr (check), listen (before the scheduler starts: a port in use
// stops jobctl there), events (into the scheduler's config), instrument
// (once the scheduler exists), serve (once it has started), stop (once it
// has shut down).
type runHTTP struct {
	addr    string // as listen.Addr gives it
	ln      net.Listener
	board   *board.Board
	metrics *metrics.Metrics // set by instrument, before the first event
	web     *web.Handler
	stop    context.CancelFunc // ends the board and the server
	done    chan struct{}      // closed once both have ended
}

// httpAddr is the address the dashboard is served on: --http's, else the
// jobfile's [scheduler] http; "" for none. A bad one is a usage error.
func (r *runCommand) httpAddr() (string, error) {
	addr, from := r.http, "--http"
	if addr == "" && r.jobfile != nil {
		addr, from = r.jobfile.File.Scheduler.HTTP, inputName(r.file)+": [scheduler] http"
	}
	if addr == "" {
		return "", nil
	}
	if len(r.stores) > 1 {
		return "", usagef("%s: the dashboard shows one store's scheduler, and the jobfile names %d stores: choose one with --store NAME", from, len(r.stores))
	}
	a, err := listen.Addr(addr)
	if err != nil {
		return "", usagef("%s: %v", from, err)
	}
	return a, nil
}

// listenHTTP opens the dashboard's address, if any, and the board of the
// store rs, which the scheduler's events poke.
func (r *runCommand) listenHTTP(rs *runStore) error {
	addr, err := r.httpAddr()
	if err != nil || addr == "" {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--http: cannot serve the dashboard on %s: %w", addr, err)
	}
	r.web = &runHTTP{addr: addr, ln: ln, board: board.New(board.Config{Store: rs.store, Logger: rs.log})}
	return nil
}

// events is cfg.Events, with every event counted by the metrics, and the
// board poked by every event of a job: its runs are read again at the
// next refresh.
func (h *runHTTP) events(cfg *runner.Config) {
	if h == nil {
		return
	}
	prev := cfg.Events
	cfg.Events = func(e runner.Event) {
		if prev != nil {
			prev(e)
		}
		h.metrics.Observe(e)
		h.board.Poke()
	}
}

// instrument makes the metrics of the scheduler of rs, which has not
// started yet. On a store a fleet shares, they are labelled with its name.
func (h *runHTTP) instrument(ctx context.Context, rs *runStore, version string) error {
	if h == nil {
		return nil
	}
	var fleet bool
	err := rs.store.View(ctx, func(tx store.Tx) error {
		_, fleet = tx.(store.FleetTx)
		return nil
	})
	if err != nil {
		return err
	}
	cfg := metrics.Config{Stats: rs.sched.Stats, Snapshot: h.board.Snapshot, Version: version}
	if fleet {
		cfg.Scheduler = rs.sched.Stats().Owner
	}
	h.metrics = metrics.New(cfg)
	return nil
}

// serve starts the board and the server on the scheduler of rs.
func (h *runHTTP) serve(r *runCommand, rs *runStore) {
	if h == nil {
		return
	}
	h.web = web.New(web.Config{
		Board:   h.board,
		Store:   rs.store,
		Stats:   rs.sched.Stats,
		Metrics: h.metrics.Handler(),
		Now:     r.now,
		Logger:  rs.log,
		Version: shortVersion(r.buildInfo()),
	})
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.done = cancel, make(chan struct{})
	boardDone := make(chan struct{})
	firstRead := h.board.Updated()
	go func() {
		defer close(boardDone)
		_ = h.board.Run(ctx)
	}()
	// The first clients find the jobs read (the API answers 503 before),
	// unless the store takes longer than this.
	select {
	case <-firstRead:
	case <-time.After(5 * time.Second):
	}
	go func() {
		defer close(h.done)
		defer func() { <-boardDone }()
		if err := h.web.Serve(ctx, h.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			rs.log.Error("the dashboard's server failed", "address", h.addr, "error", err)
		}
	}()
	rs.log.Info("serving the dashboard on http://" + h.ln.Addr().String() + "/")
}

// close stops the server (its event streams at once, other requests after
// a few seconds at most) and the board, or closes the listener that serve
// never used.
func (h *runHTTP) close() {
	switch {
	case h == nil:
	case h.stop == nil:
		h.ln.Close()
	default:
		h.stop()
		select {
		case <-h.done:
		case <-time.After(10 * time.Second): // Serve gives its requests 5s
		}
	}
}
