package cmd

import (
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// servingLine is jobctl run's log line saying where the dashboard is.
var servingLine = regexp.MustCompile(`serving the dashboard on (http://([^/"\s]+))/`)

// waitdash LOG waits (20s at most) for the log of a jobctl run --http to
// say where it serves the dashboard, and sets $DASH to its http://HOST:PORT
// and $DASH_ADDR to its HOST:PORT: scripts serve on port 0, a free one.
func waitdash(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitdash LOG")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(ts.MkAbs(args[0]))
		if m := servingLine.FindSubmatch(b); m != nil {
			ts.Setenv("DASH", string(m[1]))
			ts.Setenv("DASH_ADDR", string(m[2]))
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s does not say where the dashboard is served after 20s:\n%s", args[0], b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// httpget [STATUS] URL GETs URL (10s at most), checks its status (200 unless
// given) and writes its body to stdout, for stdout to check.
func httpget(ts *testscript.TestScript, neg bool, args []string) {
	want := http.StatusOK
	if len(args) == 2 {
		n, err := strconv.Atoi(args[0])
		ts.Check(err)
		want, args = n, args[1:]
	}
	if neg || len(args) != 1 {
		ts.Fatalf("usage: httpget [STATUS] URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	ts.Check(err)
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	if resp.StatusCode != want {
		ts.Fatalf("GET %s: %s, want %d: %s", args[0], resp.Status, want, body)
	}
	ts.Stdout().Write(body)
}
