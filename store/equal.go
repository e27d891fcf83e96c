package store

import (
	"reflect"
	"time"
)

// Job.Equal, Run.Equal and Settings.Equal tell whether two stores hold the
// same job, run or settings, as jobctl migrate asks. They compare every
// field, fields added later too, but times as instants: an engine may give
// a time back in another zone than it was stored in.

// Equal reports whether j and k say the same, Broken included, comparing
// options as Options.Equal does.
func (j *Job) Equal(k *Job) bool {
	x, y := *j, *k
	if !sameInstants([]*time.Time{&x.Anchor, &x.NextRun, &x.Requested, &x.Created, &x.Updated, &x.PausedAt},
		[]*time.Time{&y.Anchor, &y.NextRun, &y.Requested, &y.Created, &y.Updated, &y.PausedAt}) {
		return false
	}
	if !x.Options.Equal(y.Options) {
		return false
	}
	x.Options, y.Options = Options{}, Options{}
	return reflect.DeepEqual(x, y)
}

// Equal reports whether r and s say the same, the runs' exit codes
// compared by value.
func (r *Run) Equal(s *Run) bool {
	x, y := *r, *s
	if !sameInstants([]*time.Time{&x.FireTime, &x.Submitted, &x.Started, &x.Ended},
		[]*time.Time{&y.FireTime, &y.Submitted, &y.Started, &y.Ended}) {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// Equal reports whether s and t say the same, nil and empty lists alike,
// as JSON stores them.
func (s Settings) Equal(t Settings) bool {
	for _, x := range []*Settings{&s, &t} {
		if len(x.Executors) == 0 {
			x.Executors = nil
		}
		if len(x.Listeners) == 0 {
			x.Listeners = nil
		}
	}
	return reflect.DeepEqual(s, t)
}

// sameInstants reports whether each of a is the instant its peer in b is,
// and zeroes them all, for reflect.DeepEqual to compare what is left.
func sameInstants(a, b []*time.Time) bool {
	for i := range a {
		if !a[i].Equal(*b[i]) {
			return false
		}
		*a[i], *b[i] = time.Time{}, time.Time{}
	}
	return true
}
