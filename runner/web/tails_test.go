package web

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/memory"
	"github.com/jobctl/jobctl/store/storetest"
)

// runCounter counts the runs read one by one (Run), outputs and all.
type runCounter struct {
	store.Store
	reads atomic.Int64
}

func (s *runCounter) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(countedTx{tx, s}) })
}

type countedTx struct {
	store.Tx
	s *runCounter
}

func (tx countedTx) Run(id string, seq uint64) (*store.Run, error) {
	tx.s.reads.Add(1)
	return tx.Tx.Run(id, seq)
}

// TestTailsReadOnce: a finished run's output is read once, however often
// its job's page is shown; a run in progress is not read; a job removed
// and added again, whose runs are numbered from 1 again, is not shown the
// old runs' outputs.
func TestTailsReadOnce(t *testing.T) {
	mem, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	st := &runCounter{Store: mem}
	add := func(outputs ...string) []*store.Run {
		j, err := store.NewJob("j", "true", schedule.Spec{Every: "1h"}, store.DefaultOptions(), t0)
		if err != nil {
			t.Fatal(err)
		}
		storetest.Put(t, mem, j)
		var runs []*store.Run
		for i, o := range outputs {
			at := t0.Add(time.Duration(len(outputs)-i) * time.Minute)
			r := &store.Run{JobID: "j", FireTime: at, Submitted: at, Started: at, Ended: at, Outcome: store.Success, Output: o}
			if o == "" {
				r.Outcome, r.Ended = store.Running, time.Time{}
			}
			storetest.AddRuns(t, mem, r)
			runs = append([]*store.Run{r}, runs...) // newest first, as the board has them
		}
		return runs
	}
	runs := add("first\n", strings.Repeat("x", 2*tailBytes), "")
	var tl tails
	tl.store = st
	for range 3 {
		got, err := tl.get(t.Context(), "j", runs)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[1].text != "first\n" || got[1].cut || !got[2].cut || len(got[2].text) != tailBytes {
			t.Fatalf("tails %+v: want run 1's whole, run 2's cut to %d bytes, none of run 3 (running)", got, tailBytes)
		}
	}
	if n := st.reads.Load(); n != 2 {
		t.Errorf("%d runs read for three pages, want 2: each finished run once", n)
	}

	err = mem.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteJob("j") })
	if err != nil {
		t.Fatal(err)
	}
	again := add("second life\n") // run 1 again, submitted at another time
	got, err := tl.get(t.Context(), "j", again)
	if err != nil {
		t.Fatal(err)
	}
	if got[1].text != "second life\n" {
		t.Errorf("run 1 of the job added again shows %q", got[1].text)
	}
}

func TestTailsKeptBounded(t *testing.T) {
	var tl tails
	big := strings.Repeat("y", 1<<20)
	for i := range 40 {
		tl.keep(tailKey{job: "j", seq: uint64(i + 1)}, shownTail{text: big})
	}
	if tl.size > tailsKept || len(tl.kept) != tailsKept>>20 || len(tl.order) != len(tl.kept) {
		t.Errorf("kept %d tails, %d bytes; want at most %d bytes", len(tl.kept), tl.size, tailsKept)
	}
	if _, ok := tl.kept[tailKey{job: "j", seq: 40}]; !ok {
		t.Error("the newest tail was dropped")
	}
	if _, ok := tl.kept[tailKey{job: "j", seq: 1}]; ok {
		t.Error("the oldest tail was kept")
	}
}
