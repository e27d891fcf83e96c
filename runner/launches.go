package runner

import (
	"sync"
	"time"
)

// maxHold bounds how long the writer holds its commits for a burst of
// starts: while a backlog waits for workers, runs are still recorded.
const maxHold = 500 * time.Millisecond

// launches counts the instances handed to a worker whose first process has
// not started yet. The writer holds its commits while there are any (for
// at most maxHold), so that the commit, its fsync and the encoding of the
// runs it records do not compete for the CPU with a burst of processes
// starting at one fire time: the second's last start would be late by that
// much.
type launches struct {
	mu   sync.Mutex
	n    int
	none chan struct{} // closed while n is 0
}

func newLaunches() *launches {
	l := &launches{none: make(chan struct{})}
	close(l.none)
	return l
}

// add counts an instance handed to a worker.
func (l *launches) add() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n++; l.n == 1 {
		l.none = make(chan struct{})
	}
}

// done counts off an instance whose first process has started, or which
// will start none.
func (l *launches) done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n--; l.n == 0 {
		close(l.none)
	}
}

// wait returns once no launch is pending, or after maxHold.
func (l *launches) wait() {
	l.mu.Lock()
	none := l.none
	l.mu.Unlock()
	select {
	case <-none:
		return
	default:
	}
	// A safety net, not a schedule: the real clock's time.
	t := RealClock{}.NewTimer(maxHold)
	defer t.Stop()
	select {
	case <-none:
	case <-t.C():
	}
}
