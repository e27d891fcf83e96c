package runner

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
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

// groupLive reports whether a process of group pgid is alive, zombies
// aside, its exited leader among them: a signal to the group cannot tell,
// as it reaches a group of zombies without an error. The leader, not yet
// reaped, is in /proc: if it is not seen there, /proc is not this PID
// namespace's (or not mounted), and the group is taken to be alive.
func groupLive(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	id := strconv.Itoa(pgid)
	leader := false
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		f := procStat(e.Name())
		if len(f) < 3 || string(f[2]) != id {
			continue
		}
		if string(f[0]) != "Z" {
			return true
		}
		leader = leader || e.Name() == id
	}
	return !leader
}

// procStat returns the fields of /proc/PID/stat after the command's name
// (state, ppid, pgrp, ...), or none if it cannot be read. The name, in
// parentheses, may hold anything but the last ')'.
func procStat(pid string) [][]byte {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return nil
	}
	return bytes.Fields(stat[i+1:])
}
