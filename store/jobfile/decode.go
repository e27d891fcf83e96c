package jobfile

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/jobctl/jobctl/internal/listen"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// The file is decoded into plain maps and checked key by key, rather than
// into structs, so that one bad value does not hide the others: the toml
// library stops at its first type mismatch.

var (
	triggerKinds = []string{"cron", "every", "at", "on_start", "any", "all"}
	boundKeys    = []string{"timezone", "start", "end"}
	fieldKeys    = []string{"year", "month", "day", "week", "day_of_week", "hour", "minute", "second"}
	jobKeys      = slices.Concat([]string{"id", "name", "command"}, triggerKinds, boundKeys, []string{
		"misfire_grace_time", "coalesce", "max_instances", "executor", "timeout", "jitter", "dir", "env", "recover", "paused", "store",
		"mailto", "mail_on", "ping"}, policyKeys)
)

type decoder struct {
	name string
	src  []byte
	pos  map[string]Position
	errs Errors
	// zone is the zone of triggers that name none, once looked up;
	// zoneErr says why there is none.
	zone    string
	zoneErr error
}

func newDecoder(name string, src []byte) *decoder { return &decoder{name: name, src: src} }

// base is the directory relative dirs are read against: the file's own, or
// the working directory for a name with no directory ("stdin").
func (d *decoder) base() string {
	base, err := filepath.Abs(filepath.Dir(d.name))
	if err != nil { // no working directory: dirs stay relative, and Stat says why
		return filepath.Dir(d.name)
	}
	return base
}

