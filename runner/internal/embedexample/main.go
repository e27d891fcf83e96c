// Command embedexample runs a Go function every second with jobctl's
// scheduler, on an in-memory store, three times, then shuts down.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"sync/atomic"
	"time"

	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/memory"
)

func main() {
	ctx := context.Background()
	st, err := memory.New() // jobs in memory; on a file (bolt.Open), jobctl commands see them too
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	// A job whose command is "func:NAME" runs the Go function NAME.
	job, err := store.NewJob("tick", runner.FuncPrefix+"tick", schedule.Spec{Every: "1s"}, store.DefaultOptions(), time.Now())
	if err != nil {
		log.Fatal(err)
	}
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.PutJob(job) }); err != nil {
		log.Fatal(err)
	}

	var n atomic.Int32
	done := make(chan struct{})
	s, err := runner.New(runner.Config{
		Store:  st,
		Output: os.Stdout, // the runs' output, each line tagged with its job's id
		Funcs: map[string]runner.Func{
			"tick": func(ctx context.Context, c runner.Call, out io.Writer) error {
				i := n.Add(1)
				fmt.Fprintf(out, "tick %d\n", i)
				if i == 3 {
					close(done)
				}
				return nil // an error would make the run failed, with it as the reason
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		log.Fatal(err)
	}
	<-done
	if err := s.Shutdown(ctx); err != nil { // waits for the running run; Close would not
		log.Fatal(err)
	}
}
