package bolt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/jobctl/jobctl/internal/mounttest"
)

// The note is for a full disk above all: written in place, into the blocks
// the lock file has had since Lock, it still goes in once the disk is
// full; and FreeSpace, which writes nothing, sees space freed. Both are
// read, as scheduler status reads them, through a read-only mount.
func TestNoteOnFullDisk(t *testing.T) {
	dir := mounttest.Tmpfs(t, 1<<20)
	path := filepath.Join(dir, "jobs.db")
	unlock, note, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	before, err := FreeSpace(path)
	if err != nil {
		t.Fatal(err)
	}
	emptyDisk := mounttest.Fill(t, filepath.Join(dir, "fill"))
	if free, err := FreeSpace(path); err != nil || free != 0 {
		t.Fatalf("FreeSpace on a full disk: %d, %v", free, err)
	}
	want := Note{Since: noteTime, At: noteTime, Err: "no space left on device"}
	if err := note(want); err != nil {
		t.Fatalf("note on a full disk: %v", err)
	}
	ro := filepath.Join(mounttest.ReadOnly(t, dir), "jobs.db")
	if got, err := ReadNote(ro); err != nil || !got.At.Equal(want.At) || got.Err != want.Err {
		t.Errorf("ReadNote through a read-only mount: %+v, %v", got, err)
	}
	if held, pid, err := LockHolder(ro); !held || pid != os.Getpid() || err != nil {
		t.Errorf("LockHolder through a read-only mount: %v %v %v", held, pid, err)
	}
	emptyDisk()
	if free, err := FreeSpace(ro); err != nil || free != before {
		t.Errorf("FreeSpace once the disk is emptied again: %d, %v; want %d", free, err, before)
	}
}
