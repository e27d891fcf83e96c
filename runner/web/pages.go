package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

//go:embed assets
var assets embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"f1":      func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"jobPath": jobPath,
}).ParseFS(assets, "assets/*.html"))

// jobPath is the address of job id's page, for every link to it:
// /jobs/ID, ID one escaped path segment. But browsers resolve a segment
// "." or ".." (%2E and %2E%2E too, as the URL standard says) before they
// send a request, so those two ids are given in the query:
// /jobs/?id=.. (jobID reads both forms).
func jobPath(id string) string {
	if id == "." || id == ".." {
		return "/jobs/?id=" + url.QueryEscape(id)
	}
	return "/jobs/" + url.PathEscape(id)
}

// tailBytes is how much of each run's output the job page shows: the
// end of it (the stored output is its last 64 KiB; the API has it all).
const tailBytes = 4 << 10

// page is what every page's template gets.
type page struct {
	Title     string
	Version   string
	Taken     string // when the snapshot was read
	NotRead   bool   // no snapshot yet
	BoardErr  string // the last refresh failed: the page may be stale
	Sched     schedRow
	Members   []memberRow
	Axis      axis
	Jobs      []jobRow // the dashboard's
	Job       *jobRow  // the job page's
	Runs      []runRow // the job page's
	TailsErr  string   // the job page could not read the output
	TailBytes int
	Missing   string // the not-found page's job id
}

type schedRow struct {
	Owner, State, StoreError string
	Alive, Paused, Fleet     bool
	Executors                []executorRow
}

type executorRow struct {
	Name                  string
	Workers, Busy, Queued int
}

type memberRow struct {
	ID, Host, Version, Heartbeat, Lease string
	PID, Running                        int
	Live                                bool
}

type when struct {
	ISO, Zone, Rel string // RFC 3339 (for the JS countdown), in the zone, relative
}

type jobRow struct {
	ID, Name, Command, Words, Written, Zone, State, Broken string
	Next                                                   *when
	NextWords                                              string // without a Next: view.NextRun's words
	Last                                                   *runRow
	Successes, Failures, Kept, Running                     int
	Timeline                                               timeline
}

type runRow struct {
	Seq                            uint64
	Outcome, Result, Owner, Reason string
	Fire                           when
	Started                        *when  // nil: it did not start
	Late                           string // how long after its fire time it started ("+1.2s"); "": on time
	Duration                       string
	Tail                           string // the end of its output, as text
	TailCut                        bool   // the output is longer than Tail
	Attempt, Coalesced             int
}

func newWhen(t, now time.Time, loc *time.Location) *when {
	if t.IsZero() {
		return nil
	}
	return &when{ISO: t.Format(time.RFC3339Nano), Zone: view.ZoneTime(t, loc), Rel: view.Relative(t, now)}
}

func (h *Handler) basePage(title string, now time.Time) (*page, *board.Snapshot) {
	p := &page{Title: title, Version: h.cfg.Version, TailBytes: tailBytes}
	if h.cfg.Stats != nil {
		st := h.cfg.Stats()
		p.Sched = schedRow{Owner: st.Owner, Alive: st.Alive, Paused: st.Paused, Fleet: st.Fleet}
		if st.StoreError != nil {
			p.Sched.StoreError = st.StoreError.Error()
		}
		for _, name := range slices.Sorted(maps.Keys(st.Executors)) {
			e := st.Executors[name]
			p.Sched.Executors = append(p.Sched.Executors, executorRow{name, e.Workers, e.Busy, e.Queued})
		}
	}
	if err := h.cfg.Board.Err(); err != nil {
		p.BoardErr = err.Error()
	}
	snap := h.cfg.Board.Snapshot()
	if snap == nil {
		p.NotRead = true
		return p, nil
	}
	p.Taken = view.Relative(snap.Taken, now)
	p.Sched.Paused = snap.Paused
	storeNow := snap.StoreNow(now) // the leases go by the store's clock
	for _, m := range snap.Members {
		p.Members = append(p.Members, memberRow{
			ID: m.ID, Host: m.Host, Version: m.Version, PID: m.PID, Running: m.Running, Live: m.Live(storeNow),
			Heartbeat: view.Relative(m.Heartbeat, storeNow), Lease: view.Relative(m.LeaseUntil, storeNow),
		})
	}
	switch {
	case !p.Sched.Alive && h.cfg.Stats != nil:
		p.Sched.State = "stopped"
	case p.Sched.Paused:
		p.Sched.State = "paused"
	default:
		p.Sched.State = "running"
	}
	return p, snap
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	h.servePage(w, r, func(now time.Time) (int, string, *page) {
		p, snap := h.basePage("jobctl", now)
		if snap != nil {
			p.Axis = newAxis(snap.Jobs, now)
			for _, j := range snap.Jobs {
				p.Jobs = append(p.Jobs, h.jobRow(j, p.Axis, now))
			}
		}
		return http.StatusOK, "dashboard.html", p
	})
}

// jobID is the job a page's address names (see jobPath).
func jobID(r *http.Request) string {
	if id := r.PathValue("id"); id != "" {
		return id
	}
	return r.URL.Query().Get("id")
}

