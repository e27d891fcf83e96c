package store

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRunAttemptJSON: a record written before attempts were counted has no
// attempt key and reads as the first attempt; a first attempt is written
// without the key, a later one with it, and reads back the same.
func TestRunAttemptJSON(t *testing.T) {
	var old Run
	if err := json.Unmarshal([]byte(`{"job_id":"a","seq":3,"fire_time":"2026-06-01T10:00:00Z","outcome":"success"}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.Attempt != 0 || old.AttemptNumber() != 1 {
		t.Errorf("old record: Attempt %d, AttemptNumber %d; want 0, 1", old.Attempt, old.AttemptNumber())
	}
	for _, tt := range []struct {
		attempt int
		key     bool // whether the record holds "attempt"
		number  int
	}{{0, false, 1}, {1, true, 1}, {2, true, 2}} {
		b, err := json.Marshal(Run{JobID: "a", Seq: 4, Outcome: Running, Attempt: tt.attempt})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(b), `"attempt"`); got != tt.key {
			t.Errorf("attempt %d written as %s: want the attempt key %v", tt.attempt, b, tt.key)
		}
		var r Run
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if r.Attempt != tt.attempt || r.AttemptNumber() != tt.number {
			t.Errorf("attempt %d read back as Attempt %d, AttemptNumber %d; want %d, %d", tt.attempt, r.Attempt, r.AttemptNumber(), tt.attempt, tt.number)
		}
	}
}

// TestOptionsRecover: recover is stored only when set, and Equal tells
// jobs apart by it (modify's "already has these options" relies on that).
func TestOptionsRecover(t *testing.T) {
	o := DefaultOptions()
	p := o
	p.Recover = true
	if o.Equal(p) {
		t.Error("options that differ in Recover are Equal")
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "recover") {
		t.Errorf("default options written as %s: want no recover key", b)
	}
	if b, err = json.Marshal(p); err != nil {
		t.Fatal(err)
	}
	var q Options
	if err := json.Unmarshal(b, &q); err != nil || !q.Equal(p) {
		t.Errorf("%s read back as %+v (%v), want %+v", b, q, err, p)
	}
}
