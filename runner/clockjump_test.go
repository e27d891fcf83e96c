package runner

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// counting is a store that counts its updates: the scheduler's
// transactions, for telling whether it spins.
type counting struct {
	store.Store
	updates atomic.Int64
}

func (c *counting) Update(ctx context.Context, fn func(store.Tx) error) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, fn)
}

// TestClockJump: the wall clock set forward an hour and back an hour while
// jobs of every kind are scheduled, one of them running. Forward, the fire
// times jumped over are handled as a downtime's: coalesced, missed beyond
// the misfire grace, skipped while an instance runs. Back, no fire time is
// run again, the scheduler sleeps until the wall clock reaches the next one
// again, and it does not spin meanwhile: its alarm is set for that fire
// time, and it makes one store transaction per wake-up and no more.
func TestClockJump(t *testing.T) {
	h := newHarness(t, t0)
	c := &counting{Store: h.st}
	h.st = c
	h.put(job("minutely", cron("* * * * *")))
	j := job("ten", cron("*/10 * * * *"))
	j.Options.Coalesce, j.Options.MisfireGrace = false, schedule.Grace(25*time.Minute)
	h.put(j)
	j = job("every", schedule.Spec{Every: "20m"})
	j.Options.Coalesce, j.Options.MisfireGrace = false, schedule.NoGrace
	h.put(j)
	h.start(Config{})
	h.advance(time.Minute)
	h.advance(time.Minute)
	// Forward an hour while minutely's 10:03 run is in progress.
	h.settle()
	h.waitFor("the 10:02 run to end", func() bool {
		h.s.mu.Lock()
		defer h.s.mu.Unlock()
		return h.s.instances["minutely"] == 0
	})
	h.hold("minutely")
	h.advance(time.Minute)
	h.settle()
	h.clock.Set(t0.Add(63*time.Minute + 30*time.Second))
	h.sync()
	h.release("minutely")
	want := map[string]string{
		"minutely": "10:00:00 success\n10:01:00 success\n10:02:00 success\n10:03:00 success\n11:03:00 skipped +59\n",
		"ten":      "10:00:00 success\n10:30:00 missed +2\n10:40:00 success\n10:50:00 success\n11:00:00 success\n",
		"every":    "10:20:00 success\n10:40:00 success\n11:00:00 success\n",
	}
	for id, w := range want {
		h.wantHistory(id, w)
	}

	// Back an hour: nothing is due until the wall clock reads 11:04 again.
	h.clock.Set(t0.Add(3*time.Minute + 30*time.Second))
	h.sync()
	h.settle()
	if at, ok := h.clock.NextAlarm(); !ok || !at.Equal(t0.Add(64*time.Minute-lead)) {
		t.Errorf("after the clock went back, the alarm is set for %v (%v), want just before 11:04:00, the next fire time", at, ok)
	}
	before := c.updates.Load()
	const wakes = 5
	for range wakes {
		h.sync()
	}
	if n := c.updates.Load() - before; n != wakes {
		t.Errorf("%d store transactions over %d wake-ups with nothing due: the scheduler spins", n, wakes)
	}
	h.advance(time.Hour)
	h.advance(time.Minute)
	want["minutely"] += "11:04:00 success\n"
	for id, w := range want {
		h.wantHistory(id, w)
	}
}
