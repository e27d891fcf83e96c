package runner

import (
	"bytes"
	"os"
	"slices"
	"strconv"

	"github.com/jobctl/jobctl/store"
)

// findOrphans returns, for each run, the live processes whose environment
// has all of its runEnv.
func findOrphans(runs []*store.Run) (map[*store.Run][]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	want := make([][]string, len(runs))
	for i, r := range runs {
		want[i] = runEnv(r)
	}
	found := make(map[*store.Run][]int)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue // gone, or not ours to read: not a job of ours
		}
		for i, r := range runs {
			if hasEnv(env, want[i]) {
				found[r] = append(found[r], pid)
			}
		}
	}
	return found, nil
}

// alive returns those of pids that are still processes with the
// environment want (a pid reused by another process is not one of them).
func alive(pids []int, want []string) []int {
	return slices.DeleteFunc(slices.Clone(pids), func(pid int) bool {
		env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		return err != nil || !hasEnv(env, want)
	})
}

// hasEnv reports whether the NUL-separated environment env holds every
// entry of want.
func hasEnv(env []byte, want []string) bool {
	entries := bytes.Split(env, []byte{0})
	for _, w := range want {
		if !slices.ContainsFunc(entries, func(e []byte) bool { return string(e) == w }) {
			return false
		}
	}
	return true
}
