package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jobctl/jobctl/store"
)

// viewDB runs fn in a read-only transaction on the database d; a database
// that does not exist reads as empty, and is not created.
func viewDB(ctx context.Context, d *database, fn func(store.Tx) error) error {
	return viewAt(ctx, d.Open, fn)
}

// viewAt is viewDB on the store that open opens.
func viewAt(ctx context.Context, open func(openMode) (store.Store, error), fn func(store.Tx) error) error {
	db, err := open(forReading)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(ctx, fn)
}

// errDryRun rolls back the transaction of a dry run.
var errDryRun = errors.New("dry run")

// update runs fn in a transaction on the database d. With dryRun, fn's
// writes are rolled back, and a database that does not exist is not
// created: a dry run leaves nothing behind.
func update(ctx context.Context, d *database, dryRun bool, fn func(store.Tx) error) error {
	return updateAt(ctx, d.Open, dryRun, fn)
}

// updateAt is update on the store that open opens.
func updateAt(ctx context.Context, open func(openMode) (store.Store, error), dryRun bool, fn func(store.Tx) error) error {
	mode := forWriting
	if dryRun {
		mode = forDryRun
	}
	db, err := open(mode)
	if err != nil {
		return err
	}
	defer db.Close()
	err = db.Update(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

// updateJobs runs edit on each job named in ids, in one transaction: all of
// them change or none does (an unknown id fails the lot). edit changes the
// job and says whether it did; a changed job is stored with a
// store.JobModified change, so a running scheduler hears of it. edit's
// notes (such as "already paused") go to errOut once the transaction
// commits.
func updateJobs(ctx context.Context, d *database, ids []string, now time.Time, errOut io.Writer, edit func(j *store.Job) (changed bool, note string, err error)) error {
	return updateJobsTx(ctx, d, ids, now, errOut, func(_ store.Tx, j *store.Job) (bool, string, error) { return edit(j) })
}

// updateJobsTx is updateJobs for an edit that also writes in the
// transaction (a run, say).
func updateJobsTx(ctx context.Context, d *database, ids []string, now time.Time, errOut io.Writer, edit func(tx store.Tx, j *store.Job) (changed bool, note string, err error)) error {
	var notes []string
	err := update(ctx, d, false, func(tx store.Tx) error {
		notes = notes[:0]
		for _, id := range ids {
			j, err := tx.Job(id)
			if err != nil {
				return err
			}
			if j.Broken != "" {
				return fmt.Errorf("job %q is broken (%s): remove it, or add it again with --replace", id, j.Broken)
			}
			changed, note, err := edit(tx, j)
			if err != nil {
				return fmt.Errorf("job %q: %w", id, err)
			}
			if note != "" {
				notes = append(notes, note)
			}
			if !changed {
				continue
			}
			j.Updated = now
			if err := tx.PutJob(j); err != nil {
				return err
			}
			if err := tx.RecordChange(store.Change{Time: now, Kind: store.JobModified, JobID: id}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(errOut, n)
	}
	return nil
}
