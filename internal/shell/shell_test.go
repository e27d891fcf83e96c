package shell

import (
	"os/exec"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, s := range []string{"", "plain", "/usr/bin/x-y_z.sh", "a b", "it's", "$HOME", "`id`", "a\nb", "*", "--x=1", "é", "'"} {
		q := Quote(s)
		// The shell must read the quoted word back as s, whatever s holds.
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+q).Output()
		if err != nil {
			t.Fatalf("Quote(%q) = %s: %v", s, q, err)
		}
		if string(out) != s {
			t.Errorf("Quote(%q) = %s, which the shell reads as %q", s, q, out)
		}
	}
	if got := Quote("plain"); got != "plain" {
		t.Errorf("Quote(plain) = %s, want it unquoted", got)
	}
}
