package store

import (
	"strings"
	"testing"
	"time"
)

func TestMailOnMails(t *testing.T) {
	runs := []struct {
		name string
		run  Run
	}{
		{"silent success", Run{Outcome: Success}},
		{"printing success", Run{Outcome: Success, Output: "done\n"}},
		{"silent failure", Run{Outcome: Failed}},
		{"printing failure", Run{Outcome: Failed, Output: "oops\n"}},
		{"timeout", Run{Outcome: TimedOut}},
		{"interrupted", Run{Outcome: Interrupted}},
		{"missed", Run{Outcome: Missed, Reason: "late"}},
		{"skipped", Run{Outcome: Skipped, Reason: "busy"}},
		{"cancelled, silent", Run{Outcome: Cancelled, Started: time.Unix(1, 0)}},
		{"cancelled, printing", Run{Outcome: Cancelled, Started: time.Unix(1, 0), Output: "half done\n"}},
		{"cancelled before it started", Run{Outcome: Cancelled}},
	}
	// A run ended on purpose by a later fire time (overlap) is mailed as a
	// success: it is no failure.
	want := map[MailOn][]bool{
		MailOnOutput:  {false, true, true, true, true, true, false, false, false, true, false},
		MailOnFailure: {false, false, true, true, true, true, false, false, false, false, false},
		MailOnAlways:  {true, true, true, true, true, true, false, false, true, true, false},
	}
	for on, w := range want {
		for i, r := range runs {
			if got := on.Mails(&r.run); got != w[i] {
				t.Errorf("mail_on %s, %s: mails %v, want %v", on, r.name, got, w[i])
			}
		}
	}
}

func TestParseMailOn(t *testing.T) {
	for _, name := range MailOnNames {
		on, err := ParseMailOn(name)
		if err != nil || on.String() != name {
			t.Errorf("ParseMailOn(%q) = %q, %v", name, on, err)
		}
	}
	if _, err := ParseMailOn("never"); err == nil || !strings.Contains(err.Error(), `"never" is not a mail_on policy (want output, failure, always)`) {
		t.Errorf("ParseMailOn(never): %v", err)
	}
}

func TestCheckMailTo(t *testing.T) {
	for _, ok := range []string{"", "root", "ops@example.com", "a@example.com, b@example.com"} {
		if err := CheckMailTo(ok); err != nil {
			t.Errorf("CheckMailTo(%q): %v", ok, err)
		}
	}
	for to, msg := range map[string]string{
		"a@b\nBcc: c@d": `contains '\n'`,
		"a@b,":          "an empty address",
		"a b@c":         `contains ' '`,
		"-oQ/tmp":       "starts with '-'",
	} {
		if err := CheckMailTo(to); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("CheckMailTo(%q): %v, want %q", to, err, msg)
		}
	}
}

func TestCheckSendmail(t *testing.T) {
	for _, ok := range []string{"", "/usr/sbin/sendmail", "msmtp"} {
		if err := CheckSendmail(ok); err != nil {
			t.Errorf("CheckSendmail(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"bin/sendmail", "./sendmail", "/usr/sbin/sendmail\n"} {
		if err := CheckSendmail(bad); err == nil {
			t.Errorf("CheckSendmail(%q): no error", bad)
		}
	}
}

func TestRecipients(t *testing.T) {
	set := Settings{MailTo: "ops@example.com"}
	none, own := "", "me@example.com"
	for _, tc := range []struct {
		to   *string
		want string
	}{{nil, "ops@example.com"}, {&none, ""}, {&own, own}} {
		if got := (Options{MailTo: tc.to}).Recipients(set); got != tc.want {
			t.Errorf("Recipients with MailTo %v = %q, want %q", tc.to, got, tc.want)
		}
	}
}
