package bolt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

// watchFile calls changed after each batch of inotify events about the file
// at path, until ctx is done. It watches the directory rather than the file
// so that it follows the file through deletion and re-creation. Only events
// that follow a change are asked for: a file closed after being opened for
// writing (every commit does that, and so does a crashed writer's exit), or
// a file created, linked or moved into place, moved away or deleted, or
// its mode or owner changed (which a scheduler must notice: see
// OpenOptions.Exclusive); readers cause none.
func watchFile(ctx context.Context, path string, changed func()) error {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return fmt.Errorf("watching %s: %w", path, err)
	}
	dir, name := filepath.Dir(path), filepath.Base(path)
	const mask = syscall.IN_CLOSE_WRITE | syscall.IN_CREATE | syscall.IN_MOVED_TO | syscall.IN_MOVED_FROM | syscall.IN_DELETE | syscall.IN_ATTRIB
	if _, err := syscall.InotifyAddWatch(fd, dir, mask); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("watching %s: %w", dir, err)
	}
	// A non-blocking descriptor becomes a pollable File: Read parks the
	// goroutine in the runtime's poller, and Close wakes it.
	f := os.NewFile(uintptr(fd), "inotify")
	stop := context.AfterFunc(ctx, func() { f.Close() })
	go func() {
		defer stop()
		defer f.Close()
		buf := make([]byte, 64*(syscall.SizeofInotifyEvent+syscall.NAME_MAX+1))
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			if mentions(buf[:n], name) {
				changed()
			}
		}
	}()
	return nil
}

// mentions reports whether a batch of inotify events names the file name
// (or overflowed, which may have lost such an event).
func mentions(buf []byte, name string) bool {
	for len(buf) >= syscall.SizeofInotifyEvent {
		ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[0]))
		end := syscall.SizeofInotifyEvent + int(ev.Len)
		if end > len(buf) {
			return false
		}
		if ev.Mask&syscall.IN_Q_OVERFLOW != 0 {
			return true
		}
		evName := buf[syscall.SizeofInotifyEvent:end]
		for len(evName) > 0 && evName[len(evName)-1] == 0 {
			evName = evName[:len(evName)-1]
		}
		if string(evName) == name {
			return true
		}
		buf = buf[end:]
	}
	return false
}
