package runner

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// A job naming an executor that is not configured runs in a pool of that
// name of the default size, with a warning.
func TestUnconfiguredExecutor(t *testing.T) {
	h := newHarness(t, t0)
	var ids []string
	for i := range store.DefaultMaxWorkers + 1 {
		id := fmt.Sprintf("j%02d", i)
		ids = append(ids, id)
		j := job(id, schedule.Spec{At: t0.Format(time.RFC3339)})
		j.Options.Executor = "nowhere"
		h.put(j)
		h.hold(id)
	}
	var logged syncBuffer
	h.start(Config{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	h.settle() // all started but one, which waits for a worker
	if n := h.started(); n != store.DefaultMaxWorkers {
		t.Errorf("%d runs started, want %d", n, store.DefaultMaxWorkers)
	}
	h.s.mu.Lock()
	p := h.s.pools["nowhere"]
	max, queued := p.max, len(p.queue)
	h.s.mu.Unlock()
	if max != store.DefaultMaxWorkers || queued != 1 {
		t.Errorf("pool of %d workers, %d waiting; want %d, 1", max, queued, store.DefaultMaxWorkers)
	}
	want := fmt.Sprintf(`level=WARN msg="executor not configured: using one of default size" executor=nowhere workers=%d`, store.DefaultMaxWorkers)
	if n := strings.Count(logged.String(), want); n != 1 {
		t.Errorf("%d warnings %s in the log, want 1:\n%s", n, want, logged.String())
	}
	for _, id := range ids {
		h.release(id)
	}
	for _, id := range ids {
		h.wantHistory(id, "10:00:00 success\n")
	}
}
