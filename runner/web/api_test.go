package web

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/view"
)

// roundTrip is v as a client decodes it.
func roundTrip[T any](t *testing.T, v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAPIShapes(t *testing.T) {
	f := newFixture(t)
	wantJobs, wantRuns := f.fromStore()

	var jobs []view.Job
	f.getJSON("/api/jobs", &jobs)
	if !reflect.DeepEqual(jobs, roundTrip(t, wantJobs)) {
		t.Errorf("/api/jobs:\n%+v\nwant list -o json's:\n%+v", jobs, wantJobs)
	}

	var runs []view.Run
	f.getJSON("/api/runs", &runs)
	if !reflect.DeepEqual(runs, roundTrip(t, wantRuns)) {
		t.Errorf("/api/runs:\n%+v\nwant history -o json's:\n%+v", runs, wantRuns)
	}
	f.getJSON("/api/runs?n=1", &runs)
	if len(runs) != 1 || runs[0].JobID != "idle" {
		t.Errorf("/api/runs?n=1: %+v, want the newest run, idle's", runs)
	}

	var job jobJSON
	f.getJSON("/api/jobs/backup", &job)
	if !reflect.DeepEqual(job.Job, roundTrip(t, wantJobs[1])) || len(job.Runs) != 2 || job.Runs[0].Seq != 2 || job.Runs[0].Outcome != "failed" {
		t.Errorf("/api/jobs/backup: %+v", job)
	}
	f.getJSON("/api/jobs/backup/runs?n=1", &runs)
	if len(runs) != 1 || runs[0].Seq != 2 {
		t.Errorf("/api/jobs/backup/runs?n=1: %+v, want run 2 only", runs)
	}
	var run view.Run
	f.getJSON("/api/jobs/"+url.PathEscape(hostileID)+"/runs/1", &run)
	if raw, _ := base64.StdEncoding.DecodeString(run.OutputBase64); string(raw) != hostileOut {
		t.Errorf("the hostile job's run 1: output %q (base64 %q), want it with its bytes in base64", run.Output, run.OutputBase64)
	}

	var sched schedulerJSON
	f.getJSON("/api/scheduler", &sched)
	if sched.Owner != "host:1" || !sched.Alive || sched.StoreError != nil || sched.Members == nil || sched.SnapshotTime == nil {
		t.Errorf("/api/scheduler: %+v", sched)
	}
	// With an explicit zone, UTC, whatever the server's time.Local.
	// (TZ=Europe/Berlin go test shows it.)
	if want := f.board.Snapshot().Taken.UTC().Format(time.RFC3339Nano); sched.SnapshotTime == nil || *sched.SnapshotTime != want {
		b, _ := json.Marshal(sched.SnapshotTime)
		t.Errorf("/api/scheduler: snapshot_time %s, want %q", b, want)
	}
}

// TestAPIRunOlderThanTheBoard: a run older than the runs the board keeps
// is read from the store all the same.
func TestAPIRunOlderThanTheBoard(t *testing.T) {
	f := newFixture(t)
	const runs = board.DefaultRuns + 5
	err := f.st.Store.Update(t.Context(), func(tx store.Tx) error {
		for i := range runs {
			at := t0.Add(time.Duration(i) * time.Minute)
			if err := tx.AddRun(&store.Run{JobID: "idle", FireTime: at, Submitted: at, Outcome: store.Missed}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// idle's run 1 is the fixture's, the oldest of them.
	var run view.Run
	f.getJSON("/api/jobs/idle/runs/1", &run)
	if run.JobID != "idle" || run.Seq != 1 || run.Reason != "later than its misfire grace" {
		t.Errorf("/api/jobs/idle/runs/1: %+v, want the fixture's missed run", run)
	}
	if resp, body := f.get(fmt.Sprintf("/api/jobs/idle/runs/%d", runs+2)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a run after the newest: %s %s, want 404", resp.Status, body)
	}
}

func TestAPIErrors(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		target string
		status int
		says   string
	}{
		{"/api/jobs/nope", 404, `no job \"nope\"`},
		{"/api/jobs/nope/runs", 404, `no job \"nope\"`},
		{"/api/jobs/backup/runs/9", 404, `job \"backup\" has no run 9`},
		{"/api/jobs/nope/runs/1", 404, `no job \"nope\"`},
		{"/api/jobs/backup/runs/x", 400, `run \"x\": not a run number`},
		{"/api/runs?n=-1", 400, `n=\"-1\": not a count`},
		{"/api/jobs/backup/runs?n=many", 400, `n=\"many\"`},
		{"/jobs/nope", 404, `No job <code>nope</code>`},
		{"/metrics", 404, ""},
		{"/static/nope.js", 404, ""},
	} {
		resp, body := f.get(c.target)
		if resp.StatusCode != c.status || !strings.Contains(body, c.says) {
			t.Errorf("GET %s: %d %q, want %d saying %q", c.target, resp.StatusCode, body, c.status, c.says)
		}
	}
	resp, _ := f.do(httptest.NewRequest(http.MethodPost, "/api/jobs", strings.NewReader("{}")))
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %s, Allow %q; want 405, GET, HEAD", resp.Status, resp.Header.Get("Allow"))
	}
}

// fromStore is what jobctl list and history -o json give: view's shapes of
// the store's jobs and runs (the API drops the runs' output).
func (f *fixture) fromStore() (jobs []view.Job, runs []view.Run) {
	f.t.Helper()
	err := f.st.Store.View(f.t.Context(), func(tx store.Tx) error {
		zones := map[string]*time.Location{}
		err := tx.Jobs(func(j *store.Job) error {
			jobs = append(jobs, view.NewJob(j))
			zones[j.ID] = j.Location()
			return nil
		})
		if err != nil {
			return err
		}
		all, err := tx.Runs("", 0)
		for _, r := range all {
			r.Output = ""
			runs = append(runs, view.NewRun(r, zones[r.JobID]))
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return jobs, runs
}
