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
	"github.com/jobctl/jobctl/runner/web"
)

// runHTTP is the HTTP side of jobctl run (--http, [scheduler] http): the
// dashboard, the API and the probes of its one store, served from the
// scheduler's start to its end. runCommand calls, in order: httpAddr
// (check), listen (before the scheduler starts: a port in use stops jobctl
// there), events (into the scheduler's config), serve (once it has
// started), stop (once it has shut down).
type runHTTP struct {
	addr  string // as listen.Addr gives it
	ln    net.Listener
	board *board.Board
	web   *web.Handler
	stop  context.CancelFunc // ends the board and the server
	done  chan struct{}      // closed once both have ended
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

// events is cfg.Events, with the board poked by every event of a job: its
// runs are read again at the next refresh.
func (h *runHTTP) events(cfg *runner.Config) {
	if h == nil {
		return
	}
	prev := cfg.Events
	cfg.Events = func(e runner.Event) {
		if prev != nil {
			prev(e)
		}
		h.board.Poke(e.JobID)
	}
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
		Metrics: nil, // runner/metrics' handler goes here
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
