//go:build unix

package runner

import (
	"fmt"
	"os"
	"syscall"
)

// openPrivate opens the log file name for appending, creating it 0600. The
// directory may be one others can write to (/tmp): a link planted there is
// not followed, and another user's file is not written to.
func openPrivate(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := checkOwner(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkOwner fails unless f belongs to this process's user or root.
func checkOwner(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() && st.Uid != 0 {
		return fmt.Errorf("owned by uid %d, another user", st.Uid)
	}
	return nil
}
