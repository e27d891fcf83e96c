// Package crontab converts a crontab file into jobs, for jobctl import. It
// reads the file only: the caller decides what to store.
//
// What a crontab line becomes:
//
//   - A job line ("m h dom mon dow command", or "@daily command") is a job
//     with a cron trigger on the same five fields and the command. Its id is
//     the prefix and the first 8 hex digits of the SHA-256 of the normalised
//     line (fields separated by one space, the command trimmed), so importing
//     the same file twice gives the same ids; a line repeated in the file
//     gets "-2", "-3" after the id, as cron runs it that many times. An id
//     store.CheckID refuses (a prefix too long) makes the line a Problem.
//   - "NAME=value" lines (with cron's optional spaces around "=" and optional
//     quotes around the value) are environment variables of the job lines
//     below them, recorded in the job's Env. CRON_TZ is the time zone of the
//     triggers below it; TZ is passed to the jobs and is also the triggers'
//     zone where no CRON_TZ is set (with neither, Options.Zone: the
//     importer's local zone, as cron reads them in its own). MAILTO is the
//     MailTo of the job lines below it, as in cron (MAILTO="" mails
//     nothing); above the first MAILTO, a job mails where the scheduler
//     does. MAILFROM is dropped with a warning.
//   - SHELL is recorded in Env and, unless it is /bin/sh, the command is
//     wrapped as "exec SHELL -c 'command'": jobctl runs every command with
//     one shell of its own, and a crontab written for bash must keep running
//     under bash.
//   - The command's first unescaped "%" starts its standard input, in which
//     every further unescaped "%" is a newline ("\%" is a literal "%"). The
//     command becomes a brace group fed by a here-document, so the input
//     reaches the whole command, a pipeline included, as cron gives it.
//   - @reboot is a job with the on-start trigger (no delay) and no misfire
//     grace: it runs at each start of jobctl run, however late that start's
//     run gets to begin (a full executor, a scheduler started paused); not
//     at the import, even if a scheduler is running.
//   - With System (Debian's /etc/crontab and /etc/cron.d), a user column
//     follows the schedule. jobctl runs every job as the user running jobctl
//     run, so only the lines of Options.User are imported; the others are
//     skipped with a warning rather than run as the wrong user.
//
// Comments and blank lines are ignored. A line that cannot be converted is
// reported as a Problem with its line number and the reason, and the other
// lines are still converted.
package crontab

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jobctl/jobctl/internal/shell"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// DefaultPrefix starts the id of every imported job unless Options say
// otherwise.
const DefaultPrefix = "cron-"

// hashDigits is how many hex digits of the line's hash follow the prefix in
// an id.
const hashDigits = 8

// CheckPrefix reports whether prefix can start the ids of imported jobs: an
// id is the prefix and hashDigits hex digits, and must pass store.CheckID,
// which bounds it to store.MaxIDLen bytes.
func CheckPrefix(prefix string) error {
	if n := len(prefix) + hashDigits; n > store.MaxIDLen {
		return fmt.Errorf("%q is %d bytes: with the %d hex digits of a line's hash after it, ids would be %d bytes, over the limit of %d (want a prefix of at most %d bytes)",
			prefix, len(prefix), hashDigits, n, store.MaxIDLen, store.MaxIDLen-hashDigits)
	}
	return store.CheckID(prefix + strings.Repeat("0", hashDigits))
}

// maxLine bounds a line; cron itself refuses much shorter ones.
const maxLine = 1 << 20

// Options say how to read a crontab.
type Options struct {
	// System reads a user column after the schedule, as in /etc/crontab.
	System bool
	// User is whose lines are imported with System.
	User string
	// Prefix starts every id; "" is DefaultPrefix.
	Prefix string
	// Defaults are the options every job starts from (misfire grace,
	// coalesce, max instances, executor); Env is replaced by the crontab's
	// variables.
	Defaults store.Options
	// Zone is the zone of the triggers where the crontab sets neither
	// CRON_TZ nor TZ: the importer's local zone, as cron reads them in its
	// own.
	Zone string
}

// Entry is a job converted from a line of the crontab.
type Entry struct {
	Line int // 1-based
	// Job has the ID, Command, Trigger and Options; the caller sets the
	// rest (state, anchor, times) when it stores the job.
	Job store.Job
}

// Problem is a line that was not converted, or a warning about one.
type Problem struct {
	Line   int
	Reason string
}

func (p Problem) String() string { return "line " + strconv.Itoa(p.Line) + ": " + p.Reason }

