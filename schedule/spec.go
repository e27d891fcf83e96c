package schedule

import (
	"errors"
	"time"
)

// Spec is a trigger as a user writes it, in a jobfile or with flags: the form
// jobs are stored in and re-parsed from. Exactly one of Cron, Fields, Every,
// At, Any and All is set.
type Spec struct {
	Cron   string  `json:"cron,omitempty"`   // crontab syntax
	Fields *Fields `json:"fields,omitempty"` // keyword fields (APScheduler CronTrigger)
	Every  string  `json:"every,omitempty"`  // interval, a Duration
	At     string  `json:"at,omitempty"`     // one fire time, a TIME
	Any    []Spec  `json:"any,omitempty"`    // union of the fire times
	All    []Spec  `json:"all,omitempty"`    // instants all of them agree on

	Timezone string `json:"timezone,omitempty"` // IANA name; empty: inherited, else local
	Start    string `json:"start,omitempty"`    // inclusive bound, and an interval's anchor
	End      string `json:"end,omitempty"`      // inclusive bound
}

// Fields are the keyword fields of a cron trigger, as APScheduler 3.x's
// CronTrigger takes them. An empty string is an unset field.
type Fields struct {
	Year      string `json:"year,omitempty"`
	Month     string `json:"month,omitempty"`
	Day       string `json:"day,omitempty"`
	Week      string `json:"week,omitempty"`
	DayOfWeek string `json:"day_of_week,omitempty"`
	Hour      string `json:"hour,omitempty"`
	Minute    string `json:"minute,omitempty"`
	Second    string `json:"second,omitempty"`
}

// Parse builds the Trigger that s describes. loc is the zone used when s
// names none; ref is the instant relative parts of s are read against
// ("now" in Start, and the anchor of an interval without Start, which first
// fires one interval after ref).
func (s Spec) Parse(loc *time.Location, ref time.Time) (Trigger, error) {
	return nil, errors.New("schedule: Spec.Parse not implemented yet")
}
