package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
)

// TestForEach reads across page boundaries in order and stops at the
// callback's first error.
func TestForEach(t *testing.T) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	const n = 4096 + 10 // more than one page
	for i := 0; i < n; i += 500 {
		var batch []eventstore.EventData
		for j := i; j < i+500 && j < n; j++ {
			batch = append(batch, eventstore.EventData{ID: fmt.Sprintf("e%d", j), Type: "T", Data: []byte("{}")})
		}
		if _, err := store.Append(ctx, "s", eventstore.Any(), batch...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.Append(ctx, "other", eventstore.Any(), eventstore.EventData{ID: "o", Type: "T", Data: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	var seen int
	var last uint64
	if err := eventstore.ForEachInStream(ctx, store, "s", func(re eventstore.RecordedEvent) error {
		if re.Version != uint64(seen) || re.Stream != "s" {
			return fmt.Errorf("event %d has version %d of %s", seen, re.Version, re.Stream)
		}
		seen++
		return nil
	}); err != nil || seen != n {
		t.Errorf("ForEachInStream: %d events, %v", seen, err)
	}
	seen = 0
	if err := eventstore.ForEach(ctx, store, 0, func(re eventstore.RecordedEvent) error {
		if re.Position <= last {
			return fmt.Errorf("position %d after %d", re.Position, last)
		}
		last = re.Position
		seen++
		return nil
	}); err != nil || seen != n+1 {
		t.Errorf("ForEach: %d events, %v", seen, err)
	}
	stop := errors.New("stop")
	seen = 0
	if err := eventstore.ForEach(ctx, store, 0, func(eventstore.RecordedEvent) error { seen++; return stop }); !errors.Is(err, stop) || seen != 1 {
		t.Errorf("ForEach went on after an error: %d events, %v", seen, err)
	}
	if err := eventstore.ForEachInStream(ctx, store, "nosuch", func(eventstore.RecordedEvent) error { return stop }); err != nil {
		t.Errorf("a missing stream has no events: %v", err)
	}
}

func TestEventAt(t *testing.T) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	for i, stream := range []string{"a", "b", "a"} {
		if _, err := store.Append(ctx, stream, eventstore.Any(), eventstore.EventData{ID: fmt.Sprint("e", i), Type: "T", Data: []byte(stream)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		stream  string
		version uint64
		ok      bool
		pos     uint64
	}{{"a", 0, true, 1}, {"b", 0, true, 2}, {"a", 1, true, 3}, {"b", 1, false, 0}, {"nosuch", 0, false, 0}}
	for _, tt := range tests {
		re, ok, err := eventstore.EventAt(ctx, store, tt.stream, tt.version)
		if err != nil || ok != tt.ok || (ok && (re.Position != tt.pos || re.Stream != tt.stream || re.Version != tt.version)) {
			t.Errorf("EventAt(%s, %d) = %+v, %v, %v; want position %d, found %v", tt.stream, tt.version, re, ok, err, tt.pos, tt.ok)
		}
	}
}
