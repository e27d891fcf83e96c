// Package web is the HTTP side of jobctl run: a dashboard (server-rendered
// pages, live by server-sent events), the same data as JSON under /api/,
// /healthz for probes, and /metrics when a metrics handler is given. It is
// read-only: GET and HEAD only.
//
// Its clients never hold the store's lock: the pages and the API read the
// Board's snapshot (runner/board), the scheduler's state comes from its
// memory (runner.Stats), and the only store reads a request can cause are
// bounded and shared by every client: the health probe's (one at a time,
// its answer kept a second), the job page's output tails (a finished
// run's read once, then kept) and /api/jobs/{id}/runs/{seq} (one run),
// these two one read at a time.
package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/store"
)

// Config is what a Handler serves.
type Config struct {
	Board *board.Board
	Store store.Store // read by /healthz and for output tails only
	// Stats is the scheduler's state (runner.Scheduler.Stats).
	Stats func() runner.Stats
	// Metrics serves /metrics; nil: /metrics is 404.
	Metrics http.Handler
	Now     func() time.Time // nil: time.Now
	Logger  *slog.Logger     // nil: discard
	Version string           // this jobctl's, shown in the page footer
}

// Handler serves the dashboard, the API and the probes.
type Handler struct {
	cfg    Config
	mux    *http.ServeMux
	health health
	tails  tails
	pages  pageCache
	// closed ends the event streams (Close): an http.Server's Shutdown
	// waits for its handlers, and a stream never ends by itself.
	closed    chan struct{}
	closeOnce sync.Once
}

// New returns a Handler serving cfg.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), closed: make(chan struct{})}
	h.health.store, h.health.stats = cfg.Store, cfg.Stats
	h.tails.store = cfg.Store
	h.routes()
	return h
}

func (h *Handler) routes() {
	h.mux.HandleFunc("GET /{$}", h.dashboard)
	h.mux.HandleFunc("GET /jobs/{id}", h.jobPage)
	h.mux.HandleFunc("GET /jobs/{$}", h.jobPage) // ?id=: jobPath
	h.mux.HandleFunc("GET /static/{file}", h.static)
	h.mux.HandleFunc("GET /events", h.events)
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.HandleFunc("GET /api/jobs", h.apiJobs)
	h.mux.HandleFunc("GET /api/jobs/{id}", h.apiJob)
	h.mux.HandleFunc("GET /api/jobs/{id}/runs", h.apiJobRuns)
	h.mux.HandleFunc("GET /api/jobs/{id}/runs/{seq}", h.apiRun)
	h.mux.HandleFunc("GET /api/runs", h.apiRuns)
	h.mux.HandleFunc("GET /api/scheduler", h.apiScheduler)
	if h.cfg.Metrics != nil {
		h.mux.Handle("GET /metrics", h.cfg.Metrics)
	}
}

// ServeHTTP serves r, read-only, with the security headers every answer
// carries.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// No inline script or style anywhere: the pages load /static/ only.
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "read-only: GET and HEAD only", http.StatusMethodNotAllowed)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Close ends the event streams at once, and makes new ones end as they
// begin: call it as the server shuts down.
func (h *Handler) Close() { h.closeOnce.Do(func() { close(h.closed) }) }

// Serve serves h on ln until ctx is done, then shuts down: the event
// streams end at once, other requests get a few seconds to finish.
func (h *Handler) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(h.cfg.Logger.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		h.Close()
		return err
	case <-ctx.Done():
	}
	h.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
	}
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
