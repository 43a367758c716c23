package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/uuchat/groupchat/xmpp/presence"
)

// onlineFile keeps who was online across restarts of the service, so that
// phones still connected to the XMPP server keep receiving live messages
// without announcing themselves again. Entries that went stale bounce once
// and are forgotten.
const onlineFile = "online.json"

func restoreOnline(dir string, t *presence.Tracker, log *slog.Logger) {
	b, err := os.ReadFile(filepath.Join(dir, onlineFile))
	if err != nil {
		return
	}
	var fulls []string
	if err := json.Unmarshal(b, &fulls); err != nil {
		log.Warn("ignoring an unreadable list of online resources", "file", onlineFile, "err", err)
		return
	}
	t.Restore(fulls)
	log.Info("restored online resources", "count", len(fulls))
}

// saveOnline writes the online set whenever it changed, every interval,
// and once more when ctx ends.
func saveOnline(ctx context.Context, dir string, t *presence.Tracker, interval time.Duration, log *slog.Logger) error {
	var saved uint64
	save := func() {
		fulls, changes := t.Snapshot()
		if changes == saved {
			return
		}
		b, _ := json.Marshal(fulls)
		path := filepath.Join(dir, onlineFile)
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			log.Warn("saving online resources failed", "err", err)
			return
		}
		if err := os.Rename(tmp, path); err != nil {
			log.Warn("saving online resources failed", "err", err)
			return
		}
		saved = changes
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			save()
			return nil
		case <-tick.C:
			save()
		}
	}
}
