package runner

import (
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reapSweep is how often the reaper looks even without a SIGCHLD, which
// coalesces and can be missed between two looks.
const reapSweep = 5 * time.Second

// childSignals wakes the reaper on SIGCHLD, and every reapSweep.
func childSignals() (<-chan struct{}, func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGCHLD)
	wake := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(reapSweep) // a sweep, not a schedule: no Clock
		defer t.Stop()
		for {
			select {
			case <-sig:
			case <-t.C:
			case <-done:
				return
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	return wake, func() { signal.Stop(sig); close(done) }
}

// reapOrphans reaps every zombie child of this process that is not mine:
// found in /proc, and waited for by pid, so that no other child's exit
// status is taken.
func reapOrphans(mine func(int) bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	me := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || mine(pid) {
			continue
		}
		f := procStat(e.Name())
		if len(f) < 2 || string(f[0]) != "Z" || string(f[1]) != strconv.Itoa(me) {
			continue
		}
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	}
}
