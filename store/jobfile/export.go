package jobfile

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// Export writes jobs, and the settings a jobfile can hold (history limit,
// mailto, sendmail, executors, listeners), as a jobfile that Parse reads back to the same jobs
// and settings: applied to an empty store it gives the same ids, commands,
// triggers, options and paused states; a finished job's "now" is written as
// the instant it was, so that it stays finished. Options equal to
// DefaultOptions are left out. A broken job cannot be written; the caller
// leaves it out. An executor a job names that the settings do not hold
// (named with jobctl add) is declared with store.DefaultMaxWorkers, the size a
// scheduler gives it, since a jobfile must declare it.
func Export(settings store.Settings, jobs []*store.Job) ([]byte, error) {
	var b strings.Builder
	b.WriteString("# A jobctl jobfile, written by jobctl export. Apply it with: jobctl apply -f FILE\n")
	if settings.HistoryLimit != 0 || settings.MailTo != "" || settings.Sendmail != "" || settings.Ping != "" || settings.PingEvery != 0 {
		b.WriteString("\n[scheduler]\n")
		if settings.HistoryLimit != 0 {
			fmt.Fprintf(&b, "history_limit = %d\n", settings.HistoryLimit)
		}
		if settings.MailTo != "" {
			fmt.Fprintf(&b, "mailto = %s\n", tomlString(settings.MailTo))
		}
		if settings.Sendmail != "" {
			fmt.Fprintf(&b, "sendmail = %s\n", tomlString(settings.Sendmail))
		}
		if settings.Ping != "" {
			fmt.Fprintf(&b, "ping = %s\n", tomlString(settings.Ping))
		}
		if settings.PingEvery != 0 {
			fmt.Fprintf(&b, "ping_every = %s\n", tomlString(schedule.FormatDuration(settings.PingEvery)))
		}
	}
	executors := map[string]int{}
	for _, e := range settings.Executors {
		executors[e.Name] = e.MaxWorkers
	}
	for _, j := range jobs {
		if j.Broken != "" {
			return nil, fmt.Errorf("job %q is broken (%s)", j.ID, j.Broken)
		}
		if e := j.Options.Executor; e != store.DefaultExecutor && executors[e] == 0 {
			executors[e] = store.DefaultMaxWorkers
		}
	}
	for _, name := range slices.Sorted(maps.Keys(executors)) {
		fmt.Fprintf(&b, "\n[executors.%s]\nmax_workers = %d\n", tomlKey(name), executors[name])
	}
	for _, l := range settings.Listeners {
		events := make([]string, len(l.Events))
		for i, e := range l.Events {
			events[i] = tomlString(e)
		}
		fmt.Fprintf(&b, "\n[[listener]]\nevents = [%s]\ncommand = %s\n", strings.Join(events, ", "), tomlString(l.Command))
	}
	def := store.DefaultOptions()
	for _, j := range jobs {
		b.WriteString("\n[[job]]\n")
		kv := func(k, v string) { fmt.Fprintf(&b, "%s = %s\n", k, v) }
		kv("id", tomlString(j.ID))
		if j.Name != "" {
			kv("name", tomlString(j.Name))
		}
		kv("command", tomlString(j.Command))
		spec := j.Trigger
		if j.State == store.Finished {
			// "now" would be the apply's: the job would run again.
			spec = pinNow(spec, j.Anchor)
		}
		for _, p := range specPairs(spec) {
			kv(p[0], p[1])
		}
		o := j.Options
		if o.MisfireGrace != def.MisfireGrace {
			kv("misfire_grace_time", tomlString(FormatGrace(o.MisfireGrace)))
		}
		if o.Coalesce != def.Coalesce {
			kv("coalesce", strconv.FormatBool(o.Coalesce))
		}
		if o.MaxInstances != def.MaxInstances {
			kv("max_instances", strconv.Itoa(o.MaxInstances))
		}
		if o.Executor != def.Executor {
			kv("executor", tomlString(o.Executor))
		}
		if o.Timeout != 0 {
			kv("timeout", tomlString(schedule.FormatDuration(o.Timeout)))
		}
		if o.Jitter != 0 {
			kv("jitter", tomlString(schedule.FormatDuration(o.Jitter)))
		}
		if o.Dir != "" {
			kv("dir", tomlString(o.Dir))
		}
		if len(o.Env) > 0 {
			var items []string
			for _, e := range o.Env {
				k, v, _ := strings.Cut(e, "=")
				items = append(items, tomlKey(k)+" = "+tomlString(v))
			}
			kv("env", "{ "+strings.Join(items, ", ")+" }")
		}
		if o.Recover != def.Recover {
			kv("recover", strconv.FormatBool(o.Recover))
		}
		for _, p := range policyPairs(o, def) {
			kv(p[0], p[1])
		}
		if o.MailTo != nil {
			kv("mailto", tomlString(*o.MailTo))
		}
		if o.MailOn != def.MailOn {
			kv("mail_on", tomlString(o.MailOn.String()))
		}
		if o.Ping != "" {
			kv("ping", tomlString(o.Ping))
		}
		if j.State == store.Paused {
			kv("paused", "true")
		}
		if j.State == store.Finished {
			b.WriteString("# finished: the trigger has no fire times left\n")
		}
	}
	return []byte(b.String()), nil
}

