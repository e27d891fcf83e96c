package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// fakeSendmail writes a sendmail that keeps each mail it is given in a
// file of its own in the directory it returns: its arguments on the first
// line, then what it read.
func fakeSendmail(t *testing.T) (path, mails string) {
	t.Helper()
	dir := t.TempDir()
	mails = filepath.Join(dir, "mails")
	if err := os.Mkdir(mails, 0o755); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "sendmail")
	script := fmt.Sprintf("#!/bin/sh\nf=$(mktemp %q/mail.XXXXXX) || exit 1\necho \"$*\" >\"$f\"\ncat >>\"$f\"\n", mails)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, mails
}

// readMails returns the mails the fake sendmail kept, by the job in their
// X-Jobctl-Job header.
func readMails(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "mail.*"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, after, _ := strings.Cut(string(b), "\nX-Jobctl-Job: ")
		id, _, _ := strings.Cut(after, "\n")
		got[id] = append(got[id], string(b))
	}
	return got
}

// Each job's mail_on and mailto (its own, or the scheduler's from the
// store) decide which runs are mailed; a run not run (missed) never is,
// and the shutdown waits for the mails on their way.
func TestMailPolicy(t *testing.T) {
	sendmail, mails := fakeSendmail(t)
	h := newHarness(t, t0)
	err := h.st.Update(t.Context(), func(tx store.Tx) error {
		// The store's sendmail is the one used, not the Config's.
		return tx.PutSettings(store.Settings{MailTo: "ops@example.com", Sendmail: sendmail})
	})
	if err != nil {
		t.Fatal(err)
	}
	own, none := "dev@example.com", ""
	funcs := map[string]Func{
		"quiet": func(context.Context, Call, io.Writer) error { return nil },
		"chatty": func(_ context.Context, _ Call, out io.Writer) error {
			_, err := io.WriteString(out, "hello\n")
			return err
		},
		"fails": func(context.Context, Call, io.Writer) error { return errors.New("disk full") },
	}
	for _, on := range []store.MailOn{store.MailOnOutput, store.MailOnFailure, store.MailOnAlways} {
		for name := range funcs {
			j := job(on.String()+"-"+name, cron("0 * * * *"))
			j.Command, j.Options.MailOn = FuncPrefix+name, on
			h.put(j)
		}
	}
	// The scheduler's mailto, the job's own, and none though the
	// scheduler has one.
	for id, to := range map[string]*string{"inherits": nil, "own": &own, "opted-out": &none} {
		j := job(id, cron("0 * * * *"))
		j.Command, j.Options.MailTo = FuncPrefix+"chatty", to
		h.put(j)
	}
	late := job("late", schedule.Spec{At: t0.Add(-time.Hour).Format(time.RFC3339)})
	late.Command, late.Options.MailOn, late.NextRun = FuncPrefix+"fails", store.MailOnAlways, t0.Add(-time.Hour)
	h.put(late)

	h.start(Config{Funcs: funcs, Sendmail: "/nonexistent/sendmail"})
	h.settle()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := h.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	h.wantHistory("late", "09:00:00 missed\n")

	got := readMails(t, mails)
	var ids []string
	for id := range got {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	want := []string{"always-chatty", "always-fails", "always-quiet", "failure-fails", "inherits", "output-chatty", "output-fails", "own"}
	if !slices.Equal(ids, want) {
		t.Errorf("mailed %v, want %v", ids, want)
	}
	for id, to := range map[string]string{"inherits": "ops@example.com", "own": own, "output-chatty": "ops@example.com"} {
		if m := got[id]; len(m) != 1 || !strings.HasPrefix(m[0], "-t -oi\n") || !strings.Contains(m[0], "\nTo: "+to+"\n") {
			t.Errorf("%s: mails %q, want one to %s, sent with -t -oi", id, m, to)
		}
	}
	if m := got["output-fails"]; len(m) == 1 && !strings.HasSuffix(m[0], "\n\njobctl: run 1 of output-fails failed: disk full\n") {
		t.Errorf("a silent failure's mail:\n%s\nwant the outcome at its end", m[0])
	}
}

// The mail of a failed run, as cronie writes it, with the outcome after
// the output; and no id, command or address can add a header.
func TestComposeMail(t *testing.T) {
	code := 2
	j := &store.Job{ID: "backup", Command: "restic backup\nBcc: victim@example.com"}
	r := &store.Run{JobID: "backup", Seq: 7, Outcome: store.Failed, ExitCode: &code, Reason: "exit status 2", Output: "no space left"}
	got := string(composeMail("alice", "box", "ops@example.com,\r\nBcc: x@example.com", j, r))
	want := `From: alice (jobctl)
To: ops@example.com, Bcc: x@example.com
Subject: jobctl <alice@box> backup: restic backup Bcc: victim@example.com
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit
Auto-Submitted: auto-generated
Precedence: bulk
X-Jobctl-Job: backup
X-Jobctl-Run: 7
X-Jobctl-Outcome: failed

no space left

jobctl: run 7 of backup failed: exit status 2
`
	if got != want {
		t.Errorf("mail:\n%s\nwant:\n%s", got, want)
	}

	// A successful run's mail is its output, whole lines, valid UTF-8; a
	// long or non-ASCII command is cut and encoded in the Subject.
	j.Command = strings.Repeat("é", 200)
	r = &store.Run{Seq: 1, Outcome: store.Success, Output: "ok\xff"}
	got = string(composeMail("alice", "box", "root", j, r))
	head, body, _ := strings.Cut(got, "\n\n")
	if body != "ok\uFFFD\n" {
		t.Errorf("body %q, want the output, made valid UTF-8, with its last line ended", body)
	}
	subject := head[strings.Index(head, "Subject: "):]
	subject, _, _ = strings.Cut(subject, "\nMIME")
	if !strings.HasPrefix(subject, "Subject: =?utf-8?q?jobctl_<alice@box>_backup:_=C3=A9") || strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject %q, want it Q-encoded on one line", subject)
	}
}

// A missing sendmail is a warning in the log, not the run's failure.
func TestMailWithoutSendmail(t *testing.T) {
	var logged syncBuffer
	h := newHarness(t, t0)
	to := "root"
	j := job("a", cron("0 * * * *"))
	j.Options.MailTo, j.Options.MailOn = &to, store.MailOnAlways
	h.put(j)
	h.start(Config{Sendmail: "/nonexistent/sendmail", Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	h.wantHistory("a", "10:00:00 success\n")
	if err := h.s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if log := logged.String(); !strings.Contains(log, `msg="run not mailed: no sendmail`) || !strings.Contains(log, "/nonexistent/sendmail") {
		t.Errorf("log:\n%s\nwant a warning naming the missing sendmail", log)
	}
}
