package web

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/store"
)

const (
	// healthTimeout bounds the probe's read of the store.
	healthTimeout = 3 * time.Second
	// healthTTL is how long a probe's answer about the store is kept: probes
	// storming /healthz cost the store one short read a second at most.
	healthTTL = time.Second
)

// health answers /healthz: the scheduler's loop is alive, it has no store
// error, and the store answers a short read.
type health struct {
	store store.Store
	stats func() runner.Stats

	mu       sync.Mutex // held through a probe's read: one at a time
	checked  time.Time  // when storeErr was read; zero: never
	storeErr error
}

// check returns why the scheduler is not healthy, or "".
func (hl *health) check(ctx context.Context) string {
	if hl.stats != nil {
		st := hl.stats()
		if !st.Alive {
			return "the scheduler's loop is not running"
		}
		if st.StoreError != nil {
			return fmt.Sprintf("the scheduler cannot use the store: %v", st.StoreError)
		}
	}
	if err := hl.readStore(ctx); err != nil {
		return fmt.Sprintf("the store does not answer: %v", err)
	}
	return ""
}

// readStore reads the store's settings, or returns the answer of a read
// made less than healthTTL ago.
func (hl *health) readStore(ctx context.Context) error {
	hl.mu.Lock()
	defer hl.mu.Unlock()
	if !hl.checked.IsZero() && time.Since(hl.checked) < healthTTL {
		return hl.storeErr
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	hl.storeErr = hl.store.View(ctx, func(tx store.Tx) error {
		_, err := tx.Settings()
		return err
	})
	hl.checked = time.Now()
	return hl.storeErr
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// A probe that gave up must not cancel the read others wait for.
	if why := h.health.check(context.WithoutCancel(r.Context())); why != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, why)
		return
	}
	fmt.Fprintln(w, "ok")
}
