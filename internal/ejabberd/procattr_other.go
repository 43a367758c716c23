//go:build !linux && !windows

package ejabberd

import "syscall"

// sysProcAttr puts ejabberd in its own process group. Outside Linux there is
// no parent-death signal: call Stop.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
