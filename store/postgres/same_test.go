package postgres

import "testing"

func TestSameDatabase(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"postgres://u@db.example/jobs", "postgresql://u@db.example/jobs", true},
		{"postgres://u:secret@db.example/jobs?sslmode=disable&jobctl_poll=1s", "postgres://u@db.example:5432/jobs?jobctl_poll=2s&sslmode=disable", true},
		{"postgres://alice@db.example/jobs", "postgres://bob@db.example/jobs", true},
		{"postgres://u@db.example/jobs", "postgres://u@db.example/other", false},
		{"postgres://u@db.example/jobs", "postgres://u@db.example:5433/jobs", false},
		{"postgres://u@db.example/jobs", "postgres://u@db2.example/jobs", false},
		{"postgres://u@db.example/%zz", "postgres://u@db.example/%zz", false},
	} {
		if got := SameDatabase(tc.a, tc.b); got != tc.want {
			t.Errorf("SameDatabase(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
