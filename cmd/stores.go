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

// String names the store for messages: by its table in a jobfile, else as
// the default store, with what places it.
func (s namedStore) String() string {
	if s.loc.flag == storeFlag(s.name) {
		return "the store of [stores." + s.name + "]"
	}
	return fmt.Sprintf("the %s store (%s %q)", s.name, s.loc.flag, s.loc)
}

// loadedJobfile is a jobfile, and where its stores are, which loadJobfile
// works out once.
type loadedJobfile struct {
	*jobfile.File
	stores []namedStore // its [stores.NAME] tables, in its order
}

// namingJobfile reads the jobfile $JOBCTL_JOBFILE names, when a command
// without -f needs it: for --store, or for the default store when --db
// does not name it. It is nil without one.
func (d *database) namingJobfile() (*loadedJobfile, error) {
	path := os.Getenv(jobfileVar)
	if path == "" || (d.store == "" && d.path != "") {
		return nil, nil
	}
	if path == "-" {
		return nil, usagef("$%s: - (standard input) cannot name stores: name a file", jobfileVar)
	}
	// The stores it names are those jobctl run runs the commands of: it is
	// refused if others could have written it, as run -f's jobfile is.
	f, err := loadPrivateJobfile(path, nil)
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", jobfileVar, err)
	}
	return f, nil
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
func (d *database) stores(f *loadedJobfile) (all []namedStore, named bool, err error) {
	if d.store != "" && d.path != "" {
		return nil, false, usagef("--store %q and --db %q: --db names a database, --store one that a jobfile names; give one of them", d.store, redactURL(d.path))
	}
	fileDefault := false
	if f != nil {
		_, fileDefault = f.Store(jobfile.DefaultStore)
	}
	var env *loadedJobfile
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
		for i, s := range f.stores {
			if s.name == jobfile.DefaultStore {
				continue
			}
			if err := once(f.File, f.Stores[i], s.loc, all[:1]); err != nil {
				return nil, false, asUsage(err)
			}
			all = append(all, s)
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

// storeFlag labels, in messages, the url of a jobfile's [stores.NAME].
func storeFlag(name string) string { return "stores." + name + ".url" }

// checkStores works out where the jobfile's stores are, and checks them for
// what its package cannot, knowing no engine: that each url names one
// jobctl has, and that each store is named once.
func checkStores(f *jobfile.File) ([]namedStore, error) {
	var es jobfile.Errors
	var seen []namedStore
	for _, s := range f.Stores {
		l, err := parseLocation(storeFlag(s.Name), s.URL)
		if err != nil {
			es = append(es, &jobfile.Error{File: f.Name, Pos: s.Pos, Msg: err.Error()})
			continue
		}
		if e := once(f, s, l, seen); e != nil {
			es = append(es, e)
		}
		seen = append(seen, namedStore{s.Name, l})
	}
	if len(es) > 0 {
		return nil, es
	}
	return seen, nil
}

// once refuses the store s of the jobfile f, at l, when one of seen is
// there too: two schedulers on one store would each take the other's
// running runs for a dead scheduler's.
func once(f *jobfile.File, s jobfile.Store, l *location, seen []namedStore) *jobfile.Error {
	for _, o := range seen {
		if l.same(o.loc) {
			return &jobfile.Error{File: f.Name, Pos: s.Pos,
				Msg: fmt.Sprintf("%s %q: %s too: name each store once", storeFlag(s.Name), l, o)}
		}
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
