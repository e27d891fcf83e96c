//go:build unix

package bolt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var noteTime = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

// The note of store errors: read back as written, beside the pid that
// LockHolder reads; cut to fit its record; gone with the lock.
func TestNote(t *testing.T) {
	path := filepath.Join(privateDir(t), "jobs.db")
	unlock, note, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ReadNote(path); n != (Note{}) || err != nil {
		t.Errorf("ReadNote before any note: %+v, %v", n, err)
	}
	long := strings.Repeat("é", 2000)
	for _, n := range []Note{
		{Since: noteTime, At: noteTime.Add(time.Minute), Err: "jobs.db: commit: write jobs.db: no space left on device"},
		{Since: noteTime, At: noteTime.Add(time.Hour), Err: "two\nlines"},
		{Since: noteTime, At: noteTime, Err: long},
		{},
	} {
		if err := note(n); err != nil {
			t.Fatal(err)
		}
		got, err := ReadNote(path)
		if err != nil {
			t.Fatal(err)
		}
		if n.Err == long {
			if !strings.HasSuffix(got.Err, "é…") || !strings.HasPrefix(long, strings.TrimSuffix(got.Err, "…")) {
				t.Errorf("a long message, cut: %q", got.Err)
			}
			n.Err = got.Err
		}
		if !got.Since.Equal(n.Since) || !got.At.Equal(n.At) || got.Err != n.Err {
			t.Errorf("ReadNote after writing %+v: %+v", n, got)
		}
		if fi, err := os.Stat(path + ".lock"); err != nil || fi.Size() != recordSize {
			t.Errorf("the lock file: %v, %v; want %d bytes", fi, err, recordSize)
		}
		if held, pid, err := LockHolder(path); !held || pid != os.Getpid() || err != nil {
			t.Errorf("LockHolder with a note: %v %v %v", held, pid, err)
		}
	}
	note(Note{Since: noteTime, At: noteTime, Err: "failing"})
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := note(Note{Since: noteTime, At: noteTime, Err: "after"}); err != nil {
		t.Errorf("note after unlock: %v", err)
	}
	if n, err := ReadNote(path); n != (Note{}) || err != nil {
		t.Errorf("ReadNote after unlock: %+v, %v", n, err)
	}
}

// A note that does not read (written over by someone else, or torn beyond
// reading again) is an error naming the file and what it holds.
func TestNoteDamaged(t *testing.T) {
	path := filepath.Join(privateDir(t), "jobs.db")
	unlock, note, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := note(Note{Since: noteTime, At: noteTime, Err: "no space left on device"}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path+".lock", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("sp"), pidSize+60) // in the message: the CRC no longer matches
	f.Close()
	if _, err := ReadNote(path); err == nil || !strings.Contains(err.Error(), path+".lock: the scheduler's note \"failing ") {
		t.Errorf("ReadNote of a damaged note: %v", err)
	}
}
