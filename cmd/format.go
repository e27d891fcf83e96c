package cmd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/pflag"
	"golang.org/x/text/width"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// Output formats of -o.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// addOutputFlag registers -o on a command that prints jobs or runs.
func addOutputFlag(fs *pflag.FlagSet, to *string) {
	fs.StringVarP(to, "output", "o", outputTable, "output format: table or json")
}

func checkOutput(o string) error {
	if o != outputTable && o != outputJSON {
		return usagef("-o: %q is not table or json", o)
	}
	return nil
}

// writeJSON writes v indented, as the data of a command.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jobJSON is the JSON view of a job, shared by list and show. Its keys
// follow APScheduler's Job attributes where they have one.
type jobJSON struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Command          string            `json:"command"`
	Trigger          string            `json:"trigger"`      // for people
	TriggerSpec      *schedule.Spec    `json:"trigger_spec"` // as stored; null when broken
	NextRunTime      *string           `json:"next_run_time"`
	State            string            `json:"state"` // active, paused, finished or broken
	Paused           bool              `json:"paused"`
	Executor         string            `json:"executor"`
	MaxInstances     int               `json:"max_instances"`
	Coalesce         bool              `json:"coalesce"`
	MisfireGraceTime *float64          `json:"misfire_grace_time"` // seconds; null: none
	Timeout          *float64          `json:"timeout"`            // seconds; null: none
	Jitter           float64           `json:"jitter"`             // seconds
	Dir              string            `json:"dir"`
	Env              map[string]string `json:"env"`
	Recover          bool              `json:"recover"`
	Retries          int               `json:"retries"`
	RetryDelay       float64           `json:"retry_delay"`     // seconds
	RetryBackoff     float64           `json:"retry_backoff"`   // factor
	RetryMaxDelay    *float64          `json:"retry_max_delay"` // seconds; null: none
	Overlap          string            `json:"overlap"`
	PendingRetry     *pendingJSON      `json:"pending_retry"` // null: none
	Buffered         []*string         `json:"buffered"`      // fire times waiting for an instance to end
	MailTo           *string           `json:"mailto"`        // null: the scheduler's
	MailOn           string            `json:"mail_on"`
	Created          *string           `json:"created"`
	Updated          *string           `json:"updated"`
	Broken           string            `json:"broken,omitempty"`
	Store            string            `json:"store,omitempty"` // by list, when the stores are named
}

func newJobJSON(j *store.Job) jobJSON {
	loc := j.Location()
	v := jobJSON{
		ID: j.ID, Name: j.Name, Command: j.Command, Trigger: j.Trigger.String(),
		NextRunTime: jsonTime(j.NextRun, loc), State: jobState(j), Paused: j.State == store.Paused,
		Executor: j.Options.Executor, MaxInstances: j.Options.MaxInstances, Coalesce: j.Options.Coalesce,
		Jitter: j.Options.Jitter.Seconds(), Dir: j.Options.Dir, Env: map[string]string{}, Recover: j.Options.Recover,
		MailTo: j.Options.MailTo, MailOn: j.Options.MailOn.String(),
		Created: jsonTime(j.Created, loc), Updated: jsonTime(j.Updated, loc), Broken: j.Broken,
	}
	if j.Broken == "" {
		spec := j.Trigger
		v.TriggerSpec = &spec
	}
	r := j.Options.Retry.WithDefaults()
	v.Retries, v.RetryDelay, v.RetryBackoff = r.Max, r.Delay.Seconds(), r.Backoff
	if r.MaxDelay > 0 {
		s := r.MaxDelay.Seconds()
		v.RetryMaxDelay = &s
	}
	v.Overlap = j.Options.Overlap.String()
	if p := j.Retry; p != nil {
		v.PendingRetry = &pendingJSON{FireTime: jsonTime(p.FireTime, loc), Attempt: p.Attempt, At: jsonTime(p.At, loc)}
	}
	v.Buffered = []*string{}
	for _, w := range j.Buffered {
		v.Buffered = append(v.Buffered, jsonTime(w.FireTime, loc))
	}
	if g := j.Options.MisfireGrace; g != schedule.NoGrace {
		s := time.Duration(g).Seconds()
		v.MisfireGraceTime = &s
	}
	if t := j.Options.Timeout; t > 0 {
		s := t.Seconds()
		v.Timeout = &s
	}
	for _, kv := range j.Options.Env {
		k, val, _ := strings.Cut(kv, "=")
		v.Env[k] = val
	}
	return v
}

// pendingJSON is a job's pending retry.
type pendingJSON struct {
	FireTime *string `json:"fire_time"`
	Attempt  int     `json:"attempt"`
	At       *string `json:"at"`
}

