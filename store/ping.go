package store

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DefaultPingEvery is how often a scheduler pings Settings.Ping unless
// Settings.PingEvery says otherwise.
const DefaultPingEvery = time.Minute

// CheckPing reports whether u can be a run monitor's ping URL (a job's
// Options.Ping, the scheduler's Settings.Ping): an absolute http or https
// URL with a host and no fragment, to which jobctl appends /start, /fail,
// /EXIT_CODE or /log. "" (no pings) is one.
func CheckPing(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return fmt.Errorf("ping %q: %v", u, unwrapURLError(err))
	case p.Scheme != "http" && p.Scheme != "https":
		return fmt.Errorf("ping %q: not an http or https URL", u)
	case p.Host == "" || p.Hostname() == "":
		return fmt.Errorf("ping %q: no host", u)
	case strings.Contains(u, "#"):
		return fmt.Errorf("ping %q: has a fragment (#%s), which is never sent", u, p.Fragment)
	case p.User != nil:
		// Kept out of the store's JSON, show and the logs.
		return fmt.Errorf("ping %q: has a user or password; monitors take the secret in the path (a check's UUID or ping key)", u)
	}
	return nil
}

// unwrapURLError is the cause of a url.Parse error, whose own text repeats
// the URL.
func unwrapURLError(err error) error {
	if e, ok := err.(*url.Error); ok {
		return e.Err
	}
	return err
}

// CheckPingEvery reports whether d can be Settings.PingEvery: 0 (the
// default) or at least a second.
func CheckPingEvery(d time.Duration) error {
	if d != 0 && d < time.Second {
		return fmt.Errorf("ping_every: %s is less than 1s", d)
	}
	return nil
}

// PingPeriod is how often the scheduler pings Ping: PingEvery, or
// DefaultPingEvery when that is 0.
func (s Settings) PingPeriod() time.Duration {
	if s.PingEvery <= 0 {
		return DefaultPingEvery
	}
	return s.PingEvery
}
