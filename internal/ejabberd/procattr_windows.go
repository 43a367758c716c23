//go:build windows

package ejabberd

import "syscall"

// sysProcAttr has nothing to set on Windows, where ejabberd is not packaged.
func sysProcAttr() *syscall.SysProcAttr { return nil }
