//go:build unix

package bolt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/jobctl/jobctl/internal/shell"
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
// such a user, writable by others, or writable by its group unless that is
// the private group of the file's owner (see privateGroup), or a directory
// on the way to it (through symbolic links, whose own directories count
// too) being owned by such a user or writable by everyone without the
// sticky bit (as /tmp has it: others can add files there but not replace
// this one). cron refuses an insecure crontab for the same reason: the
// commands of a database or a jobfile run as whoever runs the scheduler. A
// directory writable by its group is let pass, as distributions with a
// private group per user create them so. A path that does not exist is
// checked as far as it does, for the file that will be created there.
func CheckPrivate(path string) error {
	return checkPrivate(path, systemAccounts())
}

// checkPrivate is CheckPrivate, reading users and groups from etc.
func checkPrivate(path string, etc fs.FS) error {
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
	return checkFile(real, fi, etc)
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
			if err := checkDir(dir, fi); err != nil {
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

// checkDir checks one directory.
func checkDir(path string, fi fs.FileInfo) error {
	if err := checkOwner(path, fi); err != nil {
		return err
	}
	perm := fi.Mode().Perm()
	if perm&0o002 == 0 || fi.Mode()&fs.ModeSticky != 0 {
		return nil
	}
	return &InsecureError{path, fmt.Sprintf("is a directory writable by everyone, without the sticky bit (mode %v)", perm),
		fmt.Sprintf("chmod o-w %s (or chmod +t, to let others add files there but not replace yours)", shell.Quote(path))}
}

// checkFile checks one file, reading users and groups from etc if it is
// writable by its group.
func checkFile(path string, fi fs.FileInfo, etc fs.FS) error {
	if err := checkOwner(path, fi); err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	perm := fi.Mode().Perm()
	var problem string
	switch perm & 0o022 {
	case 0:
		return nil
	case 0o020:
		name, why, err := privateGroup(etc, st.Uid, st.Gid)
		if err != nil {
			why = fmt.Sprintf("whose members cannot be told (%v)", err)
		}
		if why == "" {
			return nil
		}
		problem = fmt.Sprintf("is writable by its group %s (mode %v), %s", name, perm, why)
	case 0o002:
		problem = fmt.Sprintf("is writable by everyone (mode %v)", perm)
	default:
		problem = fmt.Sprintf("is writable by its group and everyone (mode %v)", perm)
	}
	return &InsecureError{path, problem, "chmod go-w " + shell.Quote(path)}
}

// checkOwner checks that a file or directory is the caller's or root's.
func checkOwner(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Getuid(); int(st.Uid) != uid && st.Uid != 0 {
		return &InsecureError{path, fmt.Sprintf("is owned by uid %d, not by you (uid %d) or root", st.Uid, uid),
			fmt.Sprintf("chown %d %s", uid, shell.Quote(path))}
	}
	return nil
}
