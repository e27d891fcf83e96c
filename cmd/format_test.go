package cmd

import (
	"strings"
	"testing"
)

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