// pinNow replaces every "now" in s with the instant it meant, anchor.
func pinNow(s schedule.Spec, anchor time.Time) schedule.Spec {
	for _, v := range []*string{&s.At, &s.Start, &s.End} {
		if strings.EqualFold(strings.TrimSpace(*v), "now") {
			*v = anchor.Format(time.RFC3339Nano)
		}
	}
	for _, list := range []*[]schedule.Spec{&s.Any, &s.All} {
		if *list != nil {
			children := make([]schedule.Spec, len(*list))
			for i, c := range *list {
				children[i] = pinNow(c, anchor)
			}
			*list = children
		}
	}
	return s
}

// specPairs writes a trigger as jobfile keys and TOML values.
func specPairs(s schedule.Spec) [][2]string {
	var ps [][2]string
	switch {
	case s.Cron != "":
		ps = append(ps, [2]string{"cron", tomlString(s.Cron)})
	case s.Fields != nil:
		f := s.Fields
		var items []string
		for _, kv := range [][2]string{{"year", f.Year}, {"month", f.Month}, {"day", f.Day}, {"week", f.Week},
			{"day_of_week", f.DayOfWeek}, {"hour", f.Hour}, {"minute", f.Minute}, {"second", f.Second}} {
			if kv[1] != "" {
				items = append(items, kv[0]+" = "+tomlString(kv[1]))
			}
		}
		ps = append(ps, [2]string{"cron", "{ " + strings.Join(items, ", ") + " }"})
	case s.Every != "":
		ps = append(ps, [2]string{"every", tomlString(s.Every)})
	case s.At != "":
		ps = append(ps, [2]string{"at", tomlString(s.At)})
	case s.OnStart != "":
		ps = append(ps, [2]string{"on_start", onStartValue(s.OnStart)})
	case s.Any != nil || s.All != nil:
		key, children := "any", s.Any
		if s.All != nil {
			key, children = "all", s.All
		}
		var items []string
		for _, c := range children {
			var kvs []string
			for _, p := range specPairs(c) {
				kvs = append(kvs, p[0]+" = "+p[1])
			}
			items = append(items, "{ "+strings.Join(kvs, ", ")+" }")
		}
		ps = append(ps, [2]string{key, "[" + strings.Join(items, ", ") + "]"})
	}
	for _, kv := range [][2]string{{"timezone", s.Timezone}, {"start", s.Start}, {"end", s.End}} {
		if kv[1] != "" {
			ps = append(ps, [2]string{kv[0], tomlString(kv[1])})
		}
	}
	return ps
}

// onStartAtOnce is the delay on_start = true stands for.
const onStartAtOnce = "0s"

// onStartValue writes an on_start delay: true for none, as people write it.
func onStartValue(delay string) string {
	if delay == onStartAtOnce {
		return "true"
	}
	return tomlString(delay)
}

// tomlString quotes s as a TOML basic string. Go's strconv.Quote is not
// TOML: it writes \x escapes.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteString(`\uFFFD`) // invalid UTF-8 cannot be written in TOML
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlKey writes k bare when TOML allows, else quoted.
func tomlKey(k string) string {
	for i := 0; i < len(k); i++ {
		if !isBare(k[i]) {
			return tomlString(k)
		}
	}
	if k == "" {
		return `""`
	}
	return k
}
