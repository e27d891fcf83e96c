package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/runner/board"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/bolt"
)

// BenchmarkLateness is a scheduler on a bbolt file (the real engine, with
// its file locks) running 20 jobs that fire every second, each printing
// 64 KiB, and a CLI-like
// command (a job modified, in an Update of its own) each op, with the
// dashboard served and 0 or 10 clients polling it and its API as fast as
// they can. It reports the runs' start lateness (Started - FireTime) and
// the command's latency: the clients must not hold them up by the store's
// lock. The floor beside them: 10 clients as fast, on a static file, which
// reads neither the store nor the board: what the same HTTP load costs the
// two cores without a store in the way. Run it for several seconds, so
// that enough fire times come:
//
//	go test ./runner/web -run '^$' -bench Lateness -benchtime 5s
func BenchmarkLateness(b *testing.B) {
	for _, c := range []struct {
		name    string
		clients int
		static  bool
	}{{"clients=0", 0, false}, {"clients=10", 10, false}, {"clients=10-static", 10, true}} {
		b.Run(c.name, func(b *testing.B) { benchLateness(b, c.clients, c.static) })
	}
}

const benchJobs = 20

func benchLateness(b *testing.B, clients int, static bool) {
	st, err := bolt.Open(filepath.Join(b.TempDir(), "jobs.db"), bolt.OpenOptions{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	err = st.Update(context.Background(), func(tx store.Tx) error {
		for i := range benchJobs + 1 {
			spec := schedule.Spec{Every: "1s", Timezone: "UTC"}
			if i == benchJobs {
				spec = schedule.Spec{Cron: "0 3 1 1 *", Timezone: "UTC"} // the one the command modifies
			}
			j, err := store.NewJob(fmt.Sprintf("job-%02d", i), runner.FuncPrefix+"work", spec, store.DefaultOptions(), now)
			if err != nil {
				return err
			}
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	bd := board.New(board.Config{Store: st, Logger: log})
	// Each run prints 64 KiB, the most of a run's output its record keeps:
	// what a board that read the runs' records would decode.
	output := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	work := func(ctx context.Context, c runner.Call, out io.Writer) error {
		_, err := out.Write(output)
		return err
	}
	sched, err := runner.New(runner.Config{Store: st, Logger: log, Funcs: map[string]runner.Func{"work": work},
		Events: func(e runner.Event) { bd.Poke() }})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := sched.Start(ctx); err != nil {
		b.Fatal(err)
	}
	go bd.Run(ctx)
	h := New(Config{Board: bd, Store: st, Stats: sched.Stats, Logger: log})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()

	// Let the scheduler settle, then poll.
	time.Sleep(1500 * time.Millisecond)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	requests := 0
	for i := range clients {
		wg.Go(func() {
			paths := []string{"/", "/api/jobs", "/api/runs?n=100", fmt.Sprintf("/jobs/job-%02d", i), "/api/jobs/job-00", "/healthz"}
			if static {
				paths = []string{"/static/style.css"}
			}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(srv.URL + paths[n%len(paths)])
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				requests++
				mu.Unlock()
			}
		})
	}

	from := time.Now()
	var updates []time.Duration
	for i := 0; b.Loop(); i++ {
		t := time.Now()
		err := st.Update(ctx, func(tx store.Tx) error {
			j, err := tx.Job(fmt.Sprintf("job-%02d", benchJobs))
			if err != nil {
				return err
			}
			j.Name = fmt.Sprintf("modified %d", i)
			j.Updated = t
			if err := tx.PutJob(j); err != nil {
				return err
			}
			return tx.RecordChange(store.Change{Time: t, Kind: store.JobModified, JobID: j.ID})
		})
		if err != nil {
			b.Fatal(err)
		}
		updates = append(updates, time.Since(t))
		time.Sleep(20 * time.Millisecond) // a command now and then, not a storm
	}
	b.StopTimer()
	to := time.Now()
	close(stop)
	wg.Wait()

	var late []time.Duration
	err = st.View(context.Background(), func(tx store.Tx) error {
		late = late[:0]
		runs, err := tx.Runs("", 0)
		for _, r := range runs {
			if !r.Started.IsZero() && !r.FireTime.Before(from) && r.FireTime.Before(to) {
				late = append(late, r.Started.Sub(r.FireTime))
			}
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(late) == 0 {
		b.Fatal("no run started meanwhile: run with -benchtime 5s")
	}
	report(b, "late", late)
	report(b, "update", updates)
	b.ReportMetric(float64(len(late)), "runs")
	b.ReportMetric(float64(requests)/to.Sub(from).Seconds(), "req/s")
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	sched.Shutdown(sctx)
}

// report reports the p50, p99 and max of ds, in milliseconds.
func report(b *testing.B, what string, ds []time.Duration) {
	slices.Sort(ds)
	q := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.5), what+"-p50-ms")
	b.ReportMetric(q(0.99), what+"-p99-ms")
	b.ReportMetric(float64(ds[len(ds)-1])/float64(time.Millisecond), what+"-max-ms")
}
