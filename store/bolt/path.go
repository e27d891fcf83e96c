package bolt

import (
	"errors"
	"os"
	"path/filepath"
)

// DefaultPath is where the database lives unless the command line says
// otherwise: $JOBCTL_DB, else $XDG_DATA_HOME/jobctl/jobs.db, else
// ~/.local/share/jobctl/jobs.db. A relative XDG_DATA_HOME is ignored, as the
// XDG specification requires.
func DefaultPath() (string, error) {
	if p := os.Getenv("JOBCTL_DB"); p != "" {
		return p, nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "jobctl", "jobs.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.New("no database path: set JOBCTL_DB or HOME, or pass --db")
	}
	return filepath.Join(home, ".local", "share", "jobctl", "jobs.db"), nil
}
