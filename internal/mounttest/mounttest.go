//go:build linux

// Package mounttest gives tests the file systems that machines fail with: a
// small tmpfs to fill up (a full disk, ENOSPC), and a read-only view of a
// directory (a read-only file system, EROFS). Mounting needs root (or
// CAP_SYS_ADMIN). Where it is not permitted, a test is skipped with the
// reason; under CI=true, which runs as root on a machine where mounting
// works, a root that cannot mount fails the test instead, so that the tests
// cannot pass there by never running.
package mounttest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Tmpfs mounts a new tmpfs of size bytes, mode 0700, on a new temporary
// directory, which it returns; it is unmounted when the test ends (after
// the cleanups registered later, as a process using it being killed).
func Tmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	mount(t, "tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size))
	return dir
}

// ReadOnly mounts dir again, read-only, on a new temporary directory, which
// it returns: the same files, through a path where every write fails with
// EROFS. It is unmounted when the test ends.
func ReadOnly(t *testing.T, dir string) string {
	t.Helper()
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o700); err != nil {
		t.Fatal(err)
	}
	mount(t, dir, ro, "", syscall.MS_BIND, "")
	// A bind mount takes the read-only flag only when remounted.
	if err := syscall.Mount("", ro, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("making the bind mount %s read-only: %v", ro, err)
	}
	return ro
}

func mount(t *testing.T, source, target, fstype string, flags uintptr, data string) {
	t.Helper()
	if err := syscall.Mount(source, target, fstype, flags, data); err != nil {
		switch {
		case os.Geteuid() != 0:
			t.Skipf("mounting needs root: %v", err)
		case os.Getenv("CI") == "true":
			t.Fatalf("CI=true runs as root, where mounting works, but mounting %s on %s: %v", source, target, err)
		default:
			t.Skipf("mounting is not permitted here, even as root: %v", err)
		}
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(target, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", target, err)
		}
	})
}

// Fill writes the file name until its disk is full, and returns what
// removes it, freeing the space again.
func Fill(t *testing.T, name string) (free func()) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); errors.Is(err, syscall.ENOSPC) {
			return func() {
				if err := os.Remove(name); err != nil {
					t.Error(err)
				}
			}
		} else if err != nil {
			t.Fatal(err)
		}
	}
}
