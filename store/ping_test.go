package store

import (
	"testing"
	"time"
)

func TestCheckPing(t *testing.T) {
	for _, c := range []struct{ url, err string }{
		{"", ""},
		{"https://hc-ping.com/0c4f5f42-7b8b-4d0d-9b1b-6a3a7d3e6f15", ""},
		{"http://127.0.0.1:8000/ping/key/backup?create=1", ""},
		{"http://[::1]/x", ""},
		{"hc-ping.com/abc", `ping "hc-ping.com/abc": not an http or https URL`},
		{"mailto:ops@example.com", `ping "mailto:ops@example.com": not an http or https URL`},
		{"https:///abc", `ping "https:///abc": no host`},
		{"https://:80/abc", `ping "https://:80/abc": no host`},
		{"https://hc-ping.com/abc#x", `ping "https://hc-ping.com/abc#x": has a fragment (#x), which is never sent`},
		{"https://hc-ping.com/abc#", `ping "https://hc-ping.com/abc#": has a fragment (#), which is never sent`},
		{"https://user:secret@hc.example.com/x", `ping "https://user:secret@hc.example.com/x": has a user or password; monitors take the secret in the path (a check's UUID or ping key)`},
		{"http://a b/", `ping "http://a b/": invalid character " " in host name`},
	} {
		err := CheckPing(c.url)
		if got := errString(err); got != c.err {
			t.Errorf("CheckPing(%q) = %s; want %s", c.url, got, c.err)
		}
	}
	if err := CheckPingEvery(500 * time.Millisecond); err == nil {
		t.Error("CheckPingEvery(500ms) passed")
	}
	if got := (Settings{}).PingPeriod(); got != DefaultPingEvery {
		t.Errorf("PingPeriod of no PingEvery = %s", got)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
