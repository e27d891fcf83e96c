package runner_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// A scheduler over an in-memory store runs a job due now, in the
// background, and is shut down once the run is recorded.
func Example() {
	st := store.NewMemory()
	now := time.Now()
	err := st.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutJob(&store.Job{
			ID:      "hello",
			Command: "echo hello",
			Trigger: schedule.Spec{At: now.Format(time.RFC3339Nano)},
			Options: store.Options{MisfireGrace: schedule.Grace(time.Minute), Coalesce: true, MaxInstances: 1},
			State:   store.Active,
			NextRun: now,
		})
	})
	if err != nil {
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
