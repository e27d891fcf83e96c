package jobfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadHostileFiles: a path that is not a sane jobfile gets an error
// naming it and saying what is wrong, at once and in bounded memory.
func TestLoadHostileFiles(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.toml")
	// Sparse: 100 MiB that take no disk and no time to make.
	if f, err := os.Create(huge); err != nil {
		t.Fatal(err)
	} else if err := f.Truncate(100 << 20); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	utf := filepath.Join(dir, "latin1.toml")
	if err := os.WriteFile(utf, []byte("[[job]]\nid = \"caf\xe9\"\ncommand = \"true\"\nevery = \"1m\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, want string
	}{
		{dir, dir + ": is a directory, not a jobfile"},
		{huge, huge + ": larger than a jobfile may be (32 MiB)"},
		// A device has no size: the limit holds while reading.
		{"/dev/zero", "/dev/zero: larger than a jobfile may be (32 MiB)"},
		{utf, utf + ":2:7: invalid UTF-8 byte: 0xe9"},
		{filepath.Join(dir, "missing.toml"), "no such file or directory"},
	} {
		_, err := Load(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s) = %v, want %q", tt.path, err, tt.want)
		}
	}
	var es Errors
	if _, err := Load(utf); !errors.As(err, &es) {
		t.Errorf("invalid UTF-8 is not a placed error: %T", err)
	}
}
