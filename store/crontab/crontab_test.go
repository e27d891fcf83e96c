package crontab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

var defaults = store.Options{MisfireGrace: schedule.Grace(time.Minute), Coalesce: true, MaxInstances: 1, Executor: "default"}

func parse(t *testing.T, text string, opts Options) *Result {
	t.Helper()
	if opts.Defaults.Executor == "" {
		opts.Defaults = defaults
	}
	res, err := Parse(strings.NewReader(text), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// summary is a Result as one line per entry, problem and warning.
func summary(res *Result) string {
	var b strings.Builder
	for _, e := range res.Entries {
		fmt.Fprintf(&b, "%d %s [%s] %q %q\n", e.Line, e.Job.ID, e.Job.Trigger, e.Job.Options.Env, e.Job.Command)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(&b, "problem %s\n", p)
	}
	for _, p := range res.Warnings {
		fmt.Fprintf(&b, "warning %s\n", p)
	}
	return b.String()
}

// The ids below are pinned: a change to how ids are derived would make the
// next import of an unchanged crontab add every job a second time.
func TestSampleFiles(t *testing.T) {
	for _, tc := range []struct {
		file string
		opts Options
		want string
	}{
		{"user.crontab", Options{}, `10 cron-8f4ff772 [cron 30 2 * * *] ["PATH=/usr/local/bin:/usr/bin:/bin" "SHELL=/bin/bash" "BACKUP_DIR=/srv/backup"] "exec /bin/bash -c 'pg_dump -Fc app > \"$BACKUP_DIR/app-$(date +%F).dump\"'"
11 cron-19a13a1e [cron 45 2 * * *] ["PATH=/usr/local/bin:/usr/bin:/bin" "SHELL=/bin/bash" "BACKUP_DIR=/srv/backup"] "exec /bin/bash -c 'find \"$BACKUP_DIR\" -name '\\''*.dump'\\'' -mtime +14 -delete'"
12 cron-d07a4e62 [cron */15 9-17 * * mon-fri] ["PATH=/usr/local/bin:/usr/bin:/bin" "SHELL=/bin/bash" "BACKUP_DIR=/srv/backup"] "exec /bin/bash -c 'curl -fsS https://example.com/healthz >/dev/null'"
13 cron-4f0607f6 [cron 0 0 1 * *] ["PATH=/usr/local/bin:/usr/bin:/bin" "SHELL=/bin/bash" "BACKUP_DIR=/srv/backup"] "{\nexec /bin/bash -c 'mail -s \"monthly report\" boss@example.com'\n} <<'CRON_STDIN'\nHello,\n\nthe report is attached.\nCRON_STDIN"
16 cron-550c145f [cron 0 9 * * 1-5 tz=America/New_York] ["PATH=/usr/local/bin:/usr/bin:/bin" "SHELL=/bin/bash" "BACKUP_DIR=/srv/backup"] "exec /bin/bash -c /home/alice/bin/standup-reminder"
17 cron-e5b2529c [cron @weekly tz=America/New_York] ["PATH=/usr/local/bin:/usr/bin:/bin" "SHELL=/bin/bash" "BACKUP_DIR=/srv/backup"] "exec /bin/bash -c /home/alice/bin/rotate-logs"
18 cron-fe5490c6 [at each scheduler start] ["PATH=/usr/local/bin:/usr/bin:/bin" "SHELL=/bin/bash" "BACKUP_DIR=/srv/backup"] "exec /bin/bash -c /home/alice/bin/start-tunnel"
`},
		{"debian.crontab", Options{System: true, User: "root"}, `19 cron-30d41514 [cron 17 * * * *] ["SHELL=/bin/sh"] "cd / && run-parts --report /etc/cron.hourly"
20 cron-4ec74d31 [cron 25 6 * * *] ["SHELL=/bin/sh"] "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }"
21 cron-cd6e98e3 [cron 47 6 * * 7] ["SHELL=/bin/sh"] "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.weekly; }"
22 cron-00986f40 [cron 52 6 1 * *] ["SHELL=/bin/sh"] "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.monthly; }"
`},
		{"webapp.cron.d", Options{System: true, User: "www-data", Prefix: "web-"}, `6 web-d293f591 [cron * * * * *] [] "cd /srv/webapp && php artisan schedule:run >> /dev/null 2>&1"
warning line 9: skipped: runs as root, and jobctl runs every job as the user of jobctl run (importing the lines of www-data)
`},
		{"errors.crontab", Options{}, `2 cron-5782262c [cron 0 3 * * *] [] "/usr/local/bin/backup"
13 cron-8b43fa7f [cron 0 7 * jan-dec sun-sat tz=Europe/Berlin] ["TZ=Europe/Berlin"] "/usr/local/bin/berlin"
problem line 3: cron: minute field: 61 is out of range 0-59
problem line 4: cron: day-of-week field: missing value (want 0-7 or sun-sat); is a field missing?
problem line 5: cron: unknown macro "@fortnightly" (want @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)
problem line 6: no command after five time fields
problem line 7: no command before the % that starts its input
problem line 8: "this line is not a job" is neither a job (five time fields or @macro, then the command) nor a variable (NAME=value)
problem line 10: time zone "Mars/Olympus_Mons": unknown (want an IANA name such as Europe/Berlin) (set by CRON_TZ on line 9)
`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join("..", "..", "testdata", "crontab", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(parse(t, string(text), tc.opts)); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestIDs(t *testing.T) {
	res := parse(t, "0 1 * * * echo a  b\n0\t1 * *  *   echo a  b  \n0 1 * * * echo a b\n0 1 * * * echo a  b\n", Options{Prefix: "x-"})
	var ids []string
	for _, e := range res.Entries {
		ids = append(ids, e.Job.ID)
	}
	// Blanks between fields and at the end do not count; inside the
	// command they do. A repeated line is a second job, as in cron.
	want := []string{"x-2d6c90b6", "x-2d6c90b6-2", "x-4eb26c27", "x-2d6c90b6-3"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %q, want %q", ids, want)
	}
	// A variable above a line changes the job, not its id, so a re-import
	// replaces the job.
	again := parse(t, "TZ=Europe/Paris\nFOO=1\n0 1 * * * echo a  b\n", Options{Prefix: "x-"})
	if got := again.Entries[0].Job.ID; got != "x-2d6c90b6" {
		t.Errorf("id with variables above: %s, want x-2d6c90b6", got)
	}
	sys := parse(t, "0 1 * * * root echo a  b\n", Options{System: true, User: "root"})
	if got := sys.Entries[0].Job.ID; got == "cron-2d6c90b6" || !strings.HasPrefix(got, DefaultPrefix) {
		t.Errorf("system id %s: want the default prefix, and the user counted in", got)
	}
}

func TestVariables(t *testing.T) {
	res := parse(t, `A=1
 B = two words 
C="quoted # not a comment"
D='single'
E=
A=3
MAILTO=""
CRON_TZ=Asia/Tokyo
TZ=Europe/Paris
0 1 * * * one
CRON_TZ=
0 2 * * * two
TZ=UTC
0 3 * * * three
`, Options{})
	env := []string{"A=3", "B=two words", "C=quoted # not a comment", "D=single", "E=", "TZ=Europe/Paris"}
	for i, want := range []struct {
		tz  string
		env []string
	}{
		{"Asia/Tokyo", env},
		{"Europe/Paris", env},
		{"UTC", append(env[:5:5], "TZ=UTC")},
	} {
		j := res.Entries[i].Job
		if j.Trigger.Timezone != want.tz || !reflect.DeepEqual(j.Options.Env, want.env) {
			t.Errorf("job %d: zone %q env %q, want %q %q", i+1, j.Trigger.Timezone, j.Options.Env, want.tz, want.env)
		}
	}
	if len(res.Problems)+len(res.Warnings) != 0 {
		t.Errorf("unexpected report:\n%s", summary(res))
	}

	bad := parse(t, "X.Y=2\nA-B = 3\n", Options{})
	want := "problem line 1: variable name \"X.Y\": want letters, digits and _, not starting with a digit\n" +
		"problem line 2: variable name \"A-B\": want letters, digits and _, not starting with a digit\n"
	if got := summary(bad); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestOptions(t *testing.T) {
	res := parse(t, "@REBOOT start-tunnel\n@daily backup\n", Options{})
	reboot, daily := res.Entries[0].Job, res.Entries[1].Job
	if !reflect.DeepEqual(reboot.Trigger, schedule.Spec{OnStart: "0s"}) || reboot.Options.MisfireGrace != schedule.NoGrace {
		t.Errorf("@reboot: trigger %v grace %v, want at each scheduler start and no grace", reboot.Trigger, reboot.Options.MisfireGrace)
	}
	if daily.Trigger.Cron != "@daily" || !reflect.DeepEqual(daily.Options, defaults) {
		t.Errorf("@daily: trigger %v options %+v, want the defaults %+v", daily.Trigger, daily.Options, defaults)
	}
}

func TestSystem(t *testing.T) {
	res := parse(t, "0 1 * * * root\n0 1 * * *\n61 1 * * * nobody x\n", Options{System: true, User: "root"})
	want := "problem line 1: no command after five time fields\n" +
		"problem line 2: no user after five time fields (a system crontab has one before the command)\n" +
		"problem line 3: cron: minute field: 61 is out of range 0-59\n"
	if got := summary(res); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestLines(t *testing.T) {
	res := parse(t, "# comment\r\n\r\n   \t\n  # indented comment\n0 1 * * * crlf\r\n0 1 * * * nul\x00byte\n", Options{})
	want := "5 cron-50715c84 [cron 0 1 * * *] [] \"crlf\"\nproblem line 6: contains a NUL byte, which no command can\n"
	if got := summary(res); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, err := Parse(strings.NewReader(strings.Repeat("x", maxLine+1)), Options{}); err == nil {
		t.Error("a line over the limit: no error")
	}
}

func TestSplitPercent(t *testing.T) {
	for _, tc := range []struct {
		in, cmd, input string
		hasInput       bool
	}{
		{"date +\\%F", "date +%F", "", false},
		{"cat%", "cat", "", true},
		{"cat%a%b", "cat", "a\nb", true},
		{"cat%a\\%b%%", "cat", "a%b\n\n", true},
		// A backslash escapes the byte after it, which may be a backslash.
		{"echo \\\\%x", "echo \\\\", "x", true},
		{"cat%a\\\\b\\c\\", "cat", "a\\\\b\\c", true},
	} {
		cmd, input, has := splitPercent(tc.in)
		if cmd != tc.cmd || input != tc.input || has != tc.hasInput {
			t.Errorf("splitPercent(%q) = %q, %q, %v; want %q, %q, %v", tc.in, cmd, input, has, tc.cmd, tc.input, tc.hasInput)
		}
	}
}

// TestCommandsRun runs converted commands with /bin/sh, as jobctl run does,
// to show that the input and the shell reach the command as cron gives them.
func TestCommandsRun(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	cases := []struct{ crontab, want string }{
		{"0 * * * * tr a-z A-Z | sed 's/^/:/'%ab%cd", ":AB\n:CD\n"},
		{"0 * * * * cat%a%CRON_STDIN%b%", "a\nCRON_STDIN\nb\n"},
		{"0 * * * * wc -c%", "0\n"},
		{"0 * * * * echo it\\'s 100\\%; echo done", "it's 100%\ndone\n"},
	}
	if _, err := exec.LookPath("bash"); err == nil {
		cases = append(cases,
			struct{ crontab, want string }{"SHELL=bash\n0 * * * * echo \"it's\" ${BASH_VERSION:+bash}", "it's bash\n"},
			struct{ crontab, want string }{"SHELL=bash\n0 * * * * read -r x; echo \"$x\" ${BASH_VERSION:+bash}%in", "in bash\n"},
		)
	}
	for _, tc := range cases {
		res := parse(t, tc.crontab, Options{})
		if len(res.Entries) != 1 {
			t.Fatalf("%q: %s", tc.crontab, summary(res))
		}
		c := exec.Command("sh", "-c", res.Entries[0].Job.Command)
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		if err := c.Run(); err != nil || strings.TrimLeft(out.String(), " ") != tc.want {
			t.Errorf("%q as %q: %q (%v), want %q", tc.crontab, res.Entries[0].Job.Command, out.String(), err, tc.want)
		}
	}
}

// FuzzParse checks that any input converts without panicking into jobs with
// valid triggers and distinct ids, each line reported at most once.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "crontab", "*"))
	for _, name := range files {
		text, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(text), strings.Contains(name, "debian") || strings.Contains(name, "cron.d"))
	}
	f.Add("SHELL=/bin/bash\n0 * * * * cat%a\\%b%CRON_STDIN%", false)
	f.Fuzz(func(t *testing.T, text string, system bool) {
		res, err := Parse(strings.NewReader(text), Options{System: system, User: "root", Defaults: defaults})
		if err != nil {
			return
		}
		lines, ids := map[int]bool{}, map[string]bool{}
		for _, e := range res.Entries {
			if err := e.Job.Trigger.Validate(); err != nil {
				t.Errorf("line %d: invalid trigger %v: %v", e.Line, e.Job.Trigger, err)
			}
			if ids[e.Job.ID] || lines[e.Line] {
				t.Errorf("line %d: id %s or line given twice", e.Line, e.Job.ID)
			}
			ids[e.Job.ID], lines[e.Line] = true, true
		}
		for _, p := range res.Problems {
			if lines[p.Line] {
				t.Errorf("line %d both converted and a problem", p.Line)
			}
			lines[p.Line] = true
		}
	})
}

// TestLongPrefix: every id an import makes fits store.MaxIDLen, or its line
// is a Problem; CheckPrefix counts the hash digits the prefix is followed by.
func TestLongPrefix(t *testing.T) {
	max := strings.Repeat("p", store.MaxIDLen-hashDigits)
	if err := CheckPrefix(max); err != nil {
		t.Errorf("a prefix of %d bytes: %v", len(max), err)
	}
	if err := CheckPrefix(max + "q"); err == nil || !strings.Contains(err.Error(), "ids would be 65 bytes, over the limit of 64 (want a prefix of at most 56 bytes)") {
		t.Errorf("a prefix of %d bytes: %v", len(max)+1, err)
	}
	if err := CheckPrefix("a b"); err == nil || !strings.Contains(err.Error(), "contains ' '") {
		t.Errorf("a prefix with a space: %v", err)
	}
	res := parse(t, "0 1 * * * echo a\n0 1 * * * echo a\n", Options{Prefix: max})
	if len(res.Entries) != 1 || len(res.Entries[0].Job.ID) != store.MaxIDLen {
		t.Errorf("entries %+v, want one with an id of %d bytes", res.Entries, store.MaxIDLen)
	}
	if len(res.Problems) != 1 || res.Problems[0].Line != 2 || !strings.Contains(res.Problems[0].Reason, "is longer than 64 bytes (use a shorter prefix)") {
		t.Errorf("problems %+v, want line 2: the repeated line's id is too long", res.Problems)
	}
	if res := parse(t, "0 1 * * * echo a\n", Options{Prefix: max + "q"}); len(res.Entries) != 0 || len(res.Problems) != 1 {
		t.Errorf("an unchecked prefix too long: %+v", res)
	}
}

// MAILTO is the mailto of the lines below it, as in cron: MAILTO=""
// mails nothing, and above any MAILTO a job mails where the scheduler
// does. MAILTO is not passed to the commands.
func TestMailTo(t *testing.T) {
	res := parse(t, `0 1 * * * first
MAILTO=ops@example.com
0 2 * * * second
MAILTO="a@example.com, b@example.com"
0 3 * * * third
MAILTO=""
0 4 * * * fourth
MAILTO=bad address
MAILFROM=cron@example.com
0 5 * * * fifth
`, Options{})
	var got []string
	for _, e := range res.Entries {
		to := "<scheduler's>"
		if e.Job.Options.MailTo != nil {
			to = strconv.Quote(*e.Job.Options.MailTo)
		}
		got = append(got, fmt.Sprintf("%d %s %q", e.Line, to, e.Job.Options.Env))
	}
	want := []string{`1 <scheduler's> []`, `3 "ops@example.com" []`, `5 "a@example.com, b@example.com" []`, `7 "" []`, `10 "" []`}
	if !slices.Equal(got, want) {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Problems) != 1 || res.Problems[0].Line != 8 || !strings.Contains(res.Problems[0].Reason, `address "bad address" contains ' '`) {
		t.Errorf("problems %v, want line 8's bad address", res.Problems)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Line != 9 || !strings.Contains(res.Warnings[0].Reason, "MAILFROM ignored") {
		t.Errorf("warnings %v, want line 9's MAILFROM", res.Warnings)
	}
}
