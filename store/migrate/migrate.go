// Package migrate copies the jobs, their history and the scheduler's
// settings from one store to another, of any engines (jobctl migrate: a
// bbolt file into PostgreSQL, and back). It speaks only the store contract.
//
// What is copied:
//
//   - the settings, and every job as it is stored (its state, next run,
//     anchor and times), so that a scheduler on the target carries on where
//     the source's stopped;
//   - each job's runs, with their seqs (Tx.RestoreRun), as many as the
//     source's history limit keeps: the target, given that limit with the
//     settings, would drop the others at once;
//   - not the broken jobs, which no engine stores (PutJob refuses them):
//     they are reported;
//   - not the scheduler's periods (store.Period: its sessions and
//     pauses). They say when the source's schedulers ran, which jobctl
//     why reads to explain a missed run; copied, a target's why would
//     take the source's schedulers for its own. (A pause in force is
//     copied with the settings, and starts a pause period on the target.)
//   - not the journal. It tells the schedulers running on a store what
//     changed in that store since they last read it, by that store's own
//     numbering; a scheduler on the target has nothing to learn from the
//     source's past. The copy records its own changes on the target
//     instead, as every command does, so that a scheduler running there
//     hears of the jobs it adds.
//
// Each job is copied with all its runs in one transaction, so that the
// target never holds part of a job's history; several jobs share a
// transaction until it holds Options.Batch jobs and runs, so that 100,000
// runs do not make one transaction that holds them all. A copy that fails
// part way leaves whole jobs behind, and copying again copies the rest.
//
// The source is read in as many transactions: a source that changes
// meanwhile (a scheduler running on it) is copied as of no one moment, so
// the caller should stop its scheduler first.
//
// Copying is idempotent: a job the target holds as the source does
// (Job.Equal, and the same runs by Run.Equal) is left alone, so a second
// copy writes nothing. Without Options.Force, a target that holds jobs
// must hold nothing else, and the source's settings: otherwise the copy is
// refused, with a ConflictError, before anything is written. With Force,
// the target's jobs of the source's ids are replaced, their history too,
// and its other jobs are left alone.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jobctl/jobctl/store"
)

// DefaultBatch is how many jobs and runs a transaction writes, unless
// Options say otherwise.
const DefaultBatch = 1000

// batchBytes ends a batch early when its runs' output adds up to this
// much: the batch is held in memory, and a run keeps up to 64 KiB.
const batchBytes = 16 << 20

// Options say how Copy copies.
type Options struct {
	// Force replaces the target's jobs that differ from the source's and
	// leaves alone those the source lacks, instead of refusing the copy.
	Force bool
	// DryRun decides and reports, and writes nothing.
	DryRun bool
	// Now is the time of the changes recorded on the target (and of the
	// start of a pause the settings copy).
	Now time.Time
	// Batch is how many jobs and runs one transaction writes, at least one
	// whole job whatever its history; 0 is DefaultBatch.
	Batch int
}

// Report is what Copy did, or with DryRun would do. Job lists are in id
// order.
type Report struct {
	Copied    []string     // jobs added to the target
	Replaced  []string     // the target's jobs replaced (Force)
	Unchanged []string     // jobs the target held as the source does
	Kept      []string     // the target's jobs the source lacks, left alone (Force)
	Broken    []*store.Job // the source's broken jobs, not copied
	Runs      int          // runs copied, those of replaced jobs included
	Settings  bool         // the settings were copied (the target's differed)
}

// ConflictError is a copy refused without Force: the target holds jobs the
// source lacks, jobs that differ from the source's, or other settings.
type ConflictError struct {
	Foreign  []string // jobs the source lacks
	Differ   []string // jobs the source holds otherwise (or their runs)
	Settings bool     // the settings differ
}

func (e *ConflictError) Error() string {
	var parts []string
	if len(e.Foreign) > 0 {
		parts = append(parts, "jobs the source does not have ("+quoteSome(e.Foreign)+")")
	}
	if len(e.Differ) > 0 {
		parts = append(parts, "jobs that differ from the source's, or whose runs do ("+quoteSome(e.Differ)+")")
	}
	if e.Settings {
		parts = append(parts, "other settings than the source's")
	}
	return "the target is not empty: it holds " + strings.Join(parts, "; ")
}

