package runner_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/memory"
)

// A scheduler over an in-memory store runs a job due now, in the
// background, and is shut down once the run is recorded.
func Example() {
	st, err := memory.New()
	if err != nil {
		panic(err)
	}
	defer st.Close()
	now := time.Now()
	j, err := store.NewJob("hello", "echo hello", schedule.Spec{At: now.Format(time.RFC3339Nano)}, store.DefaultOptions(), now)
	if err != nil {
		panic(err)
	}
	if err := st.Update(context.Background(), func(tx store.Tx) error { return tx.PutJob(j) }); err != nil {
		panic(err)
	}

	executed := make(chan *store.Run, 1)
	s, err := runner.New(runner.Config{
		Store:  st,
		Output: os.Stdout, // each line tagged with its job's id
		Events: func(e runner.Event) {
			if e.Name == store.EventJobExecuted {
				executed <- e.Run
			}
		},
	})
	if err != nil {
		panic(err)
	}
	if err := s.Start(context.Background()); err != nil {
		panic(err)
	}
	r := <-executed
	if err := s.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	fmt.Println(r.JobID, r.Outcome, *r.ExitCode)
	// Output:
	// [hello] hello
	// hello success 0
}

// A job whose command is "func:NAME" runs the Go function of that name:
// what it writes is the run's output, its error the run's outcome.
func Example_func() {
	st, err := memory.New()
	if err != nil {
		panic(err)
	}
	defer st.Close()
	now := time.Now()
	j, err := store.NewJob("report", runner.FuncPrefix+"report", schedule.Spec{At: now.Format(time.RFC3339Nano)}, store.DefaultOptions(), now)
	if err != nil {
		panic(err)
	}
	if err := st.Update(context.Background(), func(tx store.Tx) error { return tx.PutJob(j) }); err != nil {
		panic(err)
	}

	ended := make(chan *store.Run, 1)
	s, err := runner.New(runner.Config{
		Store: st,
		Funcs: map[string]runner.Func{
			"report": func(ctx context.Context, c runner.Call, out io.Writer) error {
				fmt.Fprintf(out, "run %d of %s\n", c.Run, c.JobID)
				return fmt.Errorf("the report server is down")
			},
		},
		Events: func(e runner.Event) {
			if e.Name == store.EventJobError {
				ended <- e.Run
			}
		},
	})
	if err != nil {
		panic(err)
	}
	if err := s.Start(context.Background()); err != nil {
		panic(err)
	}
	r := <-ended
	if err := s.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	fmt.Printf("%s: %s (%s)\n%s", r.JobID, r.Outcome, r.Reason, r.Output)
	// Output:
	// report: failed (the report server is down)
	// run 1 of report
}
