package bolt

import (
	"context"
	"sync"
)

// watchers are the channels returned by a Store's Watch. A signal is a
// non-blocking send on a channel of capacity one, so a burst of commits
// coalesces into one pending signal and a slow reader never blocks a writer.
type watchers struct {
	mu     sync.Mutex
	chans  map[chan struct{}]struct{}
	ctx    context.Context // done when the store closes
	cancel context.CancelFunc
}

func (w *watchers) init() {
	w.chans = make(map[chan struct{}]struct{})
	w.ctx, w.cancel = context.WithCancel(context.Background())
}

// add registers a channel, and returns it with a context that is done, and
// the channel closed, when ctx is done or the store closes.
func (w *watchers) add(ctx context.Context) (chan struct{}, context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(w.ctx, cancel)
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	w.chans[ch] = struct{}{}
	w.mu.Unlock()
	go func() {
		<-ctx.Done()
		stop()
		w.remove(ch)
	}()
	return ch, ctx
}

// remove closes ch unless that was done already.
func (w *watchers) remove(ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.chans[ch]; ok {
		delete(w.chans, ch)
		close(ch)
	}
}

func (w *watchers) broadcast() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.chans {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// close closes every channel, now rather than when the goroutines of add
// get round to it, so that a reader sees the end as soon as Close returns.
func (w *watchers) close() {
	w.cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.chans {
		delete(w.chans, ch)
		close(ch)
	}
}
