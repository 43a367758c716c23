//go:build linux

package ejabberd

import "syscall"

// sysProcAttr puts ejabberd in its own process group (so a terminal's Ctrl-C
// reaches only the parent, which then stops ejabberd in order) and asks the
// kernel to kill it if the thread that started it dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
