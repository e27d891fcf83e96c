package cmd

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportExitStatus pins the exit statuses scripts rely on: 0 all
// imported, 1 some lines not imported, 2 bad usage or a crontab that cannot
// be read (as for a jobfile); and a dry run creates no database.
func TestImportExitStatus(t *testing.T) {
	db := filepath.Join(t.TempDir(), "jobs.db")
	t.Setenv("JOBCTL_DB", db)
	crontabs := filepath.Join("..", "testdata", "crontab")
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"import", "--crontab", filepath.Join(crontabs, "errors.crontab"), "--dry-run"}, ExitFailure},
		{[]string{"import", "--crontab", filepath.Join(crontabs, "user.crontab"), "--dry-run"}, ExitOK},
		{[]string{"import", "--crontab", filepath.Join(crontabs, "missing.crontab")}, ExitUsage},
		{[]string{"import", "--crontab", crontabs}, ExitUsage},
		{[]string{"import"}, ExitUsage},
		{[]string{"import", "--crontab", "-", "--prefix", "-x"}, ExitUsage},
		{[]string{"import", "--crontab", "-", "--user", "root"}, ExitUsage},
		{[]string{"import", "--crontab", "-", "extra"}, ExitUsage},
	} {
		var errOut strings.Builder
		if got := Main(tc.args, strings.NewReader(""), io.Discard, &errOut); got != tc.want {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s", tc.args, got, tc.want, errOut.String())
		}
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after dry runs, the database exists (%v)", err)
	}
	if got := Main([]string{"import", "--crontab", "-"}, strings.NewReader("@daily true\n"), io.Discard, io.Discard); got != ExitOK {
		t.Errorf("a good crontab: exit %d, want 0", got)
	}
}
