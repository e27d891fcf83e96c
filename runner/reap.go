package runner

import (
	"context"
	"os/exec"
	"sync"
)

// As a container's entry point, jobctl is PID 1: the processes that the
// jobs' processes leave behind are reparented to it, and become zombies
// when they end unless it reaps them (as an init does). It must not reap its
// own children, whose exit status it waits for: children knows which they
// are, and the reaper takes what is left.

// children are the processes the scheduler started and waits for itself.
type children struct {
	// starting is held for reading while a process starts and is not yet
	// known by its pid, and for writing by a reaper, which so never sees a
	// zombie of ours it does not know.
	starting sync.RWMutex
	mu       sync.Mutex
	pids     map[int]bool
}

func newChildren() *children { return &children{pids: make(map[int]bool)} }

// start starts cmd and knows it as a child until done is called, after cmd
// has been waited for. A nil children only starts it.
func (c *children) start(cmd *exec.Cmd) (done func(), err error) {
	if c == nil {
		return func() {}, cmd.Start()
	}
	c.starting.RLock()
	defer c.starting.RUnlock()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	pid := cmd.Process.Pid
	c.mu.Lock()
	c.pids[pid] = true
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.pids, pid)
		c.mu.Unlock()
	}, nil
}

// mine reports whether pid is a child the scheduler waits for itself.
func (c *children) mine(pid int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pids[pid]
}

// reap reaps the orphans that end, until ctx is done.
func (c *children) reap(ctx context.Context) {
	wake, stop := childSignals()
	defer stop()
	for {
		c.starting.Lock()
		reapOrphans(c.mine)
		c.starting.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return
		}
	}
}
