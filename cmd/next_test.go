package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vector is one conformance vector (testdata/conformance/README.md).
type vector struct {
	ID     string   `json:"id"`
	Args   []string `json:"args"`
	TZ     string   `json:"tz"`
	From   string   `json:"from"`
	N      int      `json:"n"`
	Expect []string `json:"expect"`
	Note   string   `json:"note"`
}

// TestConformance runs every conformance vector through the jobctl next
// command in-process and compares the printed fire times as instants.
func TestConformance(t *testing.T) {
	total := 0
	for _, file := range []string{"next.jsonl", "dst.jsonl"} {
		f, err := os.Open("../testdata/conformance/" + file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var v vector
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			total++
			t.Run(v.ID, func(t *testing.T) { runVector(t, v) })
		}
		f.Close()
	}
	if total != 276 {
		t.Errorf("ran %d vectors, want 276", total)
	}
}

func runVector(t *testing.T, v vector) {
	args := append([]string{"next"}, v.Args...)
	args = append(args, "--tz", v.TZ, "--from", v.From, "-n", strconv.Itoa(v.N))
	var out, errOut bytes.Buffer
	if code := Main(args, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errOut.String())
	}
	got := strings.Fields(out.String())
	bad := len(got) != len(v.Expect)
	for i := 0; !bad && i < len(got); i++ {
		g, err1 := time.Parse(time.RFC3339Nano, got[i])
		w, err2 := time.Parse(time.RFC3339Nano, v.Expect[i])
		bad = err1 != nil || err2 != nil || !g.Equal(w)
	}
	if bad {
		t.Errorf("%s (%s)\njobctl %q\n got: %q\nwant: %q", v.ID, v.Note, args, got, v.Expect)
	}
}

// TestNextFromNow pins --from's default to the command's clock, and an
// interval without --start to one interval after it.
func TestNextFromNow(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		flags triggerFlags
		want  string
	}{
		{triggerFlags{cron: []string{"0 12 * * *"}, tz: "UTC", combine: "any"},
			"2026-06-01T12:00:00Z\n2026-06-02T12:00:00Z\n"},
		{triggerFlags{every: []string{"90m"}, tz: "UTC", combine: "any"},
			"2026-06-01T13:30:00Z\n2026-06-01T15:00:00Z\n"},
	} {
		var out bytes.Buffer
		o := &nextOptions{io: Streams{Out: &out}, now: func() time.Time { return now }, trigger: tt.flags, from: "now", n: 2}
		if err := runNext(t.Context(), o); err != nil || out.String() != tt.want {
			t.Errorf("%+v: got %q, %v; want %q", tt.flags, out.String(), err, tt.want)
		}
	}
}