func (h *Handler) jobPage(w http.ResponseWriter, r *http.Request) {
	h.servePage(w, r, func(now time.Time) (int, string, *page) {
		id := jobID(r)
		p, snap := h.basePage("jobctl: "+id, now)
		if snap == nil {
			return http.StatusOK, "job.html", p
		}
		j := snap.Job(id)
		if j == nil {
			p.Missing = id
			return http.StatusNotFound, "notfound.html", p
		}
		p.Axis = newAxis([]*board.Job{j}, now)
		row := h.jobRow(j, p.Axis, now)
		p.Job = &row
		tails, err := h.tails.get(r.Context(), j.ID, j.Runs)
		if err != nil {
			p.TailsErr = err.Error()
		}
		loc := j.Location()
		for _, run := range j.Runs {
			rr := newRunRow(run, now, loc)
			rr.Tail, rr.TailCut = tails[run.Seq].text, tails[run.Seq].cut
			p.Runs = append(p.Runs, rr)
		}
		return http.StatusOK, "job.html", p
	})
}

func (h *Handler) jobRow(j *board.Job, a axis, now time.Time) jobRow {
	loc := j.Location()
	row := jobRow{
		ID: j.ID, Name: j.Name, Command: j.Command, Words: triggerWords(j.Trigger), Written: j.Trigger.String(),
		Zone: loc.String(), State: view.State(j.Job), Broken: j.Broken, Kept: len(j.Runs),
	}
	at, words := view.NextRun(j.Job)
	row.Next, row.NextWords = newWhen(at, now, loc), words
	for i, r := range j.Runs {
		switch r.Outcome {
		case store.Success:
			row.Successes++
		case store.Failed, store.TimedOut, store.Interrupted:
			row.Failures++
		case store.Running:
			row.Running++
		}
		if row.Last == nil && r.Outcome != store.Running {
			rr := newRunRow(j.Runs[i], now, loc)
			row.Last = &rr
		}
	}
	row.Timeline = newTimeline(j, a, loc)
	return row
}

func newRunRow(r *store.Run, now time.Time, loc *time.Location) runRow {
	rr := runRow{
		Seq: r.Seq, Outcome: string(r.Outcome), Result: view.RunResult(r), Owner: r.Owner, Reason: r.Reason,
		Duration: duration(r, now), Attempt: r.AttemptNumber(), Coalesced: r.Coalesced,
	}
	if w := newWhen(r.FireTime, now, loc); w != nil {
		rr.Fire = *w
	}
	rr.Started = newWhen(r.Started, now, loc)
	// A retry starts when its delay ends, long after the fire time it
	// shares with the first attempt: only a first attempt can be late.
	if rr.Started != nil && rr.Attempt == 1 {
		rr.Late = lateness(r.Started.Sub(r.FireTime))
	}
	return rr
}

// lateness writes how late a run started ("+1.2s", "+3m4s"), to the tenth
// of a second under a minute; "" for less than a tenth.
func lateness(d time.Duration) string {
	if d < time.Minute {
		d = d.Round(100 * time.Millisecond)
	} else {
		d = d.Round(time.Second)
	}
	if d <= 0 {
		return ""
	}
	return "+" + schedule.FormatDuration(d)
}

// newShownTail is the end of a run's output as text: at most tailBytes, from the
// start of a line when one begins near the cut, and bytes that are not
// UTF-8 shown as U+FFFD (html/template escapes the rest).
func newShownTail(out string) shownTail {
	cut := len(out) > tailBytes
	if cut {
		out = out[len(out)-tailBytes:]
		if i := strings.IndexByte(out, '\n'); i >= 0 && i < 200 {
			out = out[i+1:]
		}
	}
	if !utf8.ValidString(out) {
		out = strings.ToValidUTF8(out, "\uFFFD")
	}
	return shownTail{out, cut}
}

// servePage serves the page build makes, from the page cache when it was
// made from the same snapshot in the same second (its relative times are
// to the second): clients polling the dashboard cost one rendering of each
// page a second, whatever their number.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request, build func(now time.Time) (status int, name string, p *page)) {
	now := h.cfg.Now()
	var seq uint64
	if snap := h.cfg.Board.Snapshot(); snap != nil {
		seq = snap.Seq
	}
	// The query's id is part of a page's address (jobPath); nothing else
	// in a query is.
	key := pageKey{path: r.URL.Path, id: r.URL.Query().Get("id"), seq: seq, second: now.Unix()}
	c, ok := h.pages.get(key)
	if !ok {
		status, name, p := build(now)
		// Whole or not at all: a template that fails part way must not
		// leave half a page.
		var b bytes.Buffer
		if err := pages.ExecuteTemplate(&b, name, p); err != nil {
			h.cfg.Logger.Error("dashboard: rendering a page failed", "page", name, "error", err)
			http.Error(w, "rendering the page failed", http.StatusInternalServerError)
			return
		}
		c = cachedPage{status: status, body: b.Bytes()}
		h.pages.put(key, c)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(c.status)
	w.Write(c.body)
}

// static serves the embedded CSS and JS.
func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(assets, "assets/static/"+name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}
