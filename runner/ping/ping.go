// Package ping sends the pings of run monitors, in the conventions of
// healthchecks.io, which Healthchecks, Uptime Kuma push monitors and
// Cronitor-compatible services accept: a POST to the check's URL, with a
// signal appended to its path (start, fail, log, an exit code; none for a
// plain success) and the run's id as rid in its query, so that the monitor
// pairs a run's start with its end and times it.
//
// A Sender sends them off its callers' path: Send queues and returns at
// once. Pings of one key (a job) are sent one at a time, in the order they
// were queued, so that a run's start reaches the monitor before its end;
// keys never wait for each other: a monitor that never answers costs a
// ping of its key about 47s (4 attempts of 10s, and the backoff between),
// and holds up that key's pings alone. Each attempt is bounded by a
// timeout; network errors, timeouts, 429 and 5xx are tried again after a
// backoff, other answers are final. A ping given up is logged and counted
// (Failures), never its run's failure.
//
// What a Sender holds is bounded: Queue pings waiting over all keys,
// KeyQueue for any one key (so that one dead monitor cannot fill the
// queue of all), and InFlight keys sent at once, each by a goroutine of
// its own. Keys beyond InFlight wait their turn, which comes round after
// each ping of those sending (round robin, not behind one slow key). The
// key "" (the scheduler's heartbeat) stands outside Queue and InFlight: it
// never waits behind the pings of jobs.
//
// The package knows nothing of jobs or schedulers: runner builds the pings.
package ping

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

const (
	// Timeout bounds one attempt at a ping, the answer's headers included.
	Timeout = 10 * time.Second
	// MaxBody bounds a ping's body, in bytes: the self-hosted Healthchecks
	// limit (hosted healthchecks.io takes 100 kB). A longer one keeps its
	// end, where a failure's cause is printed.
	MaxBody = 10_000
	// Queue bounds the pings waiting to be sent, over all keys but "": a
	// ping beyond it is dropped and counted.
	Queue = 256
	// KeyQueue bounds the pings of one key waiting to be sent (a run has
	// two; a healthy monitor takes them as they come); a ping beyond it is
	// dropped and counted.
	KeyQueue = 32
	// InFlight bounds the keys whose pings are sent at once, each holding
	// a connection up to Timeout: a thousand jobs pinging a dead monitor
	// hold InFlight sockets, not a thousand.
	InFlight = 64
)

// DefaultBackoff are the waits before each retry of a ping: three
// retries, each wait drawn within a fifth of its value either side.
var DefaultBackoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}

// Signals appended to a check's URL.
const (
	Start = "start"
	Fail  = "fail"
	Log   = "log"
)

// A Ping is one request to a run monitor.
type Ping struct {
	URL  string // complete: the signal and rid already in it (see Endpoint)
	Body string
	// Key orders the pings: those of one key are sent in the order given.
	// "" is the scheduler's own, which never waits for other keys' turn.
	Key string
	// Job and Run name the ping in the log; "" and 0 for the scheduler's
	// own.
	Job string
	Run uint64
}

// Endpoint is the check URL base with signal ("" for none) appended to
// its path and rid ("" for none) to its query, which is otherwise kept as
// written (Healthchecks' slug URLs take ?create=1).
func Endpoint(base, signal, rid string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	if signal != "" {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/" + signal
		if u.RawPath != "" {
			u.RawPath = strings.TrimSuffix(u.RawPath, "/") + "/" + url.PathEscape(signal)
		}
	}
	if rid != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "rid=" + url.QueryEscape(rid)
	}
	return u.String(), nil
}

// namespace is the namespace of RunID's name-based UUIDs; it is fixed, so
// that every jobctl names a run alike.
var namespace = [16]byte{0x6a, 0x6f, 0x62, 0x63, 0x74, 0x6c, 0x4d, 0x70, 0x89, 0x0e, 0x13, 0x2c, 0x5f, 0x41, 0x77, 0xd2}

