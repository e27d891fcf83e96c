package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Periods are the scheduler's own history, kept beside the runs so that
// jobctl why can tell a fire time missed because no scheduler ran (or all
// were paused) from one missed for another reason: the history alone says
// what happened, with no process's memory needed.
//
// A scheduler records a session as it starts (in its first transaction)
// and again, with its End, as it shuts down cleanly; one that dies leaves
// its session without an End. The fleet's members (Member, FleetTx) are a
// different fact: who holds a lease now. A member leaves the fleet as it
// stops, its session stays.

// PeriodKind names what a Period is a stretch of.
type PeriodKind string

const (
	// SessionPeriod is a scheduler's life on the store, from its start to
	// its clean stop.
	SessionPeriod PeriodKind = "session"
	// PausePeriod is the whole scheduler paused, from jobctl scheduler
	// pause (or run --paused) to jobctl scheduler resume.
	PausePeriod PeriodKind = "pause"
)

// Valid reports whether k is one of the kinds above.
func (k PeriodKind) Valid() bool { return k == SessionPeriod || k == PausePeriod }

// PeriodLimit is how many periods of each kind a store keeps: the newest
// by Start.
const PeriodLimit = 100

// Period is a stretch of the scheduler's history.
type Period struct {
	Kind  PeriodKind `json:"kind"`
	Start time.Time  `json:"start"`
	// End is zero while the period goes on, and for ever for the session
	// of a scheduler that died.
	End time.Time `json:"end,omitzero"`
	// Of a session: the scheduler, named as the Owner of the runs it
	// claims, and where it ran.
	Scheduler string `json:"scheduler,omitempty"`
	Host      string `json:"host,omitempty"`
	PID       int    `json:"pid,omitempty"`
	Version   string `json:"version,omitempty"`
}

// Check reports why p may not be stored.
func (p Period) Check() error {
	if !p.Kind.Valid() {
		return fmt.Errorf("period: unknown kind %q", p.Kind)
	}
	if p.Start.IsZero() {
		return fmt.Errorf("%s period: no start", p.Kind)
	}
	if !p.End.IsZero() && p.End.Before(p.Start) {
		return fmt.Errorf("%s period from %s: ends before it starts (%s)", p.Kind, p.Start.Format(time.RFC3339Nano), p.End.Format(time.RFC3339Nano))
	}
	return nil
}

// Covers reports whether the instant t falls in p: from its Start, up to
// its End, or up to until when p has no End.
func (p Period) Covers(t, until time.Time) bool {
	end := p.End
	if end.IsZero() {
		end = until
	}
	return !t.Before(p.Start) && t.Before(end)
}

// DecodePeriod reads a Period stored as JSON.
func DecodePeriod(v []byte) (Period, error) {
	var p Period
	if err := json.Unmarshal(v, &p); err != nil {
		return Period{}, fmt.Errorf("period: cannot decode: %w", err)
	}
	return p, nil
}

// endPause ends, in tx, the open pause period (the newest, with no End)
// at now; a pause begun before periods were recorded has none, and is
// left unrecorded.
func endPause(tx Tx, now time.Time) error {
	pauses, err := tx.Periods(PausePeriod)
	if err != nil || len(pauses) == 0 || !pauses[0].End.IsZero() {
		return err
	}
	p := pauses[0]
	p.End = now
	if p.End.Before(p.Start) {
		p.End = p.Start // a clock set back: a pause of no length, not a bad record
	}
	return tx.PutPeriod(p)
}
