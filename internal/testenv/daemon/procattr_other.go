//go:build !linux && !windows

package daemon

import "syscall"

// sysProcAttr puts the server in its own process group. Outside Linux there is
// no parent-death signal: call Stop.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
