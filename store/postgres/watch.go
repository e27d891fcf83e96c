package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/store"
)

// safetyPoll is how often a watcher that LISTENs signals anyway, in case a
// notification was lost with its connection.
const safetyPoll = 30 * time.Second

// Watch signals after commits that wrote, from any process: heard by
// LISTEN on a connection of its own, or, with jobctl_poll, seen in the
// jobctl_commits sequence.
func (s *Store) Watch(ctx context.Context) (<-chan struct{}, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	ch := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-ctx.Done():
		case <-s.done:
			cancel()
		}
	}()
	go func() {
		defer close(ch)
		defer cancel()
		if s.poll > 0 {
			s.pollCommits(ctx, ch)
		} else {
			s.listen(ctx, ch)
		}
	}()
	return ch, nil
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// listen holds a connection LISTENing until ctx is done, connecting again
// (after a pause doubling up to 30 s) when it is lost, and signalling then,
// since a commit may have come and gone meanwhile.
func (s *Store) listen(ctx context.Context, ch chan struct{}) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, s.listenCfg)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN jobctl")
		}
		if err == nil {
			backoff = 0
			signal(ch)
			for err == nil {
				waitCtx, cancel := context.WithTimeout(ctx, safetyPoll)
				_, err = conn.WaitForNotification(waitCtx)
				cancel()
				if err == nil || (ctx.Err() == nil && waitCtx.Err() != nil) {
					signal(ch)
					err = nil
				}
			}
		}
		if conn != nil {
			conn.Close(context.Background())
		}
		backoff = min(max(2*backoff, 100*time.Millisecond), 30*time.Second)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
}

// pollCommits reads the commit sequence every s.poll and signals when it
// has moved, and once more at the next poll: a commit bumps it before it
// commits, so the first look may come too early to see what it wrote.
func (s *Store) pollCommits(ctx context.Context, ch chan struct{}) {
	var last int64
	again := false
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	for {
		var n int64
		if err := s.pool.QueryRow(ctx, "SELECT last_value FROM jobctl_commits").Scan(&n); err == nil {
			if n != last || again {
				signal(ch)
			}
			again = n != last
			last = n
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
