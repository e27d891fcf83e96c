package runner

import (
	"testing"
	"time"
)

// The writer's wait returns once no launch is pending, not before.
func TestLaunchesWait(t *testing.T) {
	l := newLaunches()
	l.wait() // none pending: at once
	l.add()
	l.add()
	waited := make(chan struct{})
	go func() {
		l.wait()
		close(waited)
	}()
	l.done()
	select {
	case <-waited:
		t.Fatal("wait returned with a launch pending")
	case <-time.After(maxHold / 10):
	}
	l.done()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return once no launch was pending")
	}
	l.add()
	start := time.Now()
	l.wait() // bounded: a launch that never ends holds no commit for ever
	if d := time.Since(start); d < maxHold {
		t.Errorf("wait returned after %s with a launch pending, before maxHold", d)
	}
}
