package store

import (
	"fmt"
	"strings"
	"time"
)

// Overlap is a job's overlap policy: what one of its fire times does when
// it comes while max instances of the job already run (or wait to retry).
// The names are those of Temporal's schedules, which cover Kubernetes
// CronJob's Allow, Forbid and Replace.
type Overlap string

const (
	// OverlapSkip records the fire time skipped: APScheduler's way, and
	// the default (stored as "").
	OverlapSkip Overlap = ""
	// OverlapBufferOne keeps the fire time waiting until an instance
	// ends; at most one waits, a newer fire time replacing it.
	OverlapBufferOne Overlap = "buffer_one"
	// OverlapBufferAll keeps every such fire time waiting, in order, up
	// to MaxBuffered of them.
	OverlapBufferAll Overlap = "buffer_all"
	// OverlapCancelOther ends the running instances (SIGTERM, then
	// SIGKILL after the kill grace) and drops a pending retry; the fire
	// time waits for them to end, as with OverlapBufferOne.
	OverlapCancelOther Overlap = "cancel_other"
	// OverlapTerminateOther is OverlapCancelOther with SIGKILL at once.
	OverlapTerminateOther Overlap = "terminate_other"
	// OverlapAllowAll starts every fire time, whatever runs: max
	// instances does not apply.
	OverlapAllowAll Overlap = "allow_all"
)

// Overlaps lists the policies, the default first.
var Overlaps = []Overlap{OverlapSkip, OverlapBufferOne, OverlapBufferAll, OverlapCancelOther, OverlapTerminateOther, OverlapAllowAll}

// MaxBuffered bounds the fire times of one job waiting under
// OverlapBufferAll: one more is recorded skipped.
const MaxBuffered = 100

// String is the policy's name, "skip" for the default.
func (o Overlap) String() string {
	if o == OverlapSkip {
		return "skip"
	}
	return string(o)
}

// ParseOverlap reads a policy by its name ("skip" or "" is the default).
func ParseOverlap(s string) (Overlap, error) {
	if s == "skip" {
		return OverlapSkip, nil
	}
	for _, o := range Overlaps {
		if s == string(o) {
			return o, nil
		}
	}
	names := make([]string, len(Overlaps))
	for i, o := range Overlaps {
		names[i] = o.String()
	}
	return "", fmt.Errorf("%q is not an overlap policy (want one of %s)", s, strings.Join(names, ", "))
}

// Buffers reports whether fire times wait under o.
func (o Overlap) Buffers() bool { return o != OverlapSkip && o != OverlapAllowAll }

// Stops reports whether a fire time under o ends the running instances.
func (o Overlap) Stops() bool { return o == OverlapCancelOther || o == OverlapTerminateOther }

// Limit is how many instances of a job with max instances n may run at
// once under o.
func (o Overlap) Limit(n int) int {
	if o == OverlapAllowAll {
		return int(^uint(0) >> 1)
	}
	return max(n, 1)
}

// PendingRetry is the next attempt at a fire time, due at At.
type PendingRetry struct {
	FireTime  time.Time `json:"fire_time"`
	Attempt   int       `json:"attempt"` // from 2
	At        time.Time `json:"at"`
	Coalesced int       `json:"coalesced,omitempty"`
	Requested bool      `json:"requested,omitempty"`
	After     uint64    `json:"after"` // the run whose failure it follows
}

// Waiting is a fire time that waits for an instance of its job to end.
type Waiting struct {
	FireTime  time.Time `json:"fire_time"`
	Coalesced int       `json:"coalesced,omitempty"`
	Requested bool      `json:"requested,omitempty"`
	Since     time.Time `json:"since"` // when it came and found max instances
}
