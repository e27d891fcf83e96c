package store

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jobctl/jobctl/schedule"
)

// The checks every job passes before it is stored, whoever creates it.

// MaxIDLen bounds ids, in bytes: they are typed, printed in tables and used
// as keys.
const MaxIDLen = 64

// CheckID reports whether id can name a job or an executor: 1 to 64 bytes
// of UTF-8, printable characters with no whitespace or slash, not starting
// with "-" (it would read as a flag).
func CheckID(id string) error { return checkIdent("id", id) }

// checkIdent checks an id or an executor's name; what names it in errors.
func checkIdent(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty %s", what)
	case len(name) > MaxIDLen:
		return fmt.Errorf("%s %q is longer than %d bytes", what, name, MaxIDLen)
	case strings.HasPrefix(name, "-"):
		return fmt.Errorf("%s %q starts with '-'", what, name)
	case !utf8.ValidString(name):
		// Ranging over it would read each bad byte as U+FFFD, a printable
		// character; stored, the id could be neither typed nor exported.
		return fmt.Errorf("%s %q is not valid UTF-8", what, name)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || r == '/' || !unicode.IsPrint(r) {
			return fmt.Errorf("%s %q contains %q (want no whitespace, slash or control characters)", what, name, r)
		}
	}
	return nil
}

// CheckName reports whether name can be a job's name: any text for people,
// spaces included, but UTF-8 with no control characters or line breaks. A
// newline or an escape sequence in a name would break the lines of every
// table that shows it, or drive the terminal showing it.
func CheckName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("name %q is not valid UTF-8", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("name %q contains %q (want no control characters or line breaks)", name, r)
		}
	}
	return nil
}

// MinGrace is the shortest misfire grace time. A process starts some
// milliseconds after its fire time, so a shorter grace would have every run
// missed; APScheduler refuses less than a second too.
const MinGrace = schedule.Grace(time.Second)

// CheckGrace refuses a grace time below MinGrace (none is NoGrace).
func CheckGrace(g schedule.Grace) error {
	if g != schedule.NoGrace && g < MinGrace {
		return fmt.Errorf("%s is less than %s: every run would be missed, as no process starts exactly on time (want at least %s, or none)",
			schedule.FormatDuration(time.Duration(g)), schedule.FormatDuration(time.Duration(MinGrace)), schedule.FormatDuration(time.Duration(MinGrace)))
	}
	return nil
}

var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckEnv reports whether kv is a valid KEY=VALUE environment entry.
func CheckEnv(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	switch {
	case !ok:
		return fmt.Errorf("%q is not KEY=VALUE", kv)
	case !envKey.MatchString(k):
		return fmt.Errorf("%q: %q is not a variable name (letters, digits and _, not starting with a digit)", kv, k)
	case strings.ContainsRune(v, 0):
		return fmt.Errorf("%q: the value contains a NUL byte", kv)
	}
	return nil
}

// CheckOptions reports the first invalid option, naming it as the jobfile
// does.
func CheckOptions(o Options) error {
	if err := CheckGrace(o.MisfireGrace); err != nil {
		return fmt.Errorf("misfire_grace_time: %w", err)
	}
	switch {
	case o.MaxInstances < 1:
		return fmt.Errorf("max_instances: %d is less than 1", o.MaxInstances)
	case o.Timeout < 0:
		return fmt.Errorf("timeout: %s is negative", o.Timeout)
	case o.Jitter < 0:
		return fmt.Errorf("jitter: %s is negative", o.Jitter)
	}
	if err := CheckExecutorName(o.Executor); err != nil {
		return err
	}
	if err := CheckRetry(o.Retry); err != nil {
		return err
	}
	if _, err := ParseOverlap(string(o.Overlap)); err != nil {
		return fmt.Errorf("overlap: %w", err)
	}
	for _, kv := range o.Env {
		if err := CheckEnv(kv); err != nil {
			return fmt.Errorf("env: %w", err)
		}
	}
	if o.MailTo != nil {
		if err := CheckMailTo(*o.MailTo); err != nil {
			return err
		}
	}
	if _, err := ParseMailOn(o.MailOn.String()); err != nil {
		return fmt.Errorf("mail_on: %w", err)
	}
	return CheckPing(o.Ping)
}

// CheckExecutorName reports whether name can name an executor: the rules
// of an id.
func CheckExecutorName(name string) error { return checkIdent("executor name", name) }

// CheckStoreName reports whether name can name a store (a jobfile's
// [stores.NAME], jobctl --store): the rules of an id, so that it is typed
// and logged as one.
func CheckStoreName(name string) error { return checkIdent("store name", name) }

// CheckRetry reports the first invalid part of a retry policy, named as
// the jobfile names it.
func CheckRetry(r schedule.Retry) error {
	switch {
	case r.Max < 0 || r.Max > schedule.MaxRetries:
		return fmt.Errorf("retries: %d is out of range 0-%d", r.Max, schedule.MaxRetries)
	case r.Delay < 0:
		return fmt.Errorf("retry_delay: %s is negative", r.Delay)
	case r.Backoff != 0 && !(r.Backoff >= 1 && r.Backoff <= 100):
		return fmt.Errorf("retry_backoff: %v is out of range 1-100 (1: the same delay each time)", r.Backoff)
	case r.MaxDelay < 0:
		return fmt.Errorf("retry_max_delay: %s is negative", r.MaxDelay)
	case r.MaxDelay > 0 && r.Delay > r.MaxDelay:
		return fmt.Errorf("retry_max_delay: %s is less than the retry delay %s", schedule.FormatDuration(r.MaxDelay), schedule.FormatDuration(r.Delay))
	}
	return nil
}
