package jobfile

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/jobctl/jobctl/store"
)

// Named stores, as APScheduler's job store aliases: a jobfile may name
// stores, [stores.NAME] url = "...", and each job says which one it goes in
// (store = "NAME"; DefaultStore when it says nothing). This package knows no
// engine: a url with a scheme ("postgres://...") is kept as written, for the
// caller to open or refuse; anything else is a file path, made absolute
// against the jobfile's directory (as dir is), so that the file names the
// same stores from whatever directory it is used.

// DefaultStore is the store of a job that names none, and the one a
// [stores.default] table, when there is one, places.
const DefaultStore = "default"

// Store is a [stores.NAME] table.
type Store struct {
	Name string
	URL  string   // with a scheme, as written; else an absolute file path
	Pos  Position // its url key
}

// Store returns the [stores.NAME] table of name, if the file has one.
func (f *File) Store(name string) (Store, bool) {
	i := slices.IndexFunc(f.Stores, func(s Store) bool { return s.Name == name })
	if i < 0 {
		return Store{}, false
	}
	return f.Stores[i], true
}

func (d *decoder) stores(f *File, m map[string]any) {
	for _, name := range sortedKeys(m) {
		path, label := "stores."+name, "stores."+name
		if err := store.CheckStoreName(name); err != nil {
			d.errorf(path, "stores", "%v", err)
			continue
		}
		t, ok := d.table(path, label, m[name])
		if !ok {
			continue
		}
		d.unknown(path, label, t, "url")
		v, has := t["url"]
		if !has {
			d.errorf(path, label, "no url (want a database file path or a postgres:// URL)")
			continue
		}
		url, ok := d.str(path+".url", label+": url", v)
		switch {
		case !ok:
			continue
		case strings.TrimSpace(url) == "":
			d.errorf(path+".url", label+": url", "empty (want a database file path or a postgres:// URL)")
			continue
		case !strings.Contains(url, "://") && !filepath.IsAbs(url):
			url = filepath.Join(d.base(), url)
		}
		f.Stores = append(f.Stores, Store{Name: name, URL: url, Pos: d.at(path + ".url")})
	}
}

// jobStore reads a job's store key: default, or a [stores.NAME] the file
// has.
func (d *decoder) jobStore(f *File, path, label string, m map[string]any) string {
	v, has := m["store"]
	if !has {
		return DefaultStore
	}
	name, ok := d.str(path+".store", label+": store", v)
	if !ok {
		return DefaultStore
	}
	if _, known := f.Store(name); !known && name != DefaultStore {
		d.errorf(path+".store", label+": store", "%q is not defined (want default or the name of a [stores.NAME] table)", name)
	}
	return name
}
