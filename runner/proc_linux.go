package runner

import (
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// procAttr puts a job in a process group of its own, so that its whole
// tree can be signalled, and away from the terminal's (a Ctrl-C reaches
// jobctl, which decides). If jobctl dies, the shell gets SIGTERM.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// waitExited returns when cmd's process has exited, leaving it a zombie:
// until it is reaped its pid, and so its process group id, cannot be
// reused, and the group can be signalled without hitting a stranger.
func waitExited(cmd *exec.Cmd) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return
		}
	}
}
