//go:build windows

package prosody

import "syscall"

// sysProcAttr has nothing to set on Windows, where Prosody is not packaged.
func sysProcAttr() *syscall.SysProcAttr { return nil }