// Copy copies from's settings, jobs and history into to, as the package
// doc says. On a ConflictError nothing was written, unless the target
// gained a job of the source's while the copy ran; on another error, the
// jobs the Report lists as copied or replaced were.
func Copy(ctx context.Context, from, to store.Store, o Options) (*Report, error) {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	sv, err := look(ctx, from, to, o.Batch)
	if err != nil {
		return nil, err
	}
	rep := sv.rep
	if !o.Force && sv.targetJobs && (len(rep.Kept) > 0 || len(sv.differ) > 0 || rep.Settings) {
		return nil, &ConflictError{Foreign: rep.Kept, Differ: sv.differ, Settings: rep.Settings}
	}
	if rep.Settings && !o.DryRun {
		err := to.Update(ctx, func(tx store.Tx) error { return putSettings(tx, sv.settings, o.Now) })
		if err != nil {
			return rep, fmt.Errorf("writing the settings: %w", err)
		}
	}
	for todo := sv.todo; len(todo) > 0; {
		var batch []*jobRuns
		if batch, todo, err = readBatch(ctx, from, todo, sv.limit, o.Batch); err != nil {
			return rep, fmt.Errorf("reading the source: %w", err)
		}
		if err := write(ctx, to, batch, o, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// survey is what look finds before anything is written.
type survey struct {
	rep        *Report        // Broken, Unchanged, Kept and Settings filled in
	settings   store.Settings // the source's
	limit      int            // the source's history limit
	todo       []string       // the source's jobs to copy, in id order
	differ     []string       // the jobs both hold, differently
	targetJobs bool           // the target holds jobs
}

// look reads the source's settings and jobs, and compares the jobs both
// stores hold, so that a refused copy writes nothing.
func look(ctx context.Context, from, to store.Store, batch int) (*survey, error) {
	sv := &survey{rep: &Report{}}
	var ids []string
	err := from.View(ctx, func(tx store.Tx) (err error) {
		ids, sv.rep.Broken = nil, nil
		if sv.settings, err = tx.Settings(); err != nil {
			return err
		}
		return tx.Jobs(func(j *store.Job) error {
			if j.Broken != "" {
				sv.rep.Broken = append(sv.rep.Broken, j)
			} else {
				ids = append(ids, j.ID)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading the source: %w", err)
	}
	sv.limit = sv.settings.KeptRuns()

	var theirs []string
	var settings store.Settings
	err = to.View(ctx, func(tx store.Tx) (err error) {
		theirs = theirs[:0]
		if settings, err = tx.Settings(); err != nil {
			return err
		}
		return tx.Jobs(func(j *store.Job) error { theirs = append(theirs, j.ID); return nil })
	})
	if err != nil {
		return nil, fmt.Errorf("reading the target: %w", err)
	}
	sv.rep.Settings = !sv.settings.Equal(settings)
	sv.targetJobs = len(theirs) > 0

	ours := make(map[string]bool, len(ids))
	for _, id := range ids {
		ours[id] = true
	}
	var common []string
	for _, id := range theirs {
		if ours[id] {
			common = append(common, id)
		} else {
			sv.rep.Kept = append(sv.rep.Kept, id)
		}
	}
	unchanged, differ, err := compare(ctx, from, to, common, sv.limit, batch)
	if err != nil {
		return nil, err
	}
	for _, id := range common {
		if !unchanged[id] && !differ[id] {
			sv.rep.Kept = append(sv.rep.Kept, id) // gone from the source since
		}
	}
	slices.Sort(sv.rep.Kept)
	sv.rep.Unchanged, sv.differ = slices.Sorted(maps.Keys(unchanged)), slices.Sorted(maps.Keys(differ))
	sv.todo = slices.DeleteFunc(ids, func(id string) bool { return unchanged[id] })
	return sv, nil
}

// jobRuns is a job and the runs of it to copy, oldest first.
type jobRuns struct {
	job  *store.Job
	runs []*store.Run
}

// readBatch reads the first jobs of ids from s, with the runs of each that
// a history limit of limit keeps, until they are size jobs and runs or
// hold batchBytes of output; it returns them and the ids left. A job gone
// from s meanwhile is left out.
func readBatch(ctx context.Context, s store.Store, ids []string, limit, size int) ([]*jobRuns, []string, error) {
	var batch []*jobRuns
	var n int
	err := s.View(ctx, func(tx store.Tx) error {
		batch, n = batch[:0], 0
		records, bytes := 0, 0
		for n < len(ids) && records < size && bytes < batchBytes {
			id := ids[n]
			n++
			j, err := tx.Job(id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			runs, err := tx.Runs(id, 0)
			if err != nil {
				return err
			}
			runs = kept(runs, limit)
			slices.Reverse(runs)
			batch = append(batch, &jobRuns{j, runs})
			records += 1 + len(runs)
			for _, r := range runs {
				bytes += len(r.Output)
			}
		}
		return nil
	})
	return batch, ids[n:], err
}

// kept is what a history limit keeps of runs (newest first, by seq): every
// run in progress and the newest limit finished runs.
func kept(runs []*store.Run, limit int) []*store.Run {
	finished := 0
	return slices.DeleteFunc(runs, func(r *store.Run) bool {
		if r.Outcome == store.Running {
			return false
		}
		finished++
		return finished > limit
	})
}

// compare reads the jobs ids from both stores, a batch at a time, and
// tells those the target holds as the source does (runs included) from
// those it holds otherwise; an id in neither set is gone from the source.
func compare(ctx context.Context, from, to store.Store, ids []string, limit, size int) (same, differ map[string]bool, err error) {
	same, differ = map[string]bool{}, map[string]bool{}
	for len(ids) > 0 {
		var batch []*jobRuns
		if batch, ids, err = readBatch(ctx, from, ids, limit, size); err != nil {
			return nil, nil, fmt.Errorf("reading the source: %w", err)
		}
		err := to.View(ctx, func(tx store.Tx) error {
			for _, want := range batch {
				ok, err := holds(tx, want)
				if err != nil {
					return err
				}
				if ok {
					same[want.job.ID] = true
				} else {
					differ[want.job.ID] = true
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("reading the target: %w", err)
		}
	}
	return same, differ, nil
}

// holds reports whether tx holds want's job and exactly its runs.
func holds(tx store.Tx, want *jobRuns) (bool, error) {
	j, err := tx.Job(want.job.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if want.job.Broken != "" || !j.Equal(want.job) {
		return false, nil
	}
	runs, err := tx.Runs(j.ID, 0)
	if err != nil {
		return false, err
	}
	if len(runs) != len(want.runs) {
		return false, nil
	}
	for i, r := range runs { // newest first; want's are oldest first
		if !r.Equal(want.runs[len(runs)-1-i]) {
			return false, nil
		}
	}
	return true, nil
}

// write copies a batch into to in one transaction (none with DryRun),
// replacing the jobs it holds of the same ids, and adds what it did to rep.
func write(ctx context.Context, to store.Store, batch []*jobRuns, o Options, rep *Report) error {
	var copied, replaced []string
	var broken []*store.Job
	var runs int
	fn := func(tx store.Tx) error {
		copied, replaced, broken, runs = copied[:0], replaced[:0], broken[:0], 0
		for _, jr := range batch {
			j := jr.job
			if j.Broken != "" { // broken since the source was first read
				broken = append(broken, j)
				continue
			}
			kind := store.JobAdded
			switch _, err := tx.Job(j.ID); {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return err
			case !o.Force:
				return &ConflictError{Differ: []string{j.ID}} // added to the target meanwhile
			default:
				kind = store.JobModified
				if !o.DryRun {
					if err := tx.DeleteJob(j.ID); err != nil {
						return err
					}
				}
			}
			if kind == store.JobAdded {
				copied = append(copied, j.ID)
			} else {
				replaced = append(replaced, j.ID)
			}
			runs += len(jr.runs)
			if o.DryRun {
				continue
			}
			if err := tx.PutJob(j); err != nil {
				return err
			}
			for _, r := range jr.runs {
				if err := tx.RestoreRun(r); errors.Is(err, store.ErrDuplicateRun) {
					return fmt.Errorf("job %q: run %d, fire time %s, attempt %d, repeats another run of the job (the target holds one): %w",
						r.JobID, r.Seq, r.FireTime.Format(time.RFC3339Nano), r.AttemptNumber(), store.ErrDuplicateRun)
				} else if err != nil {
					return err
				}
			}
			if err := tx.RecordChange(store.Change{Time: o.Now, Kind: kind, JobID: j.ID}); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if o.DryRun {
		err = to.View(ctx, fn)
	} else {
		err = to.Update(ctx, fn)
	}
	if err != nil {
		var ce *ConflictError
		if errors.As(err, &ce) {
			return err
		}
		return fmt.Errorf("writing the target: %w", err)
	}
	rep.Copied = append(rep.Copied, copied...)
	rep.Replaced = append(rep.Replaced, replaced...)
	rep.Broken = append(rep.Broken, broken...)
	rep.Runs += runs
	return nil
}

// putSettings writes s, recording a pause or a resume of the scheduler as
// the change it is.
func putSettings(tx store.Tx, s store.Settings, now time.Time) error {
	if _, err := store.SetPaused(tx, s.Paused, now); err != nil {
		return err
	}
	return tx.PutSettings(s)
}

// quoteSome quotes the first few of ids, for a message.
func quoteSome(ids []string) string {
	const some = 5
	q := make([]string, 0, some)
	for _, id := range ids[:min(len(ids), some)] {
		q = append(q, fmt.Sprintf("%q", id))
	}
	if len(ids) > some {
		q = append(q, fmt.Sprintf("and %d more", len(ids)-some))
	}
	return strings.Join(q, ", ")
}
