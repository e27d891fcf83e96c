package jobfile

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jobctl/jobctl/schedule"
)

// The decoder's readers of single values: each checks a value's TOML type
// (and, for durations and times, its syntax), records an error naming the
// key and the value when it is wrong, and says whether the value is good.

// unknown reports every key of m not in allowed, by name.
func (d *decoder) unknown(path, label string, m map[string]any, allowed ...string) {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(allowed, k) {
			where := label
			if where == "" {
				where = "top level"
			}
			d.errorf(joinPath(path, k), "", "unknown key %q in %s (want one of %s)", k, where, strings.Join(allowed, ", "))
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// describe names a TOML value's type, with the value, for errors.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q is a string", v)
	case int64:
		return fmt.Sprintf("%d is an integer", v)
	case float64:
		return fmt.Sprintf("%v is a float", v)
	case bool:
		return fmt.Sprintf("%v is a boolean", v)
	case time.Time:
		return fmt.Sprintf("%v is a datetime", v)
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%v is a %T", v, v)
}

// table reads an optional table (nil: absent, ok false).
func (d *decoder) table(path, label string, v any) (map[string]any, bool) {
	if v == nil {
		return nil, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		d.errorf(path, label, "%s, want a table", describe(v))
	}
	return m, ok
}

// tables reads an optional array of tables ([[job]]).
func (d *decoder) tables(key string, v any) []map[string]any {
	switch v := v.(type) {
	case nil:
		return nil
	case []map[string]any:
		return v
	}
	d.errorf(key, key, "%s, want an array of tables ([[%s]])", describe(v), key)
	return nil
}

// as reads v as a T, or records that it is not what it should be (want).
func as[T any](d *decoder, path, label string, v any, want string) (T, bool) {
	t, ok := v.(T)
	if !ok {
		d.errorf(path, label, "%s, want %s", describe(v), want)
	}
	return t, ok
}

func (d *decoder) array(path, label string, v any) ([]any, bool) {
	return as[[]any](d, path, label, v, "an array")
}

func (d *decoder) str(path, label string, v any) (string, bool) {
	return as[string](d, path, label, v, "a string")
}

func (d *decoder) boolean(path, label string, v any) (bool, bool) {
	return as[bool](d, path, label, v, "true or false")
}

func (d *decoder) integer(path, label string, v any) (int, bool) {
	n, ok := as[int64](d, path, label, v, "an integer")
	if !ok {
		return 0, false
	}
	if n > math.MaxInt32 || n < math.MinInt32 {
		d.errorf(path, label, "%d is too large", n)
		return 0, false
	}
	return int(n), true
}

// durationText reads a duration as text: a string as written, or an
// integer of seconds as APScheduler users write them.
func (d *decoder) durationText(path, label string, v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int64:
		if v > math.MaxInt64/int64(time.Second) || v < 0 {
			d.errorf(path, label, "%d seconds is out of range", v)
			return "", false
		}
		return schedule.FormatDuration(time.Duration(v) * time.Second), true
	}
	d.errorf(path, label, "%s, want a duration such as \"90s\" or an integer of seconds", describe(v))
	return "", false
}

// onStart reads an on_start value: true (at once, "0s") or a delay.
func (d *decoder) onStart(path, label string, v any) (string, bool) {
	switch v := v.(type) {
	case bool:
		if !v {
			d.errorf(path, label, "false, want true (at each start) or a delay such as \"30s\" (for no on-start trigger, leave the key out)")
			return "", false
		}
		return onStartAtOnce, true
	case string, int64:
		return d.durationText(path, label, v)
	}
	d.errorf(path, label, "%s, want true or a delay such as \"30s\"", describe(v))
	return "", false
}

func (d *decoder) duration(path, label string, v any) (time.Duration, bool) {
	text, ok := d.durationText(path, label, v)
	if !ok {
		return 0, false
	}
	dur, err := schedule.ParseDuration(text)
	if err != nil {
		d.errorf(path, label, "%v", err)
		return 0, false
	}
	return dur, true
}

func (d *decoder) grace(path, label string, v any) (schedule.Grace, bool) {
	text, ok := d.durationText(path, label, v)
	if !ok {
		return 0, false
	}
	g, err := ParseGrace(text)
	if err != nil {
		d.errorf(path, label, "%v", err)
		return 0, false
	}
	return g, true
}

// timeText reads a TIME as text: a string as written, an offset datetime
// in RFC 3339, a local datetime or date as the wall time it names (read in
// the trigger's zone).
func (d *decoder) timeText(path, label string, v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case time.Time:
		switch v.Location().String() {
		case "datetime-local":
			if v.Nanosecond() != 0 {
				d.errorf(path, label, "%s has fractional seconds (want whole seconds)", v.Format("2006-01-02T15:04:05.999999999"))
				return "", false
			}
			return v.Format("2006-01-02 15:04:05"), true
		case "date-local":
			return v.Format("2006-01-02"), true
		case "time-local":
			d.errorf(path, label, "%s is a time of day without a date (want a date and time)", v.Format("15:04:05"))
			return "", false
		}
		return v.Format(time.RFC3339Nano), true
	}
	d.errorf(path, label, "%s, want a datetime or a string", describe(v))
	return "", false
}
