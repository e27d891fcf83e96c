package web

import (
	"fmt"
	"net/http"
	"time"
)

// heartbeat is how often an idle event stream gets a comment, so that
// proxies and browsers do not take it for dead.
const heartbeat = 15 * time.Second

// events streams server-sent events: an "update" event, its data the
// snapshot's Seq, at each refresh of the board, for the page to fetch its
// fresh content. The stream ends when the client goes or Close is called.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not hold the stream back
	updated := h.cfg.Board.Updated()
	// retry: the browser reconnects after 2s when the stream ends.
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.closed:
			return
		case <-tick.C:
			_, err := fmt.Fprint(w, ": heartbeat\n\n")
			if err != nil || rc.Flush() != nil {
				return
			}
		case <-updated:
			updated = h.cfg.Board.Updated()
			var seq uint64
			if snap := h.cfg.Board.Snapshot(); snap != nil {
				seq = snap.Seq
			}
			_, err := fmt.Fprintf(w, "event: update\ndata: %d\n\n", seq)
			if err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
