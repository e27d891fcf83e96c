package web

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

// The timeline of a job is an inline SVG: its recent runs as bars from
// start to end on an axis of time shared by every job of the page, a run
// that overlaps another on a lane below it, and the fire times that did not
// run (missed, skipped) or were folded into a later run (coalesced) as
// marks of their own shapes on a row beneath. Colours say the outcome; the
// classes, titles and a summary say it in words too.
const (
	timelineWidth = 1000.0 // the viewBox's; the SVG scales to the page
	laneHeight    = 12.0
	laneGap       = 3.0
	markRow       = 14.0
	maxLanes      = 4
	timelineRuns  = 20                 // newest runs of each job that set the axis
	minSpan       = 20 * time.Second   // the axis spans at least this
	maxSpan       = 7 * 24 * time.Hour // and at most this, back from now
)

// axis is the span of time the timelines of a page share.
type axis struct {
	Start, End time.Time
	StartText  string   // in words: "12m ago"
	Ticks      []string // five instants evenly spaced, start to end, in words
}

// x is where t falls, in the viewBox's units.
func (a axis) x(t time.Time) float64 {
	f := float64(t.Sub(a.Start)) / float64(a.End.Sub(a.Start))
	return min(max(f, 0), 1) * timelineWidth
}

// newAxis spans the newest timelineRuns runs of jobs, up to now.
func newAxis(jobs []*board.Job, now time.Time) axis {
	start := now.Add(-minSpan)
	for _, j := range jobs {
		for _, r := range j.Runs[:min(len(j.Runs), timelineRuns)] {
			if t := runStart(r); t.Before(start) {
				start = t
			}
		}
	}
	// A margin, so that the oldest run does not touch the edge.
	start = later(start.Add(-now.Sub(start)/20), now.Add(-maxSpan))
	a := axis{Start: start, End: now, StartText: view.Relative(start, now)}
	for i := range 5 {
		a.Ticks = append(a.Ticks, view.Relative(start.Add(now.Sub(start)*time.Duration(i)/4), now))
	}
	return a
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// timeline is what the template draws.
type timeline struct {
	Width, Height float64
	Bars          []bar
	Marks         []mark
	Summary       string // the timeline in words, for screen readers and no colour
}

type bar struct {
	X, Y, W, H float64
	Class      string // the outcome
	Title      string
}

type mark struct {
	Points string // an SVG polygon's, or a path's d for Kind skipped
	Kind   string // missed, skipped or coalesced
	Title  string
}

// runStart is where a run's bar or mark begins: its start, else its fire
// time.
func runStart(r *store.Run) time.Time {
	if !r.Started.IsZero() {
		return r.Started
	}
	return r.FireTime
}

// newTimeline draws the runs of j that fall on a.
func newTimeline(j *board.Job, a axis, loc *time.Location) timeline {
	tl := timeline{Width: timelineWidth}
	runs := slices.Clone(j.Runs)
	slices.Reverse(runs) // oldest first, for the lanes
	var laneEnds []time.Time
	counts := map[string]int{}
	type pending struct {
		x           float64
		kind, title string
	}
	var marks []pending
	for _, r := range runs {
		start := runStart(r)
		end := r.Ended
		if r.Outcome == store.Running || end.IsZero() {
			end = a.End
		}
		if end.Before(a.Start) {
			continue
		}
		counts[string(r.Outcome)]++
		if r.Outcome == store.Missed || r.Outcome == store.Skipped {
			marks = append(marks, pending{a.x(r.FireTime), string(r.Outcome), fmt.Sprintf("run %d: %s, fire time %s: %s", r.Seq, r.Outcome, view.ZoneTime(r.FireTime, loc), r.Reason)})
			continue
		}
		if r.Coalesced > 0 {
			counts["coalesced"] += r.Coalesced
			marks = append(marks, pending{a.x(r.FireTime), "coalesced", fmt.Sprintf("run %d: %d earlier fire times coalesced into this one (fire time %s)", r.Seq, r.Coalesced, view.ZoneTime(r.FireTime, loc))})
		}
		lane := len(laneEnds)
		for i, e := range laneEnds {
			if !e.After(start) {
				lane = i
				break
			}
		}
		if lane == len(laneEnds) {
			if lane < maxLanes {
				laneEnds = append(laneEnds, end)
			} else {
				lane = maxLanes - 1
			}
		}
		laneEnds[lane] = later(laneEnds[lane], end)
		x := a.x(start)
		tl.Bars = append(tl.Bars, bar{
			X: x, Y: float64(lane) * (laneHeight + laneGap), W: max(a.x(end)-x, 2), H: laneHeight,
			Class: string(r.Outcome), Title: runTitle(r, a.End, loc),
		})
	}
	lanes := float64(max(len(laneEnds), 1))
	top := lanes * (laneHeight + laneGap)
	for _, m := range marks { // on a row below the lanes
		tl.Marks = append(tl.Marks, fireMark(m.x, top, m.kind, m.title))
	}
	tl.Height = top
	if len(marks) > 0 {
		tl.Height += markRow
	}
	tl.Summary = summary(j.ID, counts, a)
	return tl
}

// fireMark is a mark at x on the row whose top is y: a shape of its own
// for each kind, so that no colour is needed to tell them apart.
func fireMark(x, y float64, kind, title string) mark {
	const s = 5.0
	var pts string
	switch kind {
	case "missed": // a triangle pointing down
		pts = fmt.Sprintf("%.1f,%.1f %.1f,%.1f %.1f,%.1f", x-s, y+1, x+s, y+1, x, y+1+2*s)
	case "skipped": // a cross, drawn as a path
		pts = fmt.Sprintf("M%.1f,%.1f L%.1f,%.1f M%.1f,%.1f L%.1f,%.1f", x-s+1, y+2, x+s-1, y+2*s, x+s-1, y+2, x-s+1, y+2*s)
	default: // coalesced: a diamond
		pts = fmt.Sprintf("%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f", x, y+1, x+s, y+1+s, x, y+1+2*s, x-s, y+1+s)
	}
	return mark{Points: pts, Kind: kind, Title: title}
}

// runTitle is a run's tooltip: what, when, how long, how it ended.
func runTitle(r *store.Run, now time.Time, loc *time.Location) string {
	s := fmt.Sprintf("run %d: %s, started %s", r.Seq, view.RunResult(r), view.ZoneTime(runStart(r), loc))
	if d := duration(r, now); d != "" {
		s += ", " + d
	}
	if r.Owner != "" {
		s += ", on " + r.Owner
	}
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	return s
}

// duration is how long r ran, or has run so far.
func duration(r *store.Run, now time.Time) string {
	if r.Started.IsZero() {
		return ""
	}
	end := r.Ended
	if r.Outcome == store.Running || end.IsZero() {
		return "running for " + schedule.FormatDuration(now.Sub(r.Started).Round(time.Second))
	}
	return "took " + schedule.FormatDuration(end.Sub(r.Started).Round(time.Millisecond))
}

// summary says a timeline in words.
func summary(id string, counts map[string]int, a axis) string {
	var parts []string
	for _, k := range []string{"running", "success", "failed", "timeout", "interrupted", "cancelled", "missed", "skipped", "coalesced"} {
		if n := counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("Runs of %s since %s: none", id, a.StartText)
	}
	return fmt.Sprintf("Runs of %s since %s: %s", id, a.StartText, strings.Join(parts, ", "))
}
