package jobfile

import (
	"cmp"
	"errors"
	"reflect"
	"slices"
	"time"

	"github.com/jobctl/jobctl/store"
)

// ApplyOptions change what Apply does.
type ApplyOptions struct {
	// Prune removes the stored jobs the file does not name.
	Prune bool
	// JobsOnly leaves the stored settings alone: for a File that is not a
	// jobfile (the jobs of a crontab), which has no [scheduler],
	// [executors] or [[listener]] to speak for.
	JobsOnly bool
	// Store names the store the transaction is in ("": DefaultStore): only
	// the file's jobs that go in it are applied.
	Store string
}

// Report says what Apply did (or, rolled back, would do), by job id.
type Report struct {
	Added, Changed, Removed, Unchanged []string
	// Finished are the added or changed jobs whose trigger has no fire
	// time left: they are stored finished.
	Finished []string
	// Settings reports that the stored settings changed: history_limit,
	// mailto, sendmail, executors or listeners.
	Settings bool
}

// Changes reports whether Apply changed anything.
func (r Report) Changes() bool {
	return len(r.Added)+len(r.Changed)+len(r.Removed) > 0 || r.Settings
}

// Apply makes the store hold the file's jobs, in the caller's transaction,
// recording a store.Change for each job it adds, changes or removes so that
// a running scheduler hears of it. A job is matched by id:
//
//   - a new job is added, its trigger anchored at now;
//   - a stored job whose trigger (with its zone and bounds) is the file's
//     keeps its anchor and next run time, so applying the same file again
//     changes nothing; other differences (command, options) are written;
//   - a stored job whose trigger differs is rescheduled from now;
//   - the file decides whether a job is paused: a paused job the file does
//     not mark paused is resumed, its next run computed from now;
//   - with Prune, stored jobs the file does not name are removed;
//   - a stored job that the file puts in another store is removed, Prune or
//     not: it has moved there, and kept here it would run twice.
//
// Only the jobs of opts.Store are applied: a file naming several stores is
// applied to each in turn, in a transaction of its own.
//
// Unless JobsOnly, the file's executors, listeners and [scheduler] mailto
// and sendmail replace the stored ones, for a scheduler started without
// the file (a file with none leaves none: it is authoritative for the
// scheduler it describes); and its
// [scheduler] history_limit, when set, replaces the stored one (a file
// that does not set it leaves it, as lowering it would drop history).
func Apply(tx store.Tx, f *File, now time.Time, opts ApplyOptions) (Report, error) {
	var r Report
	here := cmp.Or(opts.Store, DefaultStore)
	inFile := make(map[string]bool, len(f.Jobs))
	var elsewhere []string
	for i := range f.Jobs {
		if cmp.Or(f.Jobs[i].Store, DefaultStore) != here {
			elsewhere = append(elsewhere, f.Jobs[i].ID)
			continue
		}
		fj := f.Jobs[i].Job
		fj.Options.Env = slices.Clone(fj.Options.Env)
		inFile[fj.ID] = true
		old, err := tx.Job(fj.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return r, err
		}
		kind, err := applyJob(tx, &fj, old, now)
		if err != nil {
			return r, err
		}
		switch kind {
		case store.JobAdded:
			r.Added = append(r.Added, fj.ID)
		case store.JobModified:
			r.Changed = append(r.Changed, fj.ID)
		default:
			r.Unchanged = append(r.Unchanged, fj.ID)
			continue
		}
		if fj.State == store.Finished && (old == nil || old.State != store.Finished) {
			r.Finished = append(r.Finished, fj.ID)
		}
		if err := tx.RecordChange(store.Change{Time: now, Kind: kind, JobID: fj.ID}); err != nil {
			return r, err
		}
	}
	gone, err := removed(tx, inFile, elsewhere, opts.Prune)
	if err != nil {
		return r, err
	}
	for _, id := range gone {
		if err := tx.DeleteJob(id); err != nil {
			return r, err
		}
		if err := tx.RecordChange(store.Change{Time: now, Kind: store.JobRemoved, JobID: id}); err != nil {
			return r, err
		}
	}
	r.Removed = gone
	if !opts.JobsOnly {
		changed, err := applySettings(tx, f)
		if err != nil {
			return r, err
		}
		r.Settings = changed
	}
	return r, nil
}

// removed lists the stored jobs that Apply removes: with prune, those not
// inFile; without, those the file puts elsewhere (in another store).
func removed(tx store.Tx, inFile map[string]bool, elsewhere []string, prune bool) ([]string, error) {
	var gone []string
	if prune {
		err := tx.Jobs(func(j *store.Job) error {
			if !inFile[j.ID] {
				gone = append(gone, j.ID)
			}
			return nil
		})
		return gone, err
	}
	for _, id := range elsewhere {
		_, err := tx.Job(id)
		switch {
		case err == nil:
			gone = append(gone, id)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	return gone, nil
}

// applySettings stores what the file says of the scheduler, and reports
// whether that changed anything.
func applySettings(tx store.Tx, f *File) (bool, error) {
	old, err := tx.Settings()
	if err != nil {
		return false, err
	}
	s := old
	if limit := f.Scheduler.HistoryLimit; limit != 0 {
		s.HistoryLimit = limit
	}
	s.MailTo, s.Sendmail = f.Scheduler.MailTo, f.Scheduler.Sendmail
	s.Ping, s.PingEvery = f.Scheduler.Ping, f.Scheduler.PingEvery
	s.Executors = slices.Clone(f.Executors)
	s.Listeners = nil
	for _, l := range f.Listeners {
		s.Listeners = append(s.Listeners, store.Listener{Events: slices.Clone(l.Events), Command: l.Command})
	}
	if s.Equal(old) {
		return false, nil
	}
	return true, tx.PutSettings(s)
}

// applyJob stores fj in place of old (nil: none) and says which change that
// was; "" is no change, with nothing written.
func applyJob(tx store.Tx, fj, old *store.Job, now time.Time) (store.ChangeKind, error) {
	fj.Updated = now
	if old == nil {
		fj.Created = now
		if err := fj.SetTrigger(now); err != nil {
			return "", err
		}
		if fj.State == store.Paused {
			fj.Pause(now)
		}
		return store.JobAdded, tx.PutJob(fj)
	}
	fj.Created = old.Created
	wantPaused := fj.State == store.Paused
	if !wantPaused {
		fj.Requested = old.Requested // a run-now still to be made
	}
	switch {
	case old.Broken != "" || !reflect.DeepEqual(old.Trigger, fj.Trigger):
		if err := fj.SetTrigger(now); err != nil {
			return "", err
		}
	case wantPaused:
		fj.Anchor = old.Anchor
	case old.State == store.Paused:
		fj.Anchor, fj.State, fj.PausedAt = old.Anchor, store.Paused, old.PausedAt
		if _, err := store.ResumePaused(tx, fj, now); err != nil {
			return "", err
		}
	default:
		// What the scheduler keeps with the job goes on.
		fj.Anchor, fj.State, fj.NextRun, fj.NextFire = old.Anchor, old.State, old.NextRun, old.NextFire
		fj.Requested, fj.Retry, fj.Buffered = old.Requested, old.Retry, old.Buffered
	}
	if wantPaused {
		fj.PausedAt = old.PausedAt // still paused since then, if it was
		fj.Pause(now)
	}
	// Unchanged but for the time of this apply is no change; a broken job
	// is written again whatever it holds, to mend it.
	unchanged := *fj
	unchanged.Updated = old.Updated
	if old.Broken == "" && unchanged.Equal(old) {
		return "", nil
	}
	return store.JobModified, tx.PutJob(fj)
}
