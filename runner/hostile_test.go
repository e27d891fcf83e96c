package runner

import (
	"os"
	"path/filepath"
	"testing"
)

// A log directory may be one that others can write to (/tmp): a symbolic
// link planted there under a job's log file name is not followed (the
// scheduler, run by root, would append to any file), and a file of another
// user is not written to (its owner would read the output).
func TestLogFilePlanted(t *testing.T) {
	t.Run("link", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(t.TempDir(), "precious")
		if err := os.WriteFile(target, []byte("precious\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(dir, "linked.log")); err != nil {
			t.Fatal(err)
		}
		if r, _ := runOnce(t, Config{LogDir: dir}, cmdJob("linked", "echo secret")); r.Output != "secret\n" {
			t.Errorf("output %q", r.Output)
		}
		if b, _ := os.ReadFile(target); string(b) != "precious\n" {
			t.Errorf("the linked file now holds %q", b)
		}
	})
	t.Run("another user's", func(t *testing.T) {
		dir := t.TempDir()
		theirs := filepath.Join(dir, "theirs.log")
		if err := os.WriteFile(theirs, nil, 0o666); err != nil {
			t.Fatal(err)
		}
		const nobody = 65534
		if os.Getuid() != 0 {
			t.Skip("only root can give a file to another user")
		}
		if err := os.Chown(theirs, nobody, nobody); err != nil {
			t.Skipf("cannot give a file to another user: %v", err)
		}
		if r, _ := runOnce(t, Config{LogDir: dir}, cmdJob("theirs", "echo secret")); r.Output != "secret\n" {
			t.Errorf("output %q", r.Output)
		}
		if b, _ := os.ReadFile(theirs); len(b) > 0 {
			t.Errorf("another user's log file now holds %q", b)
		}
	})
}
