package cmd

import (
	"strings"
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
		if got := relative(now.Add(tt.d), now); got != tt.want {
			t.Errorf("relative(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	args := []string{"ls", "-la", "my dir", "it's", "", "a=b", "$HOME", "*"}
	got, err := commandArg(args)
	want := `ls -la 'my dir' 'it'\''s' '' a=b '$HOME' '*'`
	if err != nil || got != want {
		t.Errorf("commandArg(%q) = %s, %v; want %s", args, got, err, want)
	}
}

func TestTableColor(t *testing.T) {
	tb := &table{header: []string{"ID", "STATE", "X"}}
	tb.add("a", "paused", "1")
	tb.add("long-id", "failed (exit 2)", "2")
	var plain, color strings.Builder
	if err := tb.write(&plain, false); err != nil {
		t.Fatal(err)
	}
	want := "ID       STATE            X\na        paused           1\nlong-id  failed (exit 2)  2\n"
	if plain.String() != want {
		t.Errorf("plain table:\n%s\nwant\n%s", plain.String(), want)
	}
	_ = tb.write(&color, true)
	// Colour codes wrap the cell and do not shift the columns.
	if got := color.String(); !strings.Contains(got, "a        \x1b[33mpaused\x1b[0m           1\n") ||
		!strings.Contains(got, "\x1b[31mfailed (exit 2)\x1b[0m  2") {
		t.Errorf("colour table:\n%q", got)
	}
}

// TestTableWidth: columns line up in a terminal whatever the ids hold: wide
// (CJK, fullwidth) characters take two columns, combining marks none.
func TestTableWidth(t *testing.T) {
	tb := &table{header: []string{"ID", "STATE"}}
	for _, id := range []string{"日本語", "ａｂ", "cafe\u0301", "plain"} {
		tb.add(id, "active")
	}
	var b strings.Builder
	if err := tb.write(&b, false); err != nil {
		t.Fatal(err)
	}
	want := "ID      STATE\n" +
		"日本語  active\n" +
		"ａｂ    active\n" +
		"cafe\u0301    active\n" +
		"plain   active\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant\n%s", b.String(), want)
	}
	for s, w := range map[string]int{"": 0, "abc": 3, "日本": 4, "e\u0301": 1, "👍": 2, "a\u200db": 2} {
		if got := displayWidth(s); got != w {
			t.Errorf("displayWidth(%q) = %d, want %d", s, got, w)
		}
	}
}
