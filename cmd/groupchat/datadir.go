package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/uuchat/groupchat/eventstore/sqlite"
)

// lockData takes the data directory's lock, so that two services, or a
// service and a projection swap, never use the same files at once. The lock
// is released when the process ends, however it ends.
func lockData(dir string) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by another groupchat process (stop the service first)", dir)
		}
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// openLog opens an existing event log for the operator commands; they
// never create one.
func openLog(dir string) (*sqlite.Store, error) {
	path := filepath.Join(dir, "events.db")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no event log at %s (is --data right?): %w", path, err)
	}
	return sqlite.Open(path, sqlite.Options{})
}
