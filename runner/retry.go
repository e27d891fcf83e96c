package runner

import (
	"errors"
	"sync"
	"syscall"
	"time"
)

// A failing store is tried again by the loop and by the writer, each on its
// own, after a delay that doubles with each failed retry of its own, from
// minBackoff up to maxBackoff, so that a store failing for long is not
// hammered. Nothing else doubles it: when every wake-up did, the commits of
// other processes (each one a signal of the store's Watch) took the delay to
// its cap within milliseconds, and a scheduler whose disk had filled went on
// waiting up to half a minute after space was freed. A sign that a write may
// succeed now brings the retry forward instead, to minBackoff after the
// failure (no sooner, however many signs come): a commit seen through
// Watch, by another process or by this scheduler's other goroutine; or,
// when the store ran out of space, more space free where it writes, as
// Config.FreeSpace says when asked every probeEvery.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
	probeEvery = time.Second
)

// retrier is the retrying of a failing store by one goroutine, the loop's
// or the writer's: its fields are that goroutine's alone.
type retrier struct {
	s   *Scheduler
	src int // which of health's sources it is
	// What the log says of a failure, and of the first success after.
	failMsg, okMsg string
	delay          time.Duration
	since          time.Time // when the store began to fail; zero while it works
	// free is what Config.FreeSpace said after the last failure, when the
	// store was out of space; probing says it is known.
	free    uint64
	probing bool
}

func newRetrier(s *Scheduler, src int, failMsg, okMsg string) *retrier {
	return &retrier{s: s, src: src, failMsg: failMsg, okMsg: okMsg}
}

// failed records that an attempt failed with err, and logs it with args.
// own says the attempt was a retry of its own, after its delay: only then
// does the delay double. The first failure sets it to minBackoff.
func (r *retrier) failed(err error, own bool, args ...any) {
	switch {
	case r.delay == 0:
		r.delay = minBackoff
		r.since = r.s.clock.Now()
	case own:
		r.delay = min(2*r.delay, maxBackoff)
	}
	r.probing = false
	if errors.Is(err, syscall.ENOSPC) && r.s.cfg.FreeSpace != nil {
		var perr error
		if r.free, perr = r.s.cfg.FreeSpace(); perr == nil {
			r.probing = true
		} else {
			r.s.log.Debug("cannot tell the free space: waiting for the store without it", "err", perr)
		}
	}
	r.s.health.set(r.src, err)
	r.s.log.Error(r.failMsg, append(args, "err", err, "in", r.delay)...)
}

// succeeded records that an attempt succeeded.
func (r *retrier) succeeded() {
	if r.delay == 0 {
		return
	}
	r.s.log.Info(r.okMsg, "failed_for", r.s.clock.Now().Sub(r.since).Round(time.Millisecond))
	r.delay, r.since, r.probing = 0, time.Time{}, false
	r.s.health.set(r.src, nil)
}

// failing reports whether the last attempt failed.
func (r *retrier) failing() bool { return r.delay != 0 }

// wait waits, after a failure, until the next attempt is due: the delay
// has elapsed (own), or a sign of a write that may succeed came and
// minBackoff has elapsed. The signs are a signal of *watch (set to nil once
// closed; a nil one never signals) and, when probing, more free space.
// sync is the loop's (nil: none): a request for it is answered once what
// is due at the clock's present reading is done, so it is returned as
// synced when an attempt is due, to be closed after it. ok is false when
// stop is closed first.
func (r *retrier) wait(stop <-chan struct{}, watch *<-chan struct{}, sync chan chan struct{}) (own bool, synced chan struct{}, ok bool) {
	full := r.s.clock.NewTimer(r.delay)
	defer full.Stop()
	soon := r.s.clock.NewTimer(minBackoff)
	defer soon.Stop()
	var probe Timer
	if r.probing {
		probe = r.s.clock.NewTimer(probeEvery)
		defer func() { probe.Stop() }()
	}
	hope, early := false, false
	heard := func(open bool) {
		hope = hope || open
		if !open {
			*watch = nil
		}
	}
	probed := func() bool {
		probe = r.s.clock.NewTimer(probeEvery)
		free, err := r.s.cfg.FreeSpace()
		return err == nil && free > r.free
	}
	for {
		if synced != nil {
			// What is due now: the timers the clock has fired, a signal
			// pending.
			if ready(full.C()) {
				return true, synced, true
			}
			early = early || ready(soon.C())
			if *watch != nil {
				select {
				case _, open := <-*watch:
					heard(open)
				default:
				}
			}
			if probe != nil && ready(probe.C()) {
				hope = probed() || hope
			}
			if !hope || !early {
				close(synced)
				synced = nil
			}
		}
		if hope && early {
			return false, synced, true
		}
		var probeC <-chan time.Time
		if probe != nil {
			probeC = probe.C()
		}
		select {
		case <-stop:
			return false, nil, false
		case <-full.C():
			return true, nil, true
		case <-soon.C():
			early = true
		case _, open := <-*watch:
			heard(open)
		case <-probeC:
			hope = probed() || hope
		case synced = <-sync:
		}
	}
}

// ready reports whether c holds a value, taking it.
func ready[T any](c <-chan T) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// The sources of health: the loop's planning and the writer's records.
const (
	loopSource = iota
	writerSource
)

// health tells Config.StoreErrors of the store's failures: each one, and
// nil once neither the loop's last attempt nor the writer's failed.
type health struct {
	report func(error) // Config.StoreErrors; nil: nobody asks
	// mu guards errs, and serialises the calls of report.
	mu   sync.Mutex
	errs [2]error // the last error of each source; nil: its last attempt succeeded
}

func (h *health) set(src int, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs[src] = err
	if h.report == nil {
		return
	}
	switch {
	case err != nil:
		h.report(err)
	case h.errs == [2]error{}:
		h.report(nil)
	}
}
