package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestOnStart(t *testing.T) {
	for _, tt := range []struct {
		spec  Spec
		delay time.Duration
		words string
	}{
		{Spec{OnStart: "0s"}, 0, "at each scheduler start"},
		{Spec{OnStart: "30s", Timezone: "Europe/Berlin"}, 30 * time.Second, "at each scheduler start, after 30s"},
		{Spec{OnStart: "90m"}, 90 * time.Minute, "at each scheduler start, after 1h30m"},
	} {
		tr, err := tt.spec.Parse(time.UTC, time.Now())
		if err != nil {
			t.Fatalf("%+v: %v", tt.spec, err)
		}
		o, ok := tr.(OnStart)
		if !ok || o.Delay != tt.delay {
			t.Errorf("%+v: parsed as %#v, want OnStart{%v}", tt.spec, tr, tt.delay)
			continue
		}
		// No fire time of its own, whatever the instant asked about.
		for _, at := range []time.Time{{}, time.Unix(0, 0), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)} {
			if f := tr.Next(at); !f.IsZero() {
				t.Errorf("%s: Next(%v) = %v, want zero", tt.spec, at, f)
			}
		}
		start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		if f := o.FireAt(start); !f.Equal(start.Add(tt.delay)) {
			t.Errorf("%s: FireAt(%v) = %v", tt.spec, start, f)
		}
		if tt.spec.String() != tt.words || tr.String() != tt.words {
			t.Errorf("String: spec %q, trigger %q; want %q", tt.spec.String(), tr.String(), tt.words)
		}
	}
}

func TestOnStartErrors(t *testing.T) {
	for _, tt := range []struct {
		spec Spec
		want string
	}{
		{Spec{OnStart: "soon"}, `on_start: duration "soon"`},
		{Spec{OnStart: "-5s"}, "on_start: -5s is a negative delay"},
		{Spec{OnStart: "0s", Start: "2026-01-01"}, "on_start: takes no start or end"},
		{Spec{OnStart: "0s", End: "2026-01-01"}, "on_start: takes no start or end"},
		{Spec{OnStart: "0s", Cron: "@daily"}, "several triggers (cron, on_start) in one"},
		{Spec{Any: []Spec{{Cron: "@daily"}, {OnStart: "0s"}}}, "any[1]: on_start cannot be combined with other triggers"},
		{Spec{All: []Spec{{OnStart: "1m"}}}, "all[0]: on_start cannot be combined"},
	} {
		err := tt.spec.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want an error containing %q", tt.spec, err, tt.want)
		}
	}
}
