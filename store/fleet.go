package store

import "time"

// A fleet is several schedulers sharing one store at once, on any
// machines (the PostgreSQL engine). Each registers as a Member and renews
// a lease by the store's clock; a member whose lease has ended is dead to
// the others, who take over what it left running. An engine that supports
// a fleet gives FleetTx transactions; a scheduler on any other store is
// alone on it.

// Member is a scheduler of a fleet.
type Member struct {
	ID         string    `json:"id"` // the Owner of the runs it claims
	Host       string    `json:"host"`
	PID        int       `json:"pid"`
	Version    string    `json:"version"`
	Started    time.Time `json:"started"`
	Heartbeat  time.Time `json:"heartbeat"`   // its last renewal, by the store's clock
	LeaseUntil time.Time `json:"lease_until"` // by the store's clock
	Running    int       `json:"running"`     // its runs in progress (Members only)
}

// Live reports whether m's lease lasts past now, by the store's clock:
// once it has ended, the other members take m for dead.
func (m Member) Live(now time.Time) bool { return m.LeaseUntil.After(now) }

// FleetTx is a transaction of a store shared by a fleet of schedulers.
type FleetTx interface {
	Tx
	// Now reads the store's clock, which every member's lease and due
	// time go by.
	Now() (time.Time, error)
	// Join registers m (by ID; again if it is there already) with a
	// lease of the given length from now, by the store's clock.
	Join(m Member, lease time.Duration) error
	// Renew extends the lease of member id by lease from now, and reports
	// false, extending nothing, when it had already ended or the member is
	// gone (taken for dead: it must not start runs until it has joined
	// again).
	Renew(id string, lease time.Duration) (bool, error)
	// Expired returns the members whose lease has ended, each held by
	// this transaction (in an Update) and passed over when another holds
	// it, so that one survivor takes over each.
	Expired() ([]Member, error)
	// Leave removes member id.
	Leave(id string) error
	// Members lists the fleet, with each member's runs in progress.
	Members() ([]Member, error)
	// Orphaned returns the runs in progress whose owner is not a member.
	Orphaned() ([]*Run, error)
	// RunningOf counts the runs in progress of each job of ids, every
	// member's: a job with none is not in the map.
	RunningOf(ids []string) (map[string]int, error)
}
