//go:build !unix

package cmd

import "os"

// fileID has no device and inode numbers to give where there is no
// systemd journal.
func fileID(os.FileInfo) (dev, ino uint64, ok bool) { return 0, 0, false }
