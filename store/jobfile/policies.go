package jobfile

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// The run policies of a job or of [job_defaults]: its retries and its
// overlap policy.

// policyKeys are the keys the run policies take.
var policyKeys = []string{"retries", "retry_delay", "retry_backoff", "retry_max_delay", "overlap"}

// policies reads the run policies of m into o.
func (d *decoder) policies(path, label string, m map[string]any, o *store.Options) {
	at := func(key string) (string, string) { return path + "." + key, label + ": " + key }
	r := o.Retry
	if v, ok := m["retries"]; ok {
		if n, ok := d.integer(path+".retries", label+": retries", v); ok {
			r.Max = n
		}
	}
	for _, k := range []struct {
		key string
		to  *time.Duration
	}{{"retry_delay", &r.Delay}, {"retry_max_delay", &r.MaxDelay}} {
		if v, ok := m[k.key]; ok {
			p, l := at(k.key)
			if dur, ok := d.duration(p, l, v); ok {
				*k.to = dur
			}
		}
	}
	if v, ok := m["retry_backoff"]; ok {
		p, l := at("retry_backoff")
		switch f := v.(type) {
		case float64:
			r.Backoff = f
		case int64:
			r.Backoff = float64(f)
		default:
			d.errorf(p, l, "%s, want a number such as 2 or 1.5", describe(v))
		}
	}
	if err := store.CheckRetry(r); err != nil {
		// It names the key, which may be [job_defaults]' rather than m's.
		key, msg, _ := strings.Cut(err.Error(), ": ")
		p := path
		if _, ok := m[key]; ok {
			p += "." + key
		}
		d.errorf(p, label+": "+key, "%s", msg)
	} else {
		o.Retry = r
	}
	if v, ok := m["overlap"]; ok {
		p, l := at("overlap")
		if s, ok := d.str(p, l, v); ok {
			if ov, err := store.ParseOverlap(s); err != nil {
				d.errorf(p, l, "%v", err)
			} else {
				o.Overlap = ov
			}
		}
	}
}

// policyPairs are the keys and TOML values of o's run policies that
// differ from def's.
func policyPairs(o, def store.Options) [][2]string {
	var kv [][2]string
	r, dr := o.Retry, def.Retry
	if r.Max != dr.Max {
		kv = append(kv, [2]string{"retries", strconv.Itoa(r.Max)})
	}
	if r.Delay != dr.Delay {
		kv = append(kv, [2]string{"retry_delay", tomlString(schedule.FormatDuration(r.Delay))})
	}
	if r.Backoff != dr.Backoff {
		kv = append(kv, [2]string{"retry_backoff", strconv.FormatFloat(r.Backoff, 'g', -1, 64)})
	}
	if r.MaxDelay != dr.MaxDelay {
		kv = append(kv, [2]string{"retry_max_delay", tomlString(schedule.FormatDuration(r.MaxDelay))})
	}
	if o.Overlap != def.Overlap {
		kv = append(kv, [2]string{"overlap", tomlString(o.Overlap.String())})
	}
	return kv
}

// policyPitfalls are warnings about j's run policies, given its trigger t,
// as of now: retries that outlast the time between two fire times, and a
// max_instances that allow_all ignores.
func policyPitfalls(j Job, t schedule.Trigger, now time.Time) []string {
	var out []string
	o := j.Options
	if o.Overlap == store.OverlapAllowAll && o.MaxInstances != 1 {
		out = append(out, fmt.Sprintf("max_instances = %d has no effect: overlap allow_all starts every fire time", o.MaxInstances))
	}
	if o.Retry.Max == 0 || t == nil {
		return out
	}
	first := t.Next(now)
	second := time.Time{}
	if !first.IsZero() {
		second = t.Next(first)
	}
	if second.IsZero() {
		return out
	}
	var span time.Duration
	for k := 1; k <= o.Retry.Max; k++ {
		span += o.Retry.After(k, 0)
	}
	gap := second.Sub(first)
	if span <= gap {
		return out
	}
	then := map[store.Overlap]string{
		store.OverlapSkip:           "the fire times that come meanwhile are skipped",
		store.OverlapBufferOne:      "the fire times that come meanwhile wait for them",
		store.OverlapBufferAll:      "the fire times that come meanwhile wait for them",
		store.OverlapCancelOther:    "the next fire time cancels them",
		store.OverlapTerminateOther: "the next fire time cancels them",
		store.OverlapAllowAll:       "they run beside the runs of the fire times that come meanwhile",
	}[o.Overlap]
	out = append(out, fmt.Sprintf("its %d retries wait %s in all after a failure, longer than the %s between its fire times: %s (overlap %s)",
		o.Retry.Max, schedule.FormatDuration(span), schedule.FormatDuration(gap), then, o.Overlap))
	return out
}
