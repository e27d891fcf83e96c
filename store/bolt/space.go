//go:build unix

package bolt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// FreeSpace returns how many bytes the file system of the database at path
// (or of its directory, before it is created) has free for this process,
// as statfs says: it writes nothing, and so answers on a full disk. Root
// may use the blocks kept for it, which others may not.
func FreeSpace(path string) (uint64, error) {
	var st unix.Statfs_t
	err := unix.Statfs(path, &st)
	if errors.Is(err, unix.ENOENT) {
		err = unix.Statfs(filepath.Dir(path), &st)
	}
	if err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	free := uint64(st.Bavail)
	if os.Geteuid() == 0 {
		free = uint64(st.Bfree)
	}
	return free * uint64(st.Bsize), nil
}
