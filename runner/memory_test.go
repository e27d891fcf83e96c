package runner

import (
	"testing"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/memory"
)

// newMemory returns an empty memory store, closed when the test ends.
func newMemory(t testing.TB) store.Store {
	t.Helper()
	s, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
