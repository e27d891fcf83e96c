package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
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
		o := &nextOptions{io: Streams{Out: &out}, now: func() time.Time { return now }, trigger: tt.flags, from: "now", n: 2, output: outputTable}
		if err := runNext(t.Context(), o); err != nil || out.String() != tt.want {
			t.Errorf("%+v: got %q, %v; want %q", tt.flags, out.String(), err, tt.want)
		}
	}
}

// TestParseWindow: --down's FROM..TO, read in the job's zone, FROM before
// TO, and bad values named.
func TestParseWindow(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	from, to, err := parseWindow("2026-07-04 01:00..2026-07-04T05:00:00Z", berlin, now)
	if err != nil || !from.Equal(time.Date(2026, 7, 3, 23, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 7, 4, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("got %v..%v, %v", from, to, err)
	}
	if from, to, err := parseWindow("now..2026-06-02", time.UTC, now); err != nil || !from.Equal(now) || !to.Equal(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("now..: got %v..%v, %v", from, to, err)
	}
	for in, want := range map[string]string{
		"2026-07-04":                   `--down: "2026-07-04" is not FROM..TO`,
		"2026-07-04..2026-07-04":       "--down: FROM 2026-07-04T00:00:00+02:00 is not before TO 2026-07-04T00:00:00+02:00",
		"yesterday..2026-07-04":        `--down: FROM: time "yesterday"`,
		"2026-07-04..2026-07-04 25:00": `--down: TO: time "2026-07-04 25:00"`,
	} {
		_, _, err := parseWindow(in, berlin, now)
		var usage usageError
		if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &usage) {
			t.Errorf("%q: got %v, want a usage error (exit 2) containing %q", in, err, want)
		}
	}
}
