package schedule

import (
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	for _, c := range []struct {
		name    string
		r       Retry
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{"defaults, first", Retry{Max: 3}, 1, 0, 10 * time.Second},
		{"defaults, doubling", Retry{Max: 3}, 3, 0, 40 * time.Second},
		{"no backoff", Retry{Delay: time.Minute, Backoff: 1}, 5, 0, time.Minute},
		{"factor 3", Retry{Delay: time.Second, Backoff: 3}, 4, 0, 27 * time.Second},
		{"capped", Retry{Delay: time.Minute, MaxDelay: 5 * time.Minute}, 10, 0, 5 * time.Minute},
		{"jitter up", Retry{Delay: 100 * time.Second, Backoff: 1}, 1, 1, 110 * time.Second},
		{"jitter down", Retry{Delay: 100 * time.Second, Backoff: 1}, 1, -1, 90 * time.Second},
		{"jitter beyond 1 is 1", Retry{Delay: 100 * time.Second, Backoff: 1}, 1, 7, 110 * time.Second},
		{"jitter never above the cap", Retry{Delay: time.Minute, MaxDelay: time.Minute}, 1, 1, time.Minute},
		{"huge attempt, no cap", Retry{Delay: time.Hour}, 1000, 0, time.Duration(1<<63 - 1<<10)},
		{"attempt 0 is the first", Retry{Delay: time.Second}, 0, 0, time.Second},
	} {
		if got := c.r.After(c.attempt, c.jitter); got != c.want {
			t.Errorf("%s: After(%d, %v) = %s, want %s", c.name, c.attempt, c.jitter, got, c.want)
		}
	}
}

func TestRetries(t *testing.T) {
	r := Retry{Max: 2}
	for attempt, want := range []bool{1: true, 2: true, 3: false} {
		if attempt > 0 && r.Retries(attempt) != want {
			t.Errorf("Max 2: Retries(%d) = %v, want %v", attempt, !want, want)
		}
	}
	if (Retry{}).Retries(1) {
		t.Error("zero Retry retries")
	}
}
