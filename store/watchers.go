package store

import (
	"context"
	"sync"
)

// watchers are the channels returned by a Store's Watch. A signal is a
// non-blocking send on a channel of capacity one, so a burst of commits
// coalesces into one pending signal and a slow reader never blocks a writer.
type watchers struct {
	mu    sync.Mutex
	chans map[chan struct{}]struct{}
	done  chan struct{} // closed by close: every channel is closed then
}

func (w *watchers) init() {
	w.chans = make(map[chan struct{}]struct{})
	w.done = make(chan struct{})
}

// add registers a channel that closes when ctx is done or the store closes.
func (w *watchers) add(ctx context.Context) chan struct{} {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	w.chans[ch] = struct{}{}
	w.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-w.done:
		}
		w.remove(ch)
	}()
	return ch
}

// remove closes ch unless close already did.
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

func (w *watchers) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.chans {
		delete(w.chans, ch)
		close(ch)
	}
	close(w.done)
}
