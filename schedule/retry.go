package schedule

import (
	"math"
	"time"
)

// Retry is how a failed run is tried again for the same fire time: up to
// Max more attempts, the first Delay after the failure, each next one
// Backoff times longer, none longer than MaxDelay. The zero values of
// Delay, Backoff and MaxDelay are the defaults (DefaultRetryDelay,
// DefaultRetryBackoff, no cap), so that a Retry of only Max means what a
// user who wrote only --retries expects.
type Retry struct {
	Max      int           `json:"max,omitempty"`
	Delay    time.Duration `json:"delay,omitempty"`
	Backoff  float64       `json:"backoff,omitempty"`
	MaxDelay time.Duration `json:"max_delay,omitempty"`
}

const (
	// DefaultRetryDelay is the delay before the first retry unless set.
	DefaultRetryDelay = 10 * time.Second
	// DefaultRetryBackoff is the factor each delay grows by unless set.
	DefaultRetryBackoff = 2.0
	// RetryJitter is the share of a delay its jitter moves it by, either
	// way: a fleet of jobs failing together does not retry in lockstep.
	RetryJitter = 0.1
	// MaxRetries bounds Max: a job that fails that often is failing.
	MaxRetries = 100
)

// WithDefaults is r with the defaults in place of its zero Delay and
// Backoff.
func (r Retry) WithDefaults() Retry {
	if r.Delay <= 0 {
		r.Delay = DefaultRetryDelay
	}
	if r.Backoff <= 0 {
		r.Backoff = DefaultRetryBackoff
	}
	return r
}

// Retries reports whether a run that was attempt number attempt (from 1)
// and failed is tried again.
func (r Retry) Retries(attempt int) bool { return attempt <= r.Max }

// After is the delay before the attempt that follows attempt number
// attempt (from 1): Delay·Backoff^(attempt-1), capped at MaxDelay, then
// moved by jitter·RetryJitter of itself, jitter in [-1, 1] (a random draw,
// taken by the caller so that this stays a pure function). It is never
// below zero, nor above MaxDelay when one is set.
func (r Retry) After(attempt int, jitter float64) time.Duration {
	r = r.WithDefaults()
	d := float64(r.Delay) * math.Pow(r.Backoff, float64(max(attempt, 1)-1))
	limit := math.Nextafter(math.MaxInt64, 0) // the longest float64 a Duration holds
	if r.MaxDelay > 0 {
		limit = float64(r.MaxDelay)
	}
	d = min(d, limit) // also what an overflow to +Inf becomes
	d += d * RetryJitter * max(-1, min(jitter, 1))
	return time.Duration(max(0, min(d, limit)))
}
