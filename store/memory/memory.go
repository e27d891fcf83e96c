// Package memory is the store engine for jobs that need not outlive the
// process: jobctl run --memory, tests, and Go programs that schedule
// functions. It is the bbolt engine on a file no other process can reach
// (see bolt.OpenTemp), so it behaves as the bbolt store does by
// construction: one body of code, one set of invariants, one conformance
// suite; writing it as its own ordered trees and undo log took more code
// and could only ever approximate that.
package memory

import (
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/bolt"
)

// New returns an empty Store. Its Watch channels signal every commit that
// changed something (there is no other process to hear from). It fails only
// when the temporary directory cannot hold a file.
func New() (store.Store, error) { return bolt.OpenTemp() }
