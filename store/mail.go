package store

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode"
)

// MailOn says which runs of a job are mailed to its MailTo. Only runs that
// ran are ever mailed: a missed or skipped run has no output to send.
type MailOn string

const (
	// MailOnOutput, the default, mails a run that printed anything, as
	// cron does, and also one that did not succeed though it printed
	// nothing (cron stays silent then): a failure is what one most wants
	// to hear of.
	MailOnOutput MailOn = ""
	// MailOnFailure mails a run that failed, timed out or was interrupted,
	// whatever it printed; a successful run is never mailed.
	MailOnFailure MailOn = "failure"
	// MailOnAlways mails every run that ran.
	MailOnAlways MailOn = "always"
)

// MailOnNames are the values ParseMailOn takes, as jobfiles and flags
// write them.
var MailOnNames = []string{"output", "failure", "always"}

// ParseMailOn reads a mail_on value: output, failure or always.
func ParseMailOn(s string) (MailOn, error) {
	switch s {
	case "output":
		return MailOnOutput, nil
	case string(MailOnFailure), string(MailOnAlways):
		return MailOn(s), nil
	}
	return "", fmt.Errorf("%q is not a mail_on policy (want %s)", s, strings.Join(MailOnNames, ", "))
}

// String is m as ParseMailOn reads it.
func (m MailOn) String() string {
	if m == MailOnOutput {
		return "output"
	}
	return string(m)
}

// Mails reports whether, under m, run r is mailed. r has ended.
func (m MailOn) Mails(r *Run) bool {
	switch r.Outcome {
	case Success:
		return m == MailOnAlways || m == MailOnOutput && r.Output != ""
	case Failed, TimedOut, Interrupted:
		return true
	case Cancelled: // ended on purpose (overlap): mailed as a success is
		return !r.Started.IsZero() && (m == MailOnAlways || m == MailOnOutput && r.Output != "")
	}
	return false // missed, skipped: not run
}

// Recipients are the addresses o's runs are mailed to, with s the
// scheduler's settings: the job's own MailTo, else the scheduler's. ""
// mails nothing.
func (o Options) Recipients(s Settings) string {
	if o.MailTo != nil {
		return *o.MailTo
	}
	return s.MailTo
}

// CheckMailTo reports whether to can be a MailTo: addresses separated by
// commas (spaces around them allowed), each with no whitespace or control
// characters; "" is no mail. An address never reaches a command line
// (sendmail -t reads them from the mail's To header), but a line break in
// one would forge headers.
func CheckMailTo(to string) error {
	if to == "" {
		return nil
	}
	for a := range strings.SplitSeq(to, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			return fmt.Errorf("mailto %q: an empty address (want addresses separated by commas)", to)
		}
		for _, r := range a {
			if unicode.IsSpace(r) || unicode.IsControl(r) {
				return fmt.Errorf("mailto %q: address %q contains %q (want no whitespace or control characters)", to, a, r)
			}
		}
		if strings.HasPrefix(a, "-") {
			return fmt.Errorf("mailto %q: address %q starts with '-'", to, a)
		}
	}
	return nil
}

// CheckSendmail reports whether path can name the program mail is sent
// with: an absolute path, or a name with no slash, looked up on the
// scheduler's PATH ("" is the default: sendmail).
func CheckSendmail(path string) error {
	if strings.ContainsAny(path, "\x00\r\n") || !filepath.IsAbs(path) && strings.Contains(path, "/") {
		return fmt.Errorf("sendmail %q: want an absolute path, or a program name looked up on PATH", path)
	}
	return nil
}

// DefaultSendmail is the program mail is sent with when none is named and
// PATH has no sendmail.
const DefaultSendmail = "/usr/sbin/sendmail"

// FindSendmail is the program that name (see CheckSendmail) stands for,
// as a scheduler running with this process's PATH finds it: "" is
// sendmail on PATH, else DefaultSendmail; a name with no slash is looked
// up on PATH; an absolute path must be an executable file.
func FindSendmail(name string) (string, error) {
	if name == "" {
		if p, err := exec.LookPath("sendmail"); err == nil {
			return p, nil
		}
		name = DefaultSendmail
	}
	if !filepath.IsAbs(name) {
		return exec.LookPath(name)
	}
	fi, err := os.Stat(name)
	switch {
	case err != nil:
		return "", err
	case fi.IsDir() || fi.Mode()&0o111 == 0:
		return "", fmt.Errorf("%s is not an executable file", name)
	}
	return name, nil
}
