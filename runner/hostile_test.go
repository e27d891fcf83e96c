package runner

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLogFilePlanted: a log directory may be one that others can write to
// (/tmp): a symbolic link planted there under a job's log file name is not
// followed (the scheduler, run by root, would append to any file), and a
// file of another user is not written to (its owner would read the output).
func TestLogFilePlanted(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(target, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "linked.log")); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(dir, "theirs.log")
	if err := os.WriteFile(theirs, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	const nobody = 65534
	asRoot := os.Getuid() == 0 && os.Chown(theirs, nobody, nobody) == nil
	for _, id := range []string{"linked", "theirs"} {
		if r, _ := runOnce(t, Config{LogDir: dir}, cmdJob(id, "echo secret")); r.Output != "secret\n" {
			t.Errorf("%s: output %q", id, r.Output)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "precious\n" {
		t.Errorf("the linked file now holds %q", b)
	}
	if b, _ := os.ReadFile(theirs); asRoot && len(b) > 0 {
		t.Errorf("another user's log file now holds %q", b)
	}
}
