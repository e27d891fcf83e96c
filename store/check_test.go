package store

import (
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
)

// wantErr reports whether err is what want says: nil for "", else an error
// containing want.
func wantErr(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}

// TestCheckID covers what ids and executor names may hold: the same rule
// serves flags, jobfiles and executors.
func TestCheckID(t *testing.T) {
	for _, tt := range []struct{ id, want string }{
		{"backup-1.daily", ""},
		{"日本語", ""},
		{"", "empty id"},
		{"a b", `id "a b" contains ' '`},
		{"a/b", `id "a/b" contains '/'`},
		{"-x", `id "-x" starts with '-'`},
		{"a\x1b[31m", `id "a\x1b[31m" contains '\x1b'`},
		{"\xff", `id "\xff" is not valid UTF-8`},
		{"caf\xe9", `id "caf\xe9" is not valid UTF-8`},
		{strings.Repeat("x", 65), "is longer than 64 bytes"},
	} {
		if err := CheckID(tt.id); !wantErr(err, tt.want) {
			t.Errorf("CheckID(%q) = %v, want %q", tt.id, err, tt.want)
		}
	}
	if err := CheckExecutorName("a b"); !wantErr(err, `executor name "a b" contains ' '`) {
		t.Errorf(`CheckExecutorName("a b") = %v`, err)
	}
}

func TestCheckName(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"", ""},
		{"nightly backup (home)", ""},
		{"日本語 ✓", ""},
		{"a\nb", `name "a\nb" contains '\n'`},
		{"a\tb", `name "a\tb" contains '\t'`},
		{"\x1b[2J", `contains '\x1b'`},
		{"a\u2028b", `contains '\u2028'`},
		{"\xff", "is not valid UTF-8"},
	} {
		if err := CheckName(tt.name); !wantErr(err, tt.want) {
			t.Errorf("CheckName(%q) = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestCheckEnv(t *testing.T) {
	for _, tt := range []struct{ kv, want string }{
		{"A=1", ""},
		{"_x9=", ""},
		{"PATH=/bin:/usr/bin=x", ""},
		{"A", "is not KEY=VALUE"},
		{"=x", `"" is not a variable name`},
		{"1A=x", `"1A" is not a variable name`},
		{"A-B=x", `"A-B" is not a variable name`},
		{"A=a\x00b", "NUL byte"},
	} {
		if err := CheckEnv(tt.kv); !wantErr(err, tt.want) {
			t.Errorf("CheckEnv(%q) = %v, want %q", tt.kv, err, tt.want)
		}
	}
}

// TestCheckOptions: each bad option is named as the jobfile names it.
func TestCheckOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(*Options)
		want string
	}{
		{"defaults", func(*Options) {}, ""},
		{"no grace", func(o *Options) { o.MisfireGrace = schedule.NoGrace }, ""},
		{"grace", func(o *Options) { o.MisfireGrace = schedule.Grace(500 * time.Millisecond) }, "misfire_grace_time: 500ms is less than 1s"},
		{"max instances", func(o *Options) { o.MaxInstances = 0 }, "max_instances: 0 is less than 1"},
		{"timeout", func(o *Options) { o.Timeout = -time.Second }, "timeout: -1s is negative"},
		{"jitter", func(o *Options) { o.Jitter = -time.Second }, "jitter: -1s is negative"},
		{"executor", func(o *Options) { o.Executor = "\xfe" }, "not valid UTF-8"},
		{"no executor", func(o *Options) { o.Executor = "" }, "empty executor name"},
		{"env", func(o *Options) { o.Env = []string{"A=1", "B"} }, `env: "B" is not KEY=VALUE`},
	} {
		o := DefaultOptions()
		tt.set(&o)
		if err := CheckOptions(o); !wantErr(err, tt.want) {
			t.Errorf("%s: CheckOptions(%+v) = %v, want %q", tt.name, o, err, tt.want)
		}
	}
}
