package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/store/jobfile"
)

// TestPagesUpToDate fails while the checked-in pages differ from what the
// generator writes now, as after a change to a command or a flag.
func TestPagesUpToDate(t *testing.T) {
	fresh := t.TempDir()
	if err := generate(fresh); err != nil {
		t.Fatal(err)
	}
	want, err := pages(fresh)
	if err != nil {
		t.Fatal(err)
	}
	have, err := pages("..")
	if err != nil {
		t.Fatal(err)
	}
	const fix = "regenerate them from the repository root with: go run ./man/gen"
	if !slices.Equal(have, want) {
		t.Fatalf("man/ holds %q, the commands make %q; %s", have, want, fix)
	}
	for _, name := range want {
		a, errA := os.ReadFile(filepath.Join("..", name))
		b, errB := os.ReadFile(filepath.Join(fresh, name))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if string(a) != string(b) {
			t.Errorf("man/%s is stale; %s", name, fix)
		}
	}
}

// TestExample keeps the example in jobctl.5 a valid jobfile.
func TestExample(t *testing.T) {
	if _, err := jobfile.Parse("example.toml", []byte(example)); err != nil {
		t.Error(err)
	}
}

func TestRoff(t *testing.T) {
	got := roff("echo a\\b --x\n.hidden\n'quoted'\nplain")
	want := "echo a\\eb \\-\\-x\n\\&.hidden\n\\&'quoted'\nplain"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !strings.Contains(roff(example), `misfire_grace_time = "5m"`) {
		t.Error("roff changed text it has no need to escape")
	}
}
