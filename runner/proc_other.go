//go:build !linux

package runner

import (
	"os/exec"
	"syscall"
)

// procAttr puts a job in a process group of its own, so that its whole
// tree can be signalled, and away from the terminal's.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitExited returns when cmd's process has exited. With no portable way to
// wait without reaping, it reaps.
func waitExited(cmd *exec.Cmd) { cmd.Wait() }

// groupLive reports whether group pgid has a process left. Its leader was
// reaped as it exited (see waitExited), so a signal to the group tells.
func groupLive(pgid int) bool { return syscall.Kill(-pgid, 0) != syscall.ESRCH }