// runJSON is the JSON view of a run, with the keys of jobctl history.
type runJSON struct {
	JobID       string  `json:"job_id"`
	Seq         uint64  `json:"seq"`
	FireTime    *string `json:"fire_time"`
	Attempt     int     `json:"attempt"` // at the fire time, from 1
	Coalesced   int     `json:"coalesced"`
	Requested   bool    `json:"requested"` // by jobctl run-now
	SubmittedAt *string `json:"submitted_at"`
	StartedAt   *string `json:"started_at"`
	EndedAt     *string `json:"ended_at"`
	Outcome     string  `json:"outcome"`
	ExitCode    *int    `json:"exit_code"`
	Signal      string  `json:"signal,omitempty"`
	Reason      string  `json:"reason,omitempty"`
	RetryAt     *string `json:"retry_at"`    // when the next attempt runs; null: none
	BufferedAt  *string `json:"buffered_at"` // when it began to wait for an instance to end; null: it did not
	Output      string  `json:"output"`      // as text: bytes that are not UTF-8 read U+FFFD
	// OutputBase64 is the output byte for byte, when it is not UTF-8.
	OutputBase64 string `json:"output_base64,omitempty"`
}

// newRunJSON is r with its times in the zone loc, its job's.
func newRunJSON(r *store.Run, loc *time.Location) runJSON {
	var raw string
	if !utf8.ValidString(r.Output) {
		raw = base64.StdEncoding.EncodeToString([]byte(r.Output))
	}
	return runJSON{
		JobID: r.JobID, Seq: r.Seq, FireTime: jsonTime(r.FireTime, loc), Attempt: r.AttemptNumber(), Coalesced: r.Coalesced, Requested: r.Requested,
		SubmittedAt: jsonTime(r.Submitted, loc), StartedAt: jsonTime(r.Started, loc), EndedAt: jsonTime(r.Ended, loc),
		Outcome: string(r.Outcome), ExitCode: r.ExitCode, Signal: r.Signal, Reason: r.Reason,
		RetryAt: jsonTime(r.RetryAt, loc), BufferedAt: jsonTime(r.Buffered, loc), Output: r.Output, OutputBase64: raw,
	}
}

// jsonTime is t in RFC 3339 in the zone loc (a job's: as APScheduler gives
// next_run_time in its trigger's zone), or nil (null) for the zero time.
// (Jobs' times are of this era, so the zone's offset is whole minutes, as
// RFC 3339 requires.)
func jsonTime(t time.Time, loc *time.Location) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(loc).Format(time.RFC3339Nano)
	return &s
}

// jobState is a job's state as shown: its State, or broken.
func jobState(j *store.Job) string {
	if j.Broken != "" {
		return "broken"
	}
	return string(j.State)
}

// zoneTime writes t for people, in the zone loc with its offset.
func zoneTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04:05 -07:00")
}

// whenRelative writes t in the zone loc with how far it is from now:
// "2026-03-01 14:00:00 +01:00 (in 4m)".
func whenRelative(t, now time.Time, loc *time.Location) string {
	return zoneTime(t, loc) + " (" + relative(t, now) + ")"
}

// relative writes how far t is from now in at most two units, rounded
// down: "in 4m", "2h5m ago", "now".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	ago := d < 0
	if ago {
		d = -d
	}
	// Round to the second first: a job added "every 10m" a few
	// milliseconds ago is "in 10m", not "in 9m59s".
	if d = d.Round(time.Second); d == 0 {
		return "now"
	}
	// Keep the two largest units: 1d3h, 4m12s, 45s.
	for _, u := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if d >= u {
			d = d.Truncate(u / unitsBelow(u))
			break
		}
	}
	s := schedule.FormatDuration(d)
	if ago {
		return s + " ago"
	}
	return "in " + s
}

// unitsBelow is how many of the next smaller unit make u.
func unitsBelow(u time.Duration) time.Duration {
	switch u {
	case 7 * 24 * time.Hour:
		return 7
	case 24 * time.Hour:
		return 24
	case time.Second:
		return 1
	}
	return 60
}

// runResult writes a run's outcome for a table: "success", "failed (exit
// 2)", "timeout (SIGKILL)".
func runResult(r *store.Run) string {
	s := string(r.Outcome)
	switch {
	case r.Signal != "":
		s += " (" + r.Signal + ")"
	case r.ExitCode != nil && *r.ExitCode != 0:
		s += fmt.Sprintf(" (exit %d)", *r.ExitCode)
	}
	return s
}

// colors are ANSI SGR codes for the words that deserve them.
var colors = map[string]string{
	"active": "32", "success": "32",
	"paused": "33", "missed": "33", "skipped": "33", "running": "36",
	"failed": "31", "timeout": "31", "broken": "31", "interrupted": "31", "cancelled": "31",
	"finished": "2",
}

// useColor reports whether w is a terminal and NO_COLOR is unset
// (https://no-color.org).
func useColor(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	return isTerminal(w)
}

// table writes rows under a header with aligned columns. Cells whose first
// word has a colour are coloured when color is set; alignment counts only
// the visible text, which text/tabwriter cannot do.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer, color bool) error {
	widths := make([]int, len(t.header))
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	var b strings.Builder
	for r, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			text := c
			if code, ok := colors[strings.Fields(c + " ")[0]]; ok && color && r > 0 {
				text = "\x1b[" + code + "m" + c + "\x1b[0m"
			}
			b.WriteString(text)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayWidth is how many columns of a terminal s takes: two for East
// Asian wide and fullwidth characters (CJK, most emoji), none for combining
// marks and invisible format characters (a zero-width joiner), one for the
// rest. Counting runes misaligned every table holding such ids or names.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		case width.LookupRune(r).Kind() == width.EastAsianWide, width.LookupRune(r).Kind() == width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
