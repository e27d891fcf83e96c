package cmd

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/store"
)

// TestBadInput pins what the scripts cannot see: bad input exits 2 (a
// usage error) whether it comes from a flag or a file, and leaves the
// database as it was.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("JOBCTL_DB", filepath.Join(dir, "jobs.db"))
	if code := Main([]string{"add", "--id", "keep", "--every", "1h", "--", "true"}, nil, io.Discard, io.Discard); code != ExitOK {
		t.Fatalf("add: exit %d", code)
	}
	for _, tc := range []struct {
		args  []string
		stdin string
		want  string // in stderr
	}{
		{args: []string{"add", "--id", "\xff", "--", "x"}, want: `--id: id "\xff" is not valid UTF-8`},
		{args: []string{"add", "--name", "a\nb", "--", "x"}, want: `--name: name "a\nb" contains '\n'`},
		{args: []string{"modify", "keep", "--name", "\x1b[2J"}, want: `--name: name "\x1b[2J" contains '\x1b'`},
		{args: []string{"import", "--crontab", "-", "--prefix", strings.Repeat("p", 57)}, stdin: "@daily true\n", want: "ids would be 65 bytes"},
		{args: []string{"add", "--every", "1ns", "--", "x"}, want: "every: 1ns is shorter than the shortest interval, 1s"},
		{args: []string{"next", "--every", "999ms"}, want: "every: 999ms is shorter than the shortest interval, 1s"},
		{args: []string{"add", "--every", "2562048h", "--", "x"}, want: `every: duration "2562048h": too long (at most 15250w1d23h47m16s, about 292 years)`},
		{args: []string{"add", "--at", "2026-12-01T10:00:00+25:00", "--", "x"}, want: "offset +25:00 is out of range (want -23:59 to +23:59)"},
		{args: []string{"add", "--cron", "", "--", "x"}, want: "--cron: empty expression"},
		{args: []string{"add", "--minute", "", "--", "x"}, want: "--minute: empty field"},
		{args: []string{"apply", "-f", "-"}, stdin: "[[job]]\nid = \"f\"\ncommand = \"x\"\nevery = \"1ns\"\n", want: "stdin:4:1: job \"f\": every: 1ns is shorter"},
		{args: []string{"lint", "-"}, stdin: "[[job]]\nid = \"f\"\nname = \"a\\tb\"\ncommand = \"x\"\nevery = \"1h\"\n", want: `stdin:3:1: job "f": name "a\tb" contains '\t'`},
		{args: []string{"add", "--dir", filepath.Join(dir, "missing"), "--", "x"}, want: "missing\" does not exist"},
		{args: []string{"modify", "keep", "--dir", filepath.Join(dir, "jobs.db")}, want: "jobs.db\" is not a directory"},
	} {
		var errOut strings.Builder
		if code := Main(tc.args, strings.NewReader(tc.stdin), io.Discard, &errOut); code != ExitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d, %q", tc.args, code, errOut.String(), ExitUsage, tc.want)
		}
	}
	db, err := (&database{path: filepath.Join(dir, "jobs.db")}).Open(forReading)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(t.Context(), func(tx store.Tx) error {
		return tx.Jobs(func(j *store.Job) error {
			if j.ID != "keep" || j.Name != "" {
				t.Errorf("stored: %+v", j)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}
