package metrics

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/jobctl/jobctl/internal/pgtest"
	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/postgres"
	"github.com/jobctl/jobctl/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestFleetMetrics: on PostgreSQL, two schedulers of a fleet run jobs
// firing every second. Each one's metrics, labelled by its name, count
// the runs it made and no other's; their sum is every run; and the jobs'
// state, read from the shared store, is the whole fleet's on both.
func TestFleetMetrics(t *testing.T) {
	url := pgtest.NewDB(t)
	admin := openPG(t, url)
	now := time.Now()
	start := now.Truncate(time.Second).Add(time.Second)
	for _, id := range []string{"j1", "j2", "j3", "j4"} {
		j, err := store.NewJob(id, runner.FuncPrefix+"f", schedule.Spec{Every: "1s", Start: start.Format(time.RFC3339Nano)}, store.DefaultOptions(), now)
		if err != nil {
			t.Fatal(err)
		}
		storetest.Put(t, admin, j)
	}
	a, b := newMember(t, url, "a"), newMember(t, url, "b")
	time.Sleep(time.Until(start.Add(3500 * time.Millisecond))) // fire times at +0s, +1s, +2s, +3s
	for _, m := range []*member{a, b} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		if err := m.s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	var runs []*store.Run
	err := admin.View(t.Context(), func(tx store.Tx) (err error) {
		runs, err = tx.Runs("", 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]float64{} // owner -> runs that succeeded
	for _, r := range runs {
		if r.Outcome == store.Success {
			ran[r.Owner]++
		}
	}
	if ran["a"]+ran["b"] < 12 {
		t.Fatalf("runs by owner %v: want at least 12 (4 jobs, 3 s)", ran)
	}
	var total float64
	for _, m := range []*member{a, b} {
		m.board.Poke() // after the last runs, so both see them all
		deadline := time.Now().Add(10 * time.Second)
		for snap := m.board.Snapshot(); snap == nil || !sawAll(snap, runs); snap = m.board.Snapshot() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the board never showed the fleet's %d runs", m.name, len(runs))
			}
			time.Sleep(10 * time.Millisecond)
		}
		fams := (&world{t: t, m: m.m}).scrape()
		var mine float64
		for _, f := range fams["jobctl_runs_total"].GetMetric() {
			if label(f, "scheduler") != m.name {
				t.Errorf("%s serves a series labelled scheduler %q", m.name, label(f, "scheduler"))
			}
			mine += f.GetCounter().GetValue()
		}
		if mine != ran[m.name] {
			t.Errorf("%s counts %v runs, want the %v it made", m.name, mine, ran[m.name])
		}
		total += mine
		// The last success of each job is the fleet's, whoever ran it.
		for _, id := range []string{"j1", "j2", "j3", "j4"} {
			want := newestSuccess(runs, id)
			if got, ok := value(fams, "jobctl_job_last_success_timestamp_seconds", map[string]string{"job": id}); !ok || got != want {
				t.Errorf("%s: last success of %s %v (found %v), want the fleet's %v", m.name, id, got, ok, want)
			}
		}
	}
	if total != ran["a"]+ran["b"] {
		t.Errorf("the members count %v runs together, want %v", total, ran["a"]+ran["b"])
	}
}

type member struct {
	name  string
	s     *runner.Scheduler
	board *board.Board
	m     *Metrics
}

func newMember(t *testing.T, url, name string) *member {
	t.Helper()
	st := openPG(t, url)
	m := &member{name: name, board: board.New(board.Config{Store: st, Interval: 10 * time.Millisecond})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.board.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	m.m = New(Config{Stats: func() runner.Stats { return m.s.Stats() }, Snapshot: m.board.Snapshot, Scheduler: name})
	s, err := runner.New(runner.Config{
		Store: st, Owner: name,
		Funcs:  map[string]runner.Func{"f": func(context.Context, runner.Call, io.Writer) error { return nil }},
		Events: func(e runner.Event) { m.m.Observe(e); m.board.Poke() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.s = s
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return m
}

func openPG(t *testing.T, url string) store.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sawAll reports whether the snapshot has every finished run of runs.
func sawAll(s *board.Snapshot, runs []*store.Run) bool {
	n := 0
	for _, j := range s.Jobs {
		for _, r := range j.Runs {
			if r.Outcome != store.Running {
				n++
			}
		}
	}
	return n == len(runs)
}

func newestSuccess(runs []*store.Run, jobID string) float64 {
	var newest float64
	for _, r := range runs {
		if r.JobID == jobID && r.Outcome == store.Success {
			newest = max(newest, unix(r.Ended))
		}
	}
	return newest
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
