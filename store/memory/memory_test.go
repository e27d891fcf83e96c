package memory

import (
	"testing"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := New()
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
