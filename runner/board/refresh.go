package board

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/jobctl/jobctl/store"
)

// readTimeout bounds a refresh's wait for the store (a lock, a connection).
const readTimeout = 5 * time.Second

// runsPerRead bounds the jobs whose runs one read transaction re-reads: a
// first refresh of a large store reads them all, in transactions short
// enough not to delay the scheduler's writes.
const runsPerRead = 100

// refresh reads the next snapshot after old (nil: the first). One read
// transaction reads the jobs and what says which runs changed: the
// journal, the runs in progress, the keys of the newest runs. Then the runs
// to read are read, runsPerRead jobs a transaction: a job's whole window
// (DefaultRuns) when the board has not seen it, or the journal names it;
// else only its runs that are new or have ended since, so that a refresh
// reads in proportion to what changed, not to the jobs' histories.
func (b *Board) refresh(ctx context.Context, old *Snapshot) (*Snapshot, error) {
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
	var reads []*update
	err := b.cfg.Store.View(ctx, func(tx store.Tx) error {
		next, reads = &Snapshot{Seq: seq}, nil
		set, err := tx.Settings()
		if err != nil {
			return err
		}
		next.Paused = set.Paused
		if ftx, ok := tx.(store.FleetTx); ok {
			if next.Members, err = ftx.Members(); err != nil {
				return err
			}
			if next.StoreTime, err = ftx.Now(); err != nil {
				return err
			}
		}
		var whole dirtySet
		if changeSeq, err = b.changed(tx, &whole); err != nil {
			return err
		}
		changes, err := b.runsChanged(tx, prev, &whole)
		if err != nil {
			return err
		}
		return tx.Jobs(func(j *store.Job) error {
			nj := &Job{Job: j}
			pj := prev[j.ID]
			switch u := changes[j.ID]; {
			case pj == nil || whole.has(j.ID):
				reads = append(reads, &update{job: nj, whole: true})
			case u != nil:
				u.job, u.shown = nj, pj.Runs
				reads = append(reads, u)
			default:
				nj.Runs = pj.Runs // shared, read-only
			}
			next.Jobs = append(next.Jobs, nj)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	// When the jobs were read: by our clock beside StoreTime, the
	// store's, before the histories' reads.
	next.Taken = b.cfg.Now()
	for len(reads) > 0 {
		batch := reads[:min(len(reads), runsPerRead)]
		reads = reads[len(batch):]
		err := b.cfg.Store.View(ctx, func(tx store.Tx) error {
			for _, u := range batch {
				if err := b.read(tx, u); err != nil && !errors.Is(err, store.ErrNotFound) { // removed meanwhile: the next refresh drops it
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	b.changeSeq, b.seen = changeSeq, true
	return next, nil
}

// update is what a refresh reads of one job's runs.
type update struct {
	job   *Job
	whole bool         // its newest runs, all of them; else:
	shown []*store.Run // the runs the last snapshot showed, newest first
	read  []uint64     // the seqs of its runs to read: new, or ended since
	fresh []*store.Run // its runs in progress, as the store has them now
}

// read sets u.job's runs.
func (b *Board) read(tx store.Tx, u *update) error {
	if u.whole {
		runs, err := tx.Runs(u.job.ID, b.cfg.Runs)
		for _, r := range runs {
			r.Output = ""
		}
		u.job.Runs = runs
		return err
	}
	byseq := make(map[uint64]*store.Run, len(u.shown)+len(u.read))
	for _, r := range u.shown {
		byseq[r.Seq] = r
	}
	for _, r := range u.fresh {
		byseq[r.Seq] = r
	}
	for _, seq := range u.read {
		r, err := tx.Run(u.job.ID, seq)
		if errors.Is(err, store.ErrNotFound) {
			delete(byseq, seq) // trimmed from the history meanwhile
			continue
		}
		if err != nil {
			return err
		}
		r.Output = ""
		byseq[seq] = r
	}
	runs := slices.SortedFunc(maps.Values(byseq), func(a, b *store.Run) int { return cmp.Compare(b.Seq, a.Seq) })
	u.job.Runs = runs[:min(len(runs), b.cfg.Runs)]
	return nil
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

// runsChanged says, for each job of prev (the last snapshot's) whose runs
// changed since, what changed: a run it did not show (newer than its
// newest), one that ended, one in progress that started or that it did not
// show. It adds to whole every job when more runs are new than it looked
// at.
func (b *Board) runsChanged(tx store.Tx, prev map[string]*Job, whole *dirtySet) (map[string]*update, error) {
	changes := map[string]*update{}
	of := func(id string) *update {
		if changes[id] == nil {
			changes[id] = &update{}
		}
		return changes[id]
	}
	running, err := tx.RunningRuns()
	if err != nil {
		return nil, err
	}
	isRunning := make(map[store.RunKey]bool, len(running))
	for _, r := range running {
		isRunning[store.RunKey{JobID: r.JobID, Seq: r.Seq}] = true
		pj := prev[r.JobID]
		if pj == nil {
			continue // new: read whole
		}
		if shown := pj.run(r.Seq); shown == nil || shown.Outcome != store.Running || !shown.Started.Equal(r.Started) {
			r.Output = ""
			of(r.JobID).fresh = append(of(r.JobID).fresh, r)
		}
	}
	for id, pj := range prev {
		for _, r := range pj.Runs {
			if r.Outcome == store.Running && !isRunning[store.RunKey{JobID: id, Seq: r.Seq}] {
				of(id).read = append(of(id).read, r.Seq) // it ended
			}
		}
	}
	// The newest runs of all jobs: those a job did not have yet, such as
	// missed and skipped fire times, which never run. Look at enough for a
	// refresh's worth of runs of many jobs firing every second; their keys
	// only, as they cost nothing to read.
	k := b.cfg.Runs + 2*len(prev)
	recent, err := tx.RunKeys(k)
	if err != nil {
		return nil, err
	}
	unseen := 0
	for _, key := range recent {
		pj := prev[key.JobID]
		if pj == nil || isRunning[key] {
			continue // read whole, or in progress: fresh above
		}
		if len(pj.Runs) == 0 || key.Seq > pj.Runs[0].Seq {
			of(key.JobID).read = append(of(key.JobID).read, key.Seq)
			unseen++
		}
	}
	if len(prev) > 0 && len(recent) == k && unseen == len(recent) {
		whole.all = true // more new runs than it looked at: some may be older still
	}
	return changes, nil
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
