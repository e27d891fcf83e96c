//go:build !linux

package bolt

import (
	"context"
	"os"
	"time"
)

// watchFile calls changed within a second of the file at path changing,
// until ctx is done. Without inotify it compares the file's identity, size
// and modification time once a second: a stat, not an open.
func watchFile(ctx context.Context, path string, changed func()) error {
	last, _ := os.Stat(path)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			fi, _ := os.Stat(path)
			if differ(last, fi) {
				changed()
			}
			last = fi
		}
	}()
	return nil
}

func differ(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return (a == nil) != (b == nil)
	}
	return !os.SameFile(a, b) || a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime())
}