// RunID is the rid of run seq of job: a version 5 (name-based) UUID, as
// healthchecks.io requires, derived from the run alone, so that whichever
// scheduler of a fleet ends a run names it as its starter did.
func RunID(job string, seq uint64) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(job))
	h.Write([]byte{0}) // an id has no NUL: "a"+"1x" and "a1"+"x" differ
	h.Write([]byte(strconv.FormatUint(seq, 10)))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// Body is the end of output that fits in MaxBody bytes, starting on a
// character, not inside one.
func Body(output string) string {
	if len(output) <= MaxBody {
		return output
	}
	cut := len(output) - MaxBody
	for i := 0; i < utf8.UTFMax-1 && cut < len(output) && !utf8.RuneStart(output[cut]); i++ {
		cut++
	}
	return output[cut:]
}

// Config is how a Sender sends; its zero value sends as documented above.
type Config struct {
	Client  *http.Client  // nil: http.DefaultClient
	Logger  *slog.Logger  // nil: discard
	Timeout time.Duration // of one attempt; 0: Timeout
	// Backoff are the waits before the retries, one per retry; nil:
	// DefaultBackoff.
	Backoff []time.Duration
	// Sleep waits for d, or until ctx is done (then it returns ctx's
	// error); nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter spreads a backoff wait; nil: within a fifth either side.
	Jitter    func(d time.Duration) time.Duration
	UserAgent string // "": jobctl
	Queue     int    // 0: Queue
	KeyQueue  int    // 0: KeyQueue
	InFlight  int    // 0: InFlight
}

// A Sender sends pings from bounded queues, one per key. Its methods may
// be called from any goroutine.
type Sender struct {
	cfg      Config
	log      *slog.Logger
	failures atomic.Uint64

	mu     sync.Mutex // guards the fields below; held by Send, Close and the workers between pings
	closed bool
	// keys holds the pings waiting, by key: a key is in it while a worker
	// holds it or it waits in turn, never both, so that one goroutine at a
	// time sends its pings, in order. A worker deletes its key once its
	// pings are sent.
	keys map[string][]Ping
	// turn are the keys (never "") whose pings wait for a worker; there
	// are some only while workers == cfg.InFlight.
	turn []string
	// waiting counts the pings in keys, those of "" apart; workers the
	// goroutines sending the other keys'.
	waiting, workers int

	wg sync.WaitGroup // the workers, that of "" too
	// ctx is done, by cancel, once the pings still queued are to be
	// dropped and those under way abandoned.
	ctx    context.Context
	cancel context.CancelFunc
}

