//go:build !linux

package loadtest

import (
	"errors"
	"syscall"
	"time"
)

func processCPU(int) (time.Duration, error) {
	return 0, errors.New("process CPU time is read from /proc, which only Linux has")
}

func selfCPU() time.Duration { return 0 }

func childAttr() *syscall.SysProcAttr { return nil }

func flushDisk() {}

func loadAverage() string { return "" }