// Result is a converted crontab.
type Result struct {
	Entries  []Entry
	Problems []Problem // lines not converted
	Warnings []Problem // lines converted or deliberately skipped, with a caveat
}

// Parse converts the crontab read from r. Its error is about reading r only;
// lines it cannot convert are Problems in the Result.
func Parse(r io.Reader, opts Options) (*Result, error) {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	p := parser{opts: opts, res: &Result{}, seen: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxLine)
	for n := 1; sc.Scan(); n++ {
		p.line(n, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return p.res, nil
}

type parser struct {
	opts Options
	res  *Result
	env  []string // KEY=VALUE in the order first set
	// cronTZ is cron's own setting, not passed to commands.
	cronTZ     string
	cronTZLine int
	tzLine     int // where TZ was last set
	seen       map[string]int
	// mailTo is the last MAILTO above the current line; nil: none.
	mailTo *string
	// warnedMail keeps the MAILFROM warning to the first line that sets it.
	warnedMail bool
}

func (p *parser) problem(n int, format string, args ...any) {
	p.res.Problems = append(p.res.Problems, Problem{n, fmt.Sprintf(format, args...)})
}

func (p *parser) warn(n int, format string, args ...any) {
	p.res.Warnings = append(p.res.Warnings, Problem{n, fmt.Sprintf(format, args...)})
}

func (p *parser) line(n int, text string) {
	s := strings.TrimLeft(text, " \t")
	switch {
	case s == "" || s[0] == '#':
	case strings.IndexByte(s, 0) >= 0:
		p.problem(n, "contains a NUL byte, which no command can")
	case s[0] == '@' || s[0] == '*' || s[0] >= '0' && s[0] <= '9':
		p.job(n, s)
	case strings.Contains(s, "="):
		p.variable(n, s)
	default:
		p.problem(n, "%q is neither a job (five time fields or @macro, then the command) nor a variable (NAME=value)", s)
	}
}

// variable reads a NAME=value line the way Vixie cron's load_env does.
func (p *parser) variable(n int, s string) {
	name, value, _ := strings.Cut(s, "=")
	name = strings.TrimRight(name, " \t")
	if !validName(name) {
		p.problem(n, "variable name %q: want letters, digits and _, not starting with a digit", name)
		return
	}
	value = strings.Trim(value, " \t")
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		value = value[1 : len(value)-1]
	}
	switch name {
	case "CRON_TZ":
		p.cronTZ, p.cronTZLine = value, n
		return
	case "MAILTO":
		if err := store.CheckMailTo(value); err != nil {
			p.problem(n, "%v", err)
			return
		}
		p.mailTo = &value
		return
	case "MAILFROM":
		if !p.warnedMail && value != "" {
			p.warnedMail = true
			p.warn(n, "MAILFROM ignored: jobctl mails from the user jobctl run runs as")
		}
		return
	case "TZ":
		p.tzLine = n
	}
	for i, kv := range p.env {
		if strings.HasPrefix(kv, name+"=") {
			p.env[i] = name + "=" + value
			return
		}
	}
	p.env = append(p.env, name+"="+value)
}

func validName(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// zone is the time zone of the triggers (CRON_TZ, else TZ, else none) and
// where it was set.
func (p *parser) zone() (name, from string) {
	if p.cronTZ != "" {
		return p.cronTZ, "CRON_TZ on line " + strconv.Itoa(p.cronTZLine)
	}
	return p.lookup("TZ"), "TZ on line " + strconv.Itoa(p.tzLine)
}

// lookup returns the value of a variable set above the current line.
func (p *parser) lookup(name string) string {
	for _, kv := range p.env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

func (p *parser) job(n int, s string) {
	var when []string
	want := "five time fields"
	if strings.HasPrefix(s, "@") {
		want = "a macro"
		var f string
		f, s = cutField(s)
		when = []string{strings.ToLower(f)}
	} else {
		for len(when) < 5 && s != "" {
			var f string
			f, s = cutField(s)
			when = append(when, f)
		}
		if len(when) < 5 {
			p.problem(n, "%d time fields, want 5 (minute hour day-of-month month day-of-week) and a command", len(when))
			return
		}
	}
	var user string
	if p.opts.System {
		if user, s = cutField(s); user == "" {
			p.problem(n, "no user after %s (a system crontab has one before the command)", want)
			return
		}
	}
	spec := schedule.Spec{Timezone: p.opts.Zone}
	if when[0] == "@reboot" {
		spec.OnStart = "0s"
	} else {
		spec.Cron = strings.Join(when, " ")
		if tz, from := p.zone(); tz != "" {
			if _, err := schedule.LoadLocation(tz); err != nil {
				p.problem(n, "%v (set by %s)", err, from)
				return
			}
			spec.Timezone = tz
		}
		// Before looking for the command: a missing field leaves the
		// command in the day-of-week field, and the error says which.
		if err := spec.Validate(); err != nil {
			if strings.TrimSpace(s) == "" {
				p.problem(n, "%v; is a field missing?", err)
			} else {
				p.problem(n, "%v", err)
			}
			return
		}
	}
	if p.opts.System && user != p.opts.User {
		p.warn(n, "skipped: runs as %s, and jobctl runs every job as the user of jobctl run (importing the lines of %s)", user, p.opts.User)
		return
	}
	command := strings.TrimRight(s, " \t")
	if command == "" {
		p.problem(n, "no command after %s", want)
		return
	}
	cmd, input, hasInput := splitPercent(command)
	if strings.TrimSpace(cmd) == "" {
		p.problem(n, "no command before the %% that starts its input")
		return
	}

	norm := strings.Join(when, " ")
	if user != "" {
		norm += " " + user
	}
	norm += " " + command
	sum := sha256.Sum256([]byte(norm))
	id := p.opts.Prefix + hex.EncodeToString(sum[:hashDigits/2])
	if p.seen[id]++; p.seen[id] > 1 {
		id += "-" + strconv.Itoa(p.seen[id])
	}
	// CheckPrefix leaves room for the hash, not for the suffix of a
	// repeated line; and a caller may not have checked at all.
	if err := store.CheckID(id); err != nil {
		p.problem(n, "%v (use a shorter prefix)", err)
		return
	}

	opts := p.opts.Defaults
	opts.MailTo = p.mailTo
	opts.Env = nil
	if len(p.env) > 0 {
		opts.Env = append([]string(nil), p.env...)
	}
	if spec.OnStart != "" {
		// @reboot: cron runs it at every boot, however busy.
		opts.MisfireGrace = schedule.NoGrace
	}
	p.res.Entries = append(p.res.Entries, Entry{
		Line: n,
		Job: store.Job{
			ID:      id,
			Command: shellCommand(cmd, input, hasInput, p.lookup("SHELL")),
			Trigger: spec,
			Options: opts,
		},
	})
}

// cutField splits off the first blank-separated field of s.
func cutField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// shellCommand turns a crontab command, split by splitPercent, into one
// for /bin/sh -c: the input becomes a here-document, and a SHELL other than
// sh runs the command.
func shellCommand(cmd, input string, hasInput bool, sh string) string {
	if sh != "" && sh != "/bin/sh" {
		cmd = "exec " + shell.Quote(sh) + " -c " + shell.Quote(cmd)
	}
	if !hasInput {
		return cmd
	}
	delim := "CRON_STDIN"
	for i := 2; containsLine(input, delim); i++ {
		delim = "CRON_STDIN_" + strconv.Itoa(i)
	}
	// As cron does, the input ends with a newline unless it is empty.
	if input != "" && !strings.HasSuffix(input, "\n") {
		input += "\n"
	}
	return "{\n" + cmd + "\n} <<'" + delim + "'\n" + input + delim
}

// splitPercent applies cron's "%" rule, byte for byte as Vixie cron's
// do_command does: the command ends at the first unescaped "%", and later
// unescaped ones are newlines; a backslash escapes the byte after it, and
// "\%" stands for "%".
func splitPercent(command string) (cmd, input string, hasInput bool) {
	var out []byte
	escaped := false
	i := 0
	for ; i < len(command) && !hasInput; i++ {
		switch c := command[i]; {
		case escaped && c == '%':
			out[len(out)-1] = '%' // in place of the backslash
			escaped = false
		case escaped:
			out = append(out, c)
			escaped = false
		case c == '%':
			hasInput = true
		default:
			out = append(out, c)
			escaped = c == '\\'
		}
	}
	if !hasInput {
		return string(out), "", false
	}
	cmd, out, escaped = string(out), nil, false
	for ; i < len(command); i++ {
		c := command[i]
		if escaped {
			if c != '%' {
				out = append(out, '\\')
			}
		} else if c == '%' {
			c = '\n'
		}
		if escaped = c == '\\'; !escaped {
			out = append(out, c)
		}
	}
	return cmd, string(out), true
}

func containsLine(text, line string) bool {
	for l := range strings.SplitSeq(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}
