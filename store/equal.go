package store

import (
	"reflect"
	"slices"
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
	if (x.Retry == nil) != (y.Retry == nil) || len(x.Buffered) != len(y.Buffered) {
		return false
	}
	a := []*time.Time{&x.Anchor, &x.NextRun, &x.NextFire, &x.Requested, &x.Created, &x.Updated, &x.PausedAt}
	b := []*time.Time{&y.Anchor, &y.NextRun, &y.NextFire, &y.Requested, &y.Created, &y.Updated, &y.PausedAt}
	if x.Retry != nil {
		rx, ry := *x.Retry, *y.Retry
		x.Retry, y.Retry = &rx, &ry
		a, b = append(a, &rx.FireTime, &rx.At), append(b, &ry.FireTime, &ry.At)
	}
	x.Buffered, y.Buffered = slices.Clone(x.Buffered), slices.Clone(y.Buffered)
	for i := range x.Buffered {
		a = append(a, &x.Buffered[i].FireTime, &x.Buffered[i].Since)
		b = append(b, &y.Buffered[i].FireTime, &y.Buffered[i].Since)
	}
	if !sameInstants(a, b) {
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
	if (x.Stop == nil) != (y.Stop == nil) {
		return false
	}
	a := []*time.Time{&x.FireTime, &x.Submitted, &x.Started, &x.Ended, &x.RetryAt, &x.Buffered}
	b := []*time.Time{&y.FireTime, &y.Submitted, &y.Started, &y.Ended, &y.RetryAt, &y.Buffered}
	if x.Stop != nil {
		sx, sy := *x.Stop, *y.Stop
		x.Stop, y.Stop = &sx, &sy
		a, b = append(a, &sx.FireTime), append(b, &sy.FireTime)
	}
	if !sameInstants(a, b) {
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