// New makes a Sender, which starts workers as pings come; Close stops
// them.
func New(cfg Config) *Sender {
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = Timeout
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func(d time.Duration) time.Duration { return d + time.Duration(rand.Int64N(int64(d)/5*2+1)) - d/5 }
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "jobctl"
	}
	if cfg.Queue <= 0 {
		cfg.Queue = Queue
	}
	if cfg.KeyQueue <= 0 {
		cfg.KeyQueue = KeyQueue
	}
	if cfg.InFlight <= 0 {
		cfg.InFlight = InFlight
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sender{cfg: cfg, log: log, keys: map[string][]Ping{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Failures counts the pings given up: failed after their retries,
// refused, dropped from a full queue or at Close.
func (s *Sender) Failures() uint64 { return s.failures.Load() }

// Send queues p, and never blocks: when the queue or p's key's is full,
// or the Sender closed, p is dropped, logged and counted.
func (s *Sender) Send(p Ping) {
	s.mu.Lock()
	defer s.mu.Unlock()
	queued, held := s.keys[p.Key]
	switch {
	case s.closed:
		s.giveUp(p, errors.New("the scheduler has shut down"))
		return
	case len(queued) >= s.cfg.KeyQueue:
		s.giveUp(p, fmt.Errorf("%d pings before it wait still (its monitor is slow or unreachable)", len(queued)))
		return
	case p.Key != "" && s.waiting >= s.cfg.Queue:
		s.giveUp(p, errors.New("the ping queue is full (monitors are slow or unreachable)"))
		return
	}
	s.keys[p.Key] = append(queued, p)
	if p.Key != "" {
		s.waiting++
	}
	switch {
	case held: // its worker, or its turn, will come to p
	case p.Key == "":
		s.wg.Go(func() { s.work("") })
	case s.workers < s.cfg.InFlight:
		s.workers++
		s.wg.Go(func() { s.work(p.Key) })
	default:
		s.turn = append(s.turn, p.Key)
	}
}

// work sends the pings of key, then those of the keys whose turn comes,
// until none wait.
func (s *Sender) work(key string) {
	for {
		s.mu.Lock()
		p, ok := s.next(&key)
		s.mu.Unlock()
		if !ok {
			return
		}
		s.send(p)
	}
}

// next, with mu held, takes the next ping to send for the worker holding
// *key: its own, or, when other keys wait for their turn, the first
// waiting's, *key going to the end of the turns if it has pings left. ok
// is false when none is left to this worker, which then ends.
func (s *Sender) next(key *string) (p Ping, ok bool) {
	if *key != "" && len(s.turn) > 0 {
		if len(s.keys[*key]) > 0 {
			s.turn = append(s.turn, *key)
		} else {
			delete(s.keys, *key)
		}
		*key, s.turn = s.turn[0], s.turn[1:]
	}
	queued := s.keys[*key]
	if len(queued) == 0 {
		delete(s.keys, *key)
		if *key != "" {
			s.workers--
		}
		return Ping{}, false
	}
	p = queued[0]
	queued[0] = Ping{} // its body goes with it
	s.keys[*key] = queued[1:]
	if *key != "" {
		s.waiting--
	}
	return p, true
}

// giveUp logs and counts p as failed.
func (s *Sender) giveUp(p Ping, why error) {
	s.failures.Add(1)
	attrs := []any{"url", p.URL, "err", why}
	if p.Job != "" {
		attrs = append([]any{"job", p.Job, "run", p.Run}, attrs...)
	}
	s.log.Warn("ping not sent", attrs...)
}

// send sends p, trying again as the package doc says.
func (s *Sender) send(p Ping) {
	if s.ctx.Err() != nil {
		s.giveUp(p, errors.New("the scheduler shut down before it was sent"))
		return
	}
	var err error
	for attempt := 0; ; attempt++ {
		var retry bool
		if retry, err = s.attempt(p); err == nil {
			s.log.Debug("pinged", "job", p.Job, "run", p.Run, "url", p.URL)
			return
		}
		if !retry || attempt >= len(s.cfg.Backoff) {
			break
		}
		if s.cfg.Sleep(s.ctx, s.cfg.Jitter(s.cfg.Backoff[attempt])) != nil {
			err = fmt.Errorf("%w; the scheduler shut down before it was tried again", err)
			break
		}
	}
	s.giveUp(p, err)
}

// attempt POSTs p once, and reports whether its failure is worth another
// try.
func (s *Sender) attempt(p Ping) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, strings.NewReader(p.Body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		if s.ctx.Err() != nil {
			return false, errors.New("abandoned: the scheduler shut down before the monitor answered")
		}
		if ctx.Err() == context.DeadlineExceeded && s.ctx.Err() == nil {
			return true, fmt.Errorf("no answer within %s", s.cfg.Timeout)
		}
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its text repeats the URL, which the log has
		}
		return true, err
	}
	// Read a little, so that the connection can be used again.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c < 400:
		return false, nil
	case c == http.StatusTooManyRequests || c >= 500:
		return true, fmt.Errorf("the monitor answered %s", resp.Status)
	default:
		return false, fmt.Errorf("the monitor answered %s (not tried again)", resp.Status)
	}
}

// Close stops taking pings and lets the queued ones be sent until ctx is
// done; then it abandons those under way, drops the rest (each logged and
// counted), and returns once the workers have ended.
func (s *Sender) Close(ctx context.Context) {
	s.mu.Lock()
	s.closed = true // no worker starts after: Wait follows every Go
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	s.cancel()
	<-done
}
