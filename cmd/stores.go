package cmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store/jobfile"
)

// Named stores, as APScheduler's job store aliases. A jobfile's
// [stores.NAME] tables name stores, and each of its jobs says which one it
// goes in: jobctl run -f runs a scheduler on each, and jobctl apply -f
// applies each its jobs. Every other command works on one store: the
// default one, or the one --store NAME picks; list reads them all.
//
// The names are a jobfile's, and only a jobfile's: that of -f for run and
// apply, else the one $JOBCTL_JOBFILE names. Nothing records them
// elsewhere, so there is one place that says which stores there are, and
// it is the place the user edits.

// jobfileVar names the jobfile that names the stores of commands without -f.
const jobfileVar = "JOBCTL_JOBFILE"

// namedStore is a store and its name.
type namedStore struct {
	name string
	loc  *location
}

// namingJobfile reads the jobfile $JOBCTL_JOBFILE names, when a command
// without -f needs it: for --store, or for the default store when --db
// does not name it. It is nil without one.
func (d *database) namingJobfile() (*jobfile.File, error) {
	path := os.Getenv(jobfileVar)
	if path == "" || (d.store == "" && d.path != "") {
		return nil, nil
	}
	if path == "-" {
		return nil, usagef("$%s: - (standard input) cannot name stores: name a file", jobfileVar)
	}
	// The stores it names are those jobctl run runs the commands of: it is
	// refused if others could have written it, as run -f's jobfile is.
	if err := checkPrivate(path); err != nil {
		return nil, fmt.Errorf("$%s: %w", jobfileVar, err)
	}
	return loadJobfile(path, nil)
}

// every is the stores a command that reads them all (list) works on: the
// one --store or --db names, else every store $JOBCTL_JOBFILE names.
func (d *database) every() (all []namedStore, named bool, err error) { return d.stores(nil) }

// stores resolves the stores with the flags: with --store, the one it
// names; else every one, the default store first (see defaultLocation) and
// the others by name. The jobfile of -f (f; nil: none) names them, else
// the one $JOBCTL_JOBFILE names, which also places the default store when
// f does not. named says that that jobfile names stores: then what a
// command says of a store, a line or an error, says which (storeErr).
func (d *database) stores(f *jobfile.File) (all []namedStore, named bool, err error) {
	if d.store != "" && d.path != "" {
		return nil, false, usagef("--store %q and --db %q: --db names a database, --store one that a jobfile names; give one of them", d.store, redactURL(d.path))
	}
	fileDefault := false
	if f != nil {
		_, fileDefault = f.Store(jobfile.DefaultStore)
	}
	var env *jobfile.File
	if f == nil || !fileDefault && d.path == "" {
		if env, err = d.namingJobfile(); err != nil {
			return nil, false, err
		}
	}
	def, err := d.defaultLocation(f, env)
	if err != nil {
		return nil, false, err
	}
	if f == nil {
		f = env
	}
	named = f != nil && len(f.Stores) > 0
	all = []namedStore{{jobfile.DefaultStore, def}}
	if f != nil {
		for _, s := range f.Stores {
			if s.Name == jobfile.DefaultStore {
				continue
			}
			l, err := storeLocation(s)
			if err != nil {
				return nil, false, err // loadJobfile has said where
			}
			if l.same(def) {
				return nil, false, asUsage(&jobfile.Error{File: f.Name, Pos: s.Pos,
					Msg: fmt.Sprintf("stores.%s.url %q: the default store (%s %q) too: name each store once", s.Name, l, def.flag, def)})
			}
			all = append(all, namedStore{s.Name, l})
		}
	}
	if d.store == "" {
		return all, named, nil
	}
	for _, s := range all {
		if s.name == d.store {
			return []namedStore{s}, named, nil
		}
	}
	if f == nil {
		return nil, false, usagef("--store %q: no jobfile names stores: set $%s to the one with [stores.%s] (jobctl run and apply read their -f)", d.store, jobfileVar, d.store)
	}
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.name
	}
	return nil, false, usagef("--store %q: %s has no [stores.%s] (its stores: %s)", d.store, inputName(f.Name), d.store, strings.Join(names, ", "))
}

// storeErr says which store err is about, when the stores are named.
func storeErr(name string, named bool, err error) error {
	if err == nil || !named {
		return err
	}
	return fmt.Errorf("store %s: %w", name, err)
}

// storeLocation is where a jobfile's [stores.NAME] is.
func storeLocation(s jobfile.Store) (*location, error) {
	return parseLocation("stores."+s.Name+".url", s.URL)
}

// checkStores checks the jobfile's stores for what its package cannot,
// knowing no engine: that each url names one jobctl has, and that no two
// name the same store, on which two schedulers would each take the
// other's running runs for a dead scheduler's.
func checkStores(f *jobfile.File) error {
	var es jobfile.Errors
	var seen []namedStore
	for _, s := range f.Stores {
		l, err := storeLocation(s)
		if err != nil {
			es = append(es, &jobfile.Error{File: f.Name, Pos: s.Pos, Msg: err.Error()})
			continue
		}
		for _, o := range seen {
			if l.same(o.loc) {
				es = append(es, &jobfile.Error{File: f.Name, Pos: s.Pos,
					Msg: fmt.Sprintf("stores.%s.url %q: the store of [stores.%s] too: name each store once", s.Name, l, o.name)})
				break
			}
		}
		seen = append(seen, namedStore{s.Name, l})
	}
	if len(es) > 0 {
		return es
	}
	return nil
}

// completeStores offers the names of the stores $JOBCTL_JOBFILE names.
func completeStores(d *database) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		names := []string{jobfile.DefaultStore}
		if f, err := d.namingJobfile(); err == nil && f != nil {
			for _, s := range f.Stores {
				if s.Name != jobfile.DefaultStore {
					names = append(names, s.Name)
				}
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
