//go:build unix

package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// InsecureError is a file that users other than its owner could change, so
// that whoever runs what it says would run their commands: the reason
// jobctl run refuses it, and the command that fixes it.
type InsecureError struct {
	Path    string // the file, or the directory that makes it insecure
	Problem string
	Fix     string // a shell command
}

func (e *InsecureError) Error() string {
	return fmt.Sprintf("%s %s: fix it with: %s", e.Path, e.Problem, e.Fix)
}

// CheckPrivate reports, as an InsecureError, whether a user other than the
// caller and root could change the file at path: the file being owned by
// such a user or writable by its group or by others, or a directory on the
// way to it (through symbolic links, whose own directories count too) being
// owned by such a user or writable by everyone without the sticky bit (as
// /tmp has it: others can add files there but not replace this one). cron
// refuses an insecure crontab for the same reason: the commands of a
// database or a jobfile run as whoever runs the scheduler. A directory
// writable by its group is let pass, as distributions with a private group
// per user create them so. A path that does not exist is checked as far as
// it does, for the file that will be created there.
func CheckPrivate(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	// The directories of the path as written decide where its symbolic
	// links point; those of the resolved path, what the file is.
	if err := checkDirs(filepath.Dir(abs)); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := checkDirs(filepath.Dir(real)); err != nil {
		return err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	return checkOwnerAndMode(real, fi, false)
}

// checkDirs checks dir and each directory above it that exists, following
// symbolic links.
func checkDirs(dir string) error {
	for {
		fi, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return err
		default:
			if err := checkOwnerAndMode(dir, fi, true); err != nil {
				return err
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// checkOwnerAndMode checks one file or directory.
func checkOwnerAndMode(path string, fi fs.FileInfo, dir bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := os.Getuid()
	if int(st.Uid) != uid && st.Uid != 0 {
		return &InsecureError{path, fmt.Sprintf("is owned by uid %d, not by you (uid %d) or root", st.Uid, uid),
			fmt.Sprintf("chown %d %s", uid, shellQuote(path))}
	}
	perm := fi.Mode().Perm()
	if dir {
		if perm&0o002 == 0 || fi.Mode()&fs.ModeSticky != 0 {
			return nil
		}
		return &InsecureError{path, fmt.Sprintf("is a directory writable by everyone, without the sticky bit (mode %v)", perm),
			fmt.Sprintf("chmod o-w %s (or chmod +t, to let others add files there but not replace yours)", shellQuote(path))}
	}
	who := ""
	switch perm & 0o022 {
	case 0:
		return nil
	case 0o020:
		who = "its group"
	case 0o002:
		who = "everyone"
	default:
		who = "its group and everyone"
	}
	return &InsecureError{path, fmt.Sprintf("is writable by %s (mode %v)", who, perm), "chmod go-w " + shellQuote(path)}
}

// shellQuote quotes s for a shell, if it needs it.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '.' || r == '-' || r == '_') {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
