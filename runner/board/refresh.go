package board

import (
	"context"
	"errors"
	"time"

	"github.com/jobctl/jobctl/store"
)

// readTimeout bounds a refresh's wait for the store (a lock, a connection).
const readTimeout = 5 * time.Second

// runsPerRead bounds the jobs whose runs one read transaction re-reads: a
// first refresh of a large store reads them all, in transactions short
// enough not to delay the scheduler's writes.
const runsPerRead = 100

// refresh reads the next snapshot after old (nil: the first): the jobs, and
// what says which of them have runs to re-read, in one read transaction;
// then those runs, runsPerRead jobs a transaction. poked are the jobs whose
// runs are re-read whatever the store says.
func (b *Board) refresh(ctx context.Context, old *Snapshot, poked map[string]bool) (*Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	prev := map[string]*Job{}
	seq := uint64(1)
	if old != nil {
		seq = old.Seq + 1
		for _, j := range old.Jobs {
			prev[j.ID] = j
		}
	}
	var next *Snapshot
	var changeSeq uint64
	var stale []*Job // whose runs are to be read
	err := b.cfg.Store.View(ctx, func(tx store.Tx) error {
		next, stale = &Snapshot{Seq: seq}, nil
		set, err := tx.Settings()
		if err != nil {
			return err
		}
		next.Paused = set.Paused
		if ftx, ok := tx.(store.FleetTx); ok {
			if next.Members, err = ftx.Members(); err != nil {
				return err
			}
		}
		var dirty dirtySet
		if changeSeq, err = b.changed(tx, &dirty); err != nil {
			return err
		}
		if err := b.runsChanged(tx, prev, &dirty); err != nil {
			return err
		}
		return tx.Jobs(func(j *store.Job) error {
			nj := &Job{Job: j}
			if pj := prev[j.ID]; pj != nil && !dirty.has(j.ID) && !poked[j.ID] {
				nj.Runs = pj.Runs // shared, read-only
			} else {
				stale = append(stale, nj)
			}
			next.Jobs = append(next.Jobs, nj)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	for len(stale) > 0 {
		batch := stale[:min(len(stale), runsPerRead)]
		stale = stale[len(batch):]
		err := b.cfg.Store.View(ctx, func(tx store.Tx) error {
			for _, j := range batch {
				runs, err := b.runsOf(tx, j.ID)
				if err != nil && !errors.Is(err, store.ErrNotFound) { // removed meanwhile: the next refresh drops it
					return err
				}
				j.Runs = runs
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	b.changeSeq, b.seen = changeSeq, true
	next.Taken = b.cfg.Now()
	return next, nil
}

// dirtySet is the jobs whose runs a refresh re-reads; all: every job's.
type dirtySet struct {
	all bool
	ids map[string]bool
}

func (d *dirtySet) add(id string) {
	if d.ids == nil {
		d.ids = map[string]bool{}
	}
	d.ids[id] = true
}

func (d *dirtySet) has(id string) bool { return d.all || d.ids[id] }

// changed adds the jobs the journal names since the last refresh to d (all
// of them when entries were lost), and returns the seq of its last entry.
func (b *Board) changed(tx store.Tx, d *dirtySet) (uint64, error) {
	changes, err := tx.ChangesSince(b.changeSeq)
	if err != nil {
		return 0, err
	}
	if len(changes) == 0 {
		return b.changeSeq, nil
	}
	if b.seen && changes[0].Seq > b.changeSeq+1 {
		d.all = true // the journal dropped entries this board did not see
	}
	if b.seen {
		for _, c := range changes {
			if c.JobID != "" {
				d.add(c.JobID)
			}
		}
	}
	return changes[len(changes)-1].Seq, nil
}

// runsChanged adds to d the jobs of prev (the last snapshot's) that have a
// run it did not show (newer than its newest), one that started or ended
// since, or one in progress it did not show.
func (b *Board) runsChanged(tx store.Tx, prev map[string]*Job, d *dirtySet) error {
	running, err := tx.RunningRuns()
	if err != nil {
		return err
	}
	isRunning := make(map[runKey]*store.Run, len(running))
	for _, r := range running {
		isRunning[runKey{r.JobID, r.Seq}] = r
		pj := prev[r.JobID]
		if pj == nil {
			continue // new: read anyway
		}
		if shown := pj.run(r.Seq); shown == nil || shown.Outcome != store.Running || !shown.Started.Equal(r.Started) {
			d.add(r.JobID)
		}
	}
	for id, pj := range prev {
		for _, r := range pj.Runs {
			if r.Outcome == store.Running && isRunning[runKey{id, r.Seq}] == nil {
				d.add(id) // it ended
				break
			}
		}
	}
	// The newest runs of all jobs: those a job did not have yet, such as
	// missed and skipped fire times, which never run. Read enough for a
	// refresh's worth of runs of many jobs firing every second.
	k := b.cfg.Runs + 2*len(prev)
	recent, err := tx.Runs("", k)
	if err != nil {
		return err
	}
	unseen := 0
	for _, r := range recent {
		pj := prev[r.JobID]
		if pj == nil || len(pj.Runs) == 0 || r.Seq > pj.Runs[0].Seq {
			d.add(r.JobID)
			unseen++
		}
	}
	if len(prev) > 0 && len(recent) == k && unseen == len(recent) {
		d.all = true // more new runs than it read: some may be older still
	}
	return nil
}

type runKey struct {
	job string
	seq uint64
}

// run returns j's run of that seq among those shown, or nil.
func (j *Job) run(seq uint64) *store.Run {
	for _, r := range j.Runs {
		if r.Seq == seq {
			return r
		}
	}
	return nil
}

// runsOf reads the newest runs of job id, their Output dropped: readers
// that want a run's output read that run.
func (b *Board) runsOf(tx store.Tx, id string) ([]*store.Run, error) {
	runs, err := tx.Runs(id, b.cfg.Runs)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		r.Output = ""
	}
	return runs, nil
}
