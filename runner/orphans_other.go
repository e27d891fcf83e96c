//go:build !linux

package runner

import (
	"errors"

	"github.com/jobctl/jobctl/store"
)

var errNoProc = errors.New("no /proc to look in on this system")

// findOrphans cannot look for processes by their environment here.
func findOrphans([]*store.Run) (map[*store.Run][]int, error) { return nil, errNoProc }

func alive([]int, []string) []int { return nil }
