package listen

import (
	"strings"
	"testing"
)

func TestAddr(t *testing.T) {
	for in, want := range map[string]string{
		"8080":           "127.0.0.1:8080",
		":8080":          "127.0.0.1:8080",
		"0":              "127.0.0.1:0",
		"0.0.0.0:8080":   "0.0.0.0:8080",
		"[::]:8080":      "[::]:8080",
		"[::1]:9":        "[::1]:9",
		"localhost:8080": "localhost:8080",
	} {
		if got, err := Addr(in); err != nil || got != want {
			t.Errorf("Addr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, says := range map[string]string{
		"":            "empty address",
		"http":        `port "http" is not a number`,
		"80808":       "not a number from 0 to 65535",
		"host:":       `port "" is not a number`,
		"::1":         "is not [HOST:]PORT",
		"a b:80":      "is not a host name",
		"example.com": `port "example.com"`,
	} {
		if got, err := Addr(in); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("Addr(%q) = %q, %v; want an error saying %q", in, got, err, says)
		}
	}
}
