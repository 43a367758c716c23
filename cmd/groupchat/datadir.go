package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/kurrent"
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

// storeUsage explains the --store flag.
const storeUsage = "the event log: empty for DATA/events.db, sqlite:PATH, or kurrentdb://HOST:PORT?tls=false (KurrentDB/EventStoreDB)"

// openStore opens the event log that --store names: the embedded SQLite
// file in the data directory by default, another SQLite file, or a
// KurrentDB server. mustExist is for the operator commands, which never
// create a log. log receives what the store reports on its own (KurrentDB's
// resubscriptions and client messages): serve passes its --log-format and
// --log-level logger; the operator commands, which have no log flags, pass
// slog.Default(), the standard library's log on stderr.
func openStore(ctx context.Context, spec, dataDir, sync string, mustExist bool, log *slog.Logger) (eventstore.Store, error) {
	switch {
	case strings.HasPrefix(spec, "kurrentdb://"), strings.HasPrefix(spec, "kurrent://"), strings.HasPrefix(spec, "esdb://"):
		s, err := kurrent.Open(ctx, spec, kurrent.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("opening the KurrentDB event log: %w", err)
		}
		return s, nil
	case spec == "" || strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			path = filepath.Join(dataDir, "events.db")
		}
		if mustExist {
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("no event log at %s (are --data and --store right?): %w", path, err)
			}
		}
		s, err := sqlite.Open(path, sqlite.Options{Synchronous: sync})
		if err != nil {
			return nil, fmt.Errorf("opening the event log: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("--store %q: want sqlite:PATH or kurrentdb://HOST:PORT", spec)
}
