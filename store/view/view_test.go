package view

import (
	"testing"
	"time"
)

func TestRelative(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "now"},
		{400 * time.Millisecond, "now"},
		{10*time.Minute - 3*time.Millisecond, "in 10m"},
		{4*time.Minute + 12*time.Second, "in 4m12s"},
		{-(2*time.Hour + 5*time.Minute + 30*time.Second), "2h5m ago"},
		{27*time.Hour + 59*time.Minute, "in 1d3h"},
		{9*24*time.Hour + 5*time.Hour, "in 1w2d"},
		{45 * time.Second, "in 45s"},
	} {
		if got := Relative(now.Add(tt.d), now); got != tt.want {
			t.Errorf("relative(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