// at is where path is written, or where the nearest enclosing key is (keys
// inside inline tables and array elements have no position of their own).
func (d *decoder) at(path string) Position {
	for path != "" {
		if p, ok := d.pos[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return Position{}
}

// errorf records an error at path; label names the key in the message.
func (d *decoder) errorf(path, label, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if label != "" {
		msg = label + ": " + msg
	}
	d.errs = append(d.errs, &Error{File: d.name, Pos: d.at(path), Msg: msg})
}

func (d *decoder) file() *File {
	// The keys' positions, for messages, are found while the TOML is
	// decoded: each scan of a large file takes a while. Both read the one
	// copy of the source; the scan ends on any input, and its result is
	// waited for even when the TOML is invalid (and the positions unused),
	// so that no goroutine outlives Parse.
	src := string(d.src)
	positions := make(chan map[string]Position, 1)
	go func() { positions <- keyPositions(src) }()
	var raw map[string]any
	_, err := toml.Decode(src, &raw)
	d.pos = <-positions
	if err != nil {
		e := &Error{File: d.name, Msg: err.Error()}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			e.Pos, e.Msg = Position{pe.Position.Line, pe.Position.Col}, pe.Message
		}
		d.errs = append(d.errs, e)
		return nil
	}
	f := &File{Name: d.name, Defaults: store.DefaultOptions()}
	d.unknown("", "", raw, "scheduler", "job_defaults", "executors", "stores", "listener", "job")
	if m, ok := d.table("scheduler", "scheduler", raw["scheduler"]); ok {
		d.scheduler(f, m)
	}
	if m, ok := d.table("job_defaults", "job_defaults", raw["job_defaults"]); ok {
		d.defaults(f, m)
	}
	if m, ok := d.table("executors", "executors", raw["executors"]); ok {
		d.executors(f, m)
	}
	if m, ok := d.table("stores", "stores", raw["stores"]); ok {
		d.stores(f, m)
	}
	for i, m := range d.tables("listener", raw["listener"]) {
		d.listener(f, i, m)
	}
	jobs := d.tables("job", raw["job"])
	seen := make(map[string]Position, len(jobs))
	f.Jobs = make([]Job, 0, len(jobs))
	for i, m := range jobs {
		j := d.job(f, i, m)
		if j.ID == "" {
			continue
		}
		path := "job[" + strconv.Itoa(i) + "].id"
		if first, dup := seen[j.ID]; dup {
			d.errorf(path, fmt.Sprintf("job %q", j.ID), "duplicate id (first at line %d)", first.Line)
			continue
		}
		seen[j.ID] = d.at(path)
		f.Jobs = append(f.Jobs, j)
	}
	return f
}

func (d *decoder) scheduler(f *File, m map[string]any) {
	d.unknown("scheduler", "scheduler", m, "timezone", "history_limit", "mailto", "sendmail", "ping", "ping_every", "http")
	if v, ok := m["http"]; ok {
		if addr, ok := d.str("scheduler.http", "scheduler.http", v); ok {
			if _, err := listen.Addr(addr); err != nil {
				d.errorf("scheduler.http", "scheduler.http", "%v", err)
			} else {
				f.Scheduler.HTTP = addr
			}
		}
	}
	if v, ok := m["timezone"]; ok {
		if tz, ok := d.str("scheduler.timezone", "scheduler.timezone", v); ok {
			if _, err := schedule.LoadLocation(tz); err != nil {
				d.errorf("scheduler.timezone", "scheduler.timezone", "%v", err)
			} else {
				f.Scheduler.Timezone = tz
			}
		}
	}
	if v, ok := m["history_limit"]; ok {
		if n, ok := d.integer("scheduler.history_limit", "scheduler.history_limit", v); ok {
			if n < 1 {
				d.errorf("scheduler.history_limit", "scheduler.history_limit", "%d is less than 1", n)
			} else {
				f.Scheduler.HistoryLimit = n
			}
		}
	}
	if v, ok := m["mailto"]; ok {
		if to, ok := d.mailTo("scheduler.mailto", "scheduler", v); ok {
			f.Scheduler.MailTo = to
		}
	}
	if v, ok := m["ping"]; ok {
		if u, ok := d.ping("scheduler.ping", "scheduler", v); ok {
			f.Scheduler.Ping = u
		}
	}
	if v, ok := m["ping_every"]; ok {
		if every, ok := d.duration("scheduler.ping_every", "scheduler.ping_every", v); ok {
			if err := store.CheckPingEvery(every); err != nil {
				d.errorf("scheduler.ping_every", "scheduler", "%v", err)
			} else {
				f.Scheduler.PingEvery = every
			}
		}
	}
	if v, ok := m["sendmail"]; ok {
		if s, ok := d.str("scheduler.sendmail", "scheduler.sendmail", v); ok {
			if err := store.CheckSendmail(s); err != nil {
				d.errorf("scheduler.sendmail", "scheduler", "%v", err)
			} else {
				f.Scheduler.Sendmail = s
			}
		}
	}
}

// mailTo reads a mailto value: addresses separated by commas, "" for none.
func (d *decoder) mailTo(path, label string, v any) (string, bool) {
	to, ok := d.str(path, label+": mailto", v)
	if !ok {
		return "", false
	}
	if err := store.CheckMailTo(to); err != nil {
		d.errorf(path, label, "%v", err)
		return "", false
	}
	return to, true
}

// ping reads a run monitor's URL, "" for none.
func (d *decoder) ping(path, label string, v any) (string, bool) {
	u, ok := d.str(path, label+": ping", v)
	if !ok {
		return "", false
	}
	if err := store.CheckPing(u); err != nil {
		d.errorf(path, label, "%v", err)
		return "", false
	}
	return u, true
}

func (d *decoder) defaults(f *File, m map[string]any) {
	d.unknown("job_defaults", "job_defaults", m, slices.Concat([]string{"coalesce", "max_instances", "misfire_grace_time", "recover", "mailto", "mail_on", "ping"}, policyKeys)...)
	d.options("job_defaults", "job_defaults", m, &f.Defaults)
}

// options reads the options that [job_defaults] and [[job]] share into o.
func (d *decoder) options(path, label string, m map[string]any, o *store.Options) {
	if v, ok := m["coalesce"]; ok {
		if b, ok := d.boolean(path+".coalesce", label+": coalesce", v); ok {
			o.Coalesce = b
		}
	}
	if v, ok := m["max_instances"]; ok {
		if n, ok := d.integer(path+".max_instances", label+": max_instances", v); ok {
			if n < 1 {
				d.errorf(path+".max_instances", label+": max_instances", "%d is less than 1", n)
			} else {
				o.MaxInstances = n
			}
		}
	}
	if v, ok := m["misfire_grace_time"]; ok {
		if g, ok := d.grace(path+".misfire_grace_time", label+": misfire_grace_time", v); ok {
			o.MisfireGrace = g
		}
	}
	if v, ok := m["recover"]; ok {
		if b, ok := d.boolean(path+".recover", label+": recover", v); ok {
			o.Recover = b
		}
	}
	d.policies(path, label, m, o)
	if v, ok := m["mailto"]; ok {
		if to, ok := d.mailTo(path+".mailto", label, v); ok {
			o.MailTo = &to
		}
	}
	if v, ok := m["ping"]; ok {
		if u, ok := d.ping(path+".ping", label, v); ok {
			o.Ping = u
		}
	}
	if v, ok := m["mail_on"]; ok {
		if s, ok := d.str(path+".mail_on", label+": mail_on", v); ok {
			if on, err := store.ParseMailOn(s); err != nil {
				d.errorf(path+".mail_on", label+": mail_on", "%v", err)
			} else {
				o.MailOn = on
			}
		}
	}
}

func (d *decoder) executors(f *File, m map[string]any) {
	for _, name := range sortedKeys(m) {
		path, label := "executors."+name, fmt.Sprintf("executors.%s", name)
		if err := store.CheckExecutorName(name); err != nil {
			d.errorf(path, "executors", "%v", err)
			continue
		}
		t, ok := d.table(path, label, m[name])
		if !ok {
			continue
		}
		d.unknown(path, label, t, "max_workers")
		e := Executor{Name: name, MaxWorkers: store.DefaultMaxWorkers}
		if v, ok := t["max_workers"]; ok {
			n, ok := d.integer(path+".max_workers", label+": max_workers", v)
			if !ok {
				continue
			}
			if n < 1 {
				d.errorf(path+".max_workers", label+": max_workers", "%d is less than 1", n)
				continue
			}
			e.MaxWorkers = n
		}
		f.Executors = append(f.Executors, e)
	}
}

func (d *decoder) listener(f *File, i int, m map[string]any) {
	path := fmt.Sprintf("listener[%d]", i)
	label := fmt.Sprintf("listener %d", i+1)
	d.unknown(path, label, m, "events", "command")
	l := Listener{Pos: d.at(path)}
	ok := true
	if v, has := m["events"]; !has {
		d.errorf(path, label, "no events (want e.g. events = [\"job_error\", \"job_missed\"])")
		ok = false
	} else if list, isList := d.array(path+".events", label+": events", v); isList {
		for k, e := range list {
			s, isStr := d.str(path+".events", fmt.Sprintf("%s: events[%d]", label, k), e)
			switch {
			case !isStr:
				ok = false
			case !slices.Contains(store.EventNames, s):
				d.errorf(path+".events", label+": events", "%q is not an event (want one of %s)", s, strings.Join(store.EventNames, ", "))
				ok = false
			default:
				l.Events = append(l.Events, s)
			}
		}
		if len(list) == 0 {
			d.errorf(path+".events", label+": events", "empty list")
			ok = false
		}
	} else {
		ok = false
	}
	var cmdOK bool
	if l.Command, cmdOK = d.command(path, label, m); ok && cmdOK {
		f.Listeners = append(f.Listeners, l)
	}
}

// command reads the required non-empty command key.
func (d *decoder) command(path, label string, m map[string]any) (string, bool) {
	v, has := m["command"]
	if !has {
		d.errorf(path, label, "no command")
		return "", false
	}
	s, isStr := d.str(path+".command", label+": command", v)
	if isStr && strings.TrimSpace(s) == "" {
		d.errorf(path+".command", label+": command", "empty")
		return "", false
	}
	return s, isStr
}

// job reads the i-th [[job]]; its ID is empty when it has no valid one.
// Errors in the job are recorded, and the job is only good without them.
func (d *decoder) job(f *File, i int, m map[string]any) Job {
	path := "job[" + strconv.Itoa(i) + "]"
	label := "job " + strconv.Itoa(i+1)
	j := Job{Pos: d.at(path)}
	if v, has := m["id"]; !has {
		d.errorf(path, label, "no id")
	} else if id, isStr := d.str(path+".id", label+": id", v); isStr {
		if err := store.CheckID(id); err != nil {
			d.errorf(path+".id", label, "%v", err)
		} else {
			j.ID = id
			label = "job " + strconv.Quote(id)
		}
	}
	d.unknown(path, label, m, jobKeys...)
	j.Command, _ = d.command(path, label, m)
	if v, has := m["name"]; has {
		if name, isStr := d.str(path+".name", label+": name", v); isStr {
			if err := store.CheckName(name); err != nil {
				d.errorf(path+".name", label, "%v", err)
			}
			j.Name = name
		}
	}

	spec, tpath, ok := d.trigger(path, label, m, true)
	j.TriggerPos = d.at(tpath)
	if ok {
		if spec.Timezone == "" {
			spec.Timezone, ok = d.defaultZone(f, tpath, label)
		}
	}
	if ok {
		if err := spec.Validate(); err != nil {
			d.errorf(tpath, label, "%v", err)
		}
	}
	j.Trigger = spec

	j.Options = f.Defaults
	d.options(path, label, m, &j.Options)
	for _, k := range []struct {
		key string
		to  *time.Duration
	}{{"timeout", &j.Options.Timeout}, {"jitter", &j.Options.Jitter}} {
		if v, has := m[k.key]; has {
			if dur, isDur := d.duration(path+"."+k.key, label+": "+k.key, v); isDur {
				if dur < 0 {
					d.errorf(path+"."+k.key, label+": "+k.key, "%s is negative", schedule.FormatDuration(dur))
				}
				*k.to = dur
			}
		}
	}
	if v, has := m["executor"]; has {
		if name, isStr := d.str(path+".executor", label+": executor", v); isStr {
			known := name == store.DefaultExecutor || slices.ContainsFunc(f.Executors, func(e Executor) bool { return e.Name == name })
			if !known {
				d.errorf(path+".executor", label+": executor", "%q is not defined (want default or the name of an [executors.NAME] table)", name)
			}
			j.Options.Executor = name
		}
	}
	if v, has := m["dir"]; has {
		if dir, isStr := d.str(path+".dir", label+": dir", v); isStr {
			if abs, err := ResolveDir(dir, d.base()); err != nil {
				d.errorf(path+".dir", label+": dir", "%v", err)
			} else {
				j.Options.Dir = abs
			}
		}
	}
	if v, has := m["env"]; has {
		j.Options.Env = d.env(path+".env", label+": env", v)
	}
	j.Store = d.jobStore(f, path, label, m)
	j.State = store.Active
	if v, has := m["paused"]; has {
		if p, isBool := d.boolean(path+".paused", label+": paused", v); isBool && p {
			j.State = store.Paused
		}
	}
	return j
}

// defaultZone is the zone of a job whose trigger names none: [scheduler]
// timezone, else the local zone's name, so that the stored job means the
// same instants to every process. A local zone with no name is reported at
// the first job that needs it.
func (d *decoder) defaultZone(f *File, path, label string) (string, bool) {
	if d.zone == "" && d.zoneErr == nil {
		d.zone, d.zoneErr = store.ZoneOr(f.Scheduler.Timezone)
		if d.zoneErr != nil {
			d.errorf(path, label, "%v", d.zoneErr)
		}
	}
	return d.zone, d.zoneErr == nil
}

// env reads a table of strings into sorted KEY=VALUE entries.
func (d *decoder) env(path, label string, v any) []string {
	m, ok := d.table(path, label, v)
	if !ok {
		return nil
	}
	var env []string
	for _, k := range sortedKeys(m) {
		s, ok := d.str(path+"."+k, label+"."+k, m[k])
		if !ok {
			continue
		}
		if err := store.CheckEnv(k + "=" + s); err != nil {
			d.errorf(path+"."+k, label, "%v", err)
			continue
		}
		env = append(env, k+"="+s)
	}
	return env
}

// trigger reads the trigger of a job (top) or of an element of any/all,
// returning it with the path of its key. Values are checked for their TOML
// types here and for their meaning by the caller, with Spec.Validate.
func (d *decoder) trigger(path, label string, m map[string]any, top bool) (schedule.Spec, string, bool) {
	var s schedule.Spec
	if !top {
		d.unknown(path, label, m, slices.Concat(triggerKinds, boundKeys)...)
	}
	var kinds []string
	for _, k := range triggerKinds {
		if _, ok := m[k]; ok {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		d.errorf(path, label, "no trigger (want one of cron, every, at, on_start, any or all)")
		return s, path, false
	case 1:
	default:
		d.errorf(path+"."+kinds[1], label, "several triggers (%s): want exactly one, or combine them with any or all", strings.Join(kinds, ", "))
		return s, path + "." + kinds[1], false
	}
	kind := kinds[0]
	kpath, klabel := path+"."+kind, label+": "+kind
	ok := true
	switch v := m[kind]; kind {
	case "cron":
		if t, isTable := v.(map[string]any); isTable {
			s.Fields, ok = d.fields(kpath, klabel, t)
		} else {
			s.Cron, ok = d.str(kpath, klabel, v)
		}
	case "every":
		s.Every, ok = d.durationText(kpath, klabel, v)
	case "at":
		s.At, ok = d.timeText(kpath, klabel, v)
	case "on_start":
		s.OnStart, ok = d.onStart(kpath, klabel, v)
	case "any", "all":
		list, isList := d.array(kpath, klabel, v)
		if !isList {
			return s, kpath, false
		}
		children := make([]schedule.Spec, 0, len(list))
		for i, e := range list {
			epath, elabel := fmt.Sprintf("%s[%d]", kpath, i), fmt.Sprintf("%s[%d]", klabel, i)
			t, isTable := d.table(epath, elabel, e)
			if !isTable {
				ok = false
				continue
			}
			c, _, cok := d.trigger(epath, elabel, t, false)
			ok = ok && cok
			children = append(children, c)
		}
		if kind == "any" {
			s.Any = children
		} else {
			s.All = children
		}
	}
	for _, b := range []struct {
		key string
		to  *string
	}{{"timezone", &s.Timezone}, {"start", &s.Start}, {"end", &s.End}} {
		v, has := m[b.key]
		if !has {
			continue
		}
		var bok bool
		if b.key == "timezone" {
			*b.to, bok = d.str(path+"."+b.key, label+": "+b.key, v)
		} else {
			*b.to, bok = d.timeText(path+"."+b.key, label+": "+b.key, v)
		}
		ok = ok && bok
	}
	return s, kpath, ok
}

// fields reads a table of keyword cron fields; APScheduler takes numbers
// as well as strings.
func (d *decoder) fields(path, label string, m map[string]any) (*schedule.Fields, bool) {
	var f schedule.Fields
	ok := len(d.errs)
	d.unknown(path, label, m, fieldKeys...)
	to := map[string]*string{"year": &f.Year, "month": &f.Month, "day": &f.Day, "week": &f.Week,
		"day_of_week": &f.DayOfWeek, "hour": &f.Hour, "minute": &f.Minute, "second": &f.Second}
	for _, k := range sortedKeys(m) {
		dst, known := to[k]
		if !known {
			continue
		}
		switch v := m[k].(type) {
		case string:
			*dst = v
		case int64:
			*dst = strconv.FormatInt(v, 10)
		default:
			d.errorf(path+"."+k, label+"."+k, "%s, want a string or an integer", describe(v))
		}
	}
	if f == (schedule.Fields{}) && len(d.errs) == ok {
		d.errorf(path, label, "no field given (want some of %s)", strings.Join(fieldKeys, ", "))
	}
	return &f, len(d.errs) == ok
}
