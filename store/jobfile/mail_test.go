package jobfile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/store"
)

const mailFile = `
[scheduler]
mailto = "ops@example.com, root"
sendmail = "SENDMAIL"

[job_defaults]
mail_on = "failure"

[[job]]
id = "inherits"
command = "x"
every = "1h"

[[job]]
id = "own"
command = "x"
every = "1h"
mailto = "dev@example.com"
mail_on = "always"

[[job]]
id = "silent"
command = "x"
every = "1h"
mailto = ""
mail_on = "output"
`

// fakeProgram writes an executable file, to stand for sendmail.
func fakeProgram(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sendmail")
	if err := os.WriteFile(path, []byte("#!/bin/sh\ncat >/dev/null\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// [scheduler] mailto and sendmail go to the stored settings; mailto and
// mail_on, in a job or [job_defaults], to its options; and export writes
// them back.
func TestMailKeys(t *testing.T) {
	sendmail := fakeProgram(t)
	f := mustParse(t, strings.Replace(mailFile, "SENDMAIL", sendmail, 1))
	if ws := Lint(f, now); len(ws) != 0 {
		t.Errorf("warnings: %v", ws)
	}
	s := newMemory(t)
	apply(t, s, f, now, ApplyOptions{})
	st := settings(t, s)
	if st.MailTo != "ops@example.com, root" || st.Sendmail != sendmail {
		t.Errorf("settings %+v", st)
	}
	want := map[string]struct {
		to string
		on store.MailOn
	}{"inherits": {"ops@example.com, root", store.MailOnFailure}, "own": {"dev@example.com", store.MailOnAlways}, "silent": {"", store.MailOnOutput}}
	var jobs []*store.Job
	for id, w := range want {
		j := getJob(t, s, id)
		jobs = append(jobs, j)
		if to := j.Options.Recipients(st); to != w.to || j.Options.MailOn != w.on {
			t.Errorf("job %s: mails %s to %q, want %s to %q", id, j.Options.MailOn, to, w.on, w.to)
		}
	}
	if j := getJob(t, s, "inherits"); j.Options.MailTo != nil {
		t.Errorf("job inherits: mailto %q, want none of its own", *j.Options.MailTo)
	}

	out, err := Export(st, jobs)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{`mailto = "ops@example.com, root"`, `sendmail = "` + sendmail + `"`, `mailto = ""`, `mail_on = "failure"`} {
		if !strings.Contains(string(out), "\n"+line+"\n") {
			t.Errorf("export lacks %s:\n%s", line, out)
		}
	}
	g, err := Parse("exported.toml", out)
	if err != nil {
		t.Fatalf("parsing the export: %v\n%s", err, out)
	}
	b := newMemory(t)
	apply(t, b, g, now, ApplyOptions{})
	for _, j := range jobs {
		if got := getJob(t, b, j.ID); !reflect.DeepEqual(got.Options, j.Options) {
			t.Errorf("job %s after the round trip: %+v, want %+v", j.ID, got.Options, j.Options)
		}
	}
	if got := settings(t, b); !got.Equal(st) {
		t.Errorf("settings after the round trip: %+v, want %+v", got, st)
	}

	// A file without them takes them away: it speaks for the scheduler.
	apply(t, s, mustParse(t, "[[job]]\nid = \"own\"\ncommand = \"x\"\nevery = \"1h\"\n"), now, ApplyOptions{})
	if st := settings(t, s); st.MailTo != "" || st.Sendmail != "" {
		t.Errorf("settings after a file with no mailto: %+v", st)
	}
}

func TestMailErrors(t *testing.T) {
	src := `[scheduler]
mailto = "a@b\nBcc: c@d"
sendmail = "bin/sendmail"

[job_defaults]
mail_on = "never"

[[job]]
id = "a"
command = "x"
every = "1h"
mailto = 7
mail_on = "sometimes"
`
	_, err := Parse("jobs.toml", []byte(src))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := []string{
		`jobs.toml:2:1: scheduler: mailto "a@b\nBcc: c@d": address "a@b\nBcc: c@d" contains '\n' (want no whitespace or control characters)`,
		`jobs.toml:3:1: scheduler: sendmail "bin/sendmail": want an absolute path, or a program name looked up on PATH`,
		`jobs.toml:6:1: job_defaults: mail_on: "never" is not a mail_on policy (want output, failure, always)`,
		`jobs.toml:12:1: job "a": mailto: 7 is an integer, want a string`,
		`jobs.toml:13:1: job "a": mail_on: "sometimes" is not a mail_on policy (want output, failure, always)`,
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Mail that would not be sent: a mail_on with nowhere to mail, and jobs
// that mail with no sendmail to send it.
func TestMailLint(t *testing.T) {
	f := mustParse(t, `[scheduler]
sendmail = "/nonexistent/sendmail"

[[job]]
id = "nowhere"
command = "x"
every = "1h"
mail_on = "always"

[[job]]
id = "mails"
command = "x"
every = "1h"
mailto = "root"

[[job]]
id = "mails-too"
command = "x"
every = "1h"
mailto = "root"
`)
	var got []string
	for _, w := range Lint(f, now) {
		got = append(got, w.Error())
	}
	want := []string{
		`jobs.toml:4:1: job "nowhere": mail_on = "always", but no mailto (neither its own nor [scheduler] mailto): nothing is mailed`,
		`jobs.toml:10:1: job "mails" (and any other that mails): its runs are mailed to "root", but there is no sendmail here (stat /nonexistent/sendmail: no such file or directory): set [scheduler] sendmail, or install one where jobctl run runs`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
