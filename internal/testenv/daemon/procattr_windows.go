//go:build windows

package daemon

import "syscall"

// sysProcAttr has nothing to set on Windows, where the server is not packaged.
func sysProcAttr() *syscall.SysProcAttr { return nil }
