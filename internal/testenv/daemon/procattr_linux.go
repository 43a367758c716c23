//go:build linux

package daemon

import "syscall"

// sysProcAttr puts the server in its own process group (so a terminal's Ctrl-C
// reaches only the parent, which then stops the server in order) and asks the
// kernel to kill it if the thread that started it dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
