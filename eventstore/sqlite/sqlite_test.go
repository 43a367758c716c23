package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/eventstore/storetest"
)

// opener gives each suite test its own database file in a temp dir.
func opener(opts sqlite.Options) storetest.Opener {
	return func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
		path := filepath.Join(t.TempDir(), "events.db")
		return storetest.Reopenable(t, func() eventstore.Store {
			s, err := sqlite.Open(path, opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		})
	}
}

// sqliteFeatures: one unique index holds every event id of the log.
var sqliteFeatures = storetest.Features{IDsUniqueAcrossStreams: true}

func TestConformance(t *testing.T) {
	storetest.Run(t, opener(sqlite.Options{}), sqliteFeatures)
}

// The suite again with the knobs that change code paths: tiny batches and
// pages, a head cache that keeps evicting, and synchronous=NORMAL.
func TestConformanceSmallLimits(t *testing.T) {
	storetest.Run(t, opener(sqlite.Options{
		Synchronous:      "normal",
		MaxBatchEvents:   2,
		ReadConns:        1,
		StreamCacheSize:  3,
		SubscriptionPage: 3,
		CacheSizeKiB:     512,
	}), sqliteFeatures)
}

// TestReopenKeepsData closes and reopens one file several times: every
// acknowledged append must be there, stream heads must be reloaded for the
// expected-version checks, and positions must keep growing.
func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	ctx := context.Background()
	var want []string
	var lastPos uint64
	versions := make(map[string]int)
	for round := 0; round < 4; round++ {
		s, err := sqlite.Open(path, sqlite.Options{})
		if err != nil {
			t.Fatalf("round %d: Open: %v", round, err)
		}
		got, err := s.ReadAll(ctx, 0, 1<<20)
		if err != nil {
			t.Fatalf("round %d: ReadAll: %v", round, err)
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: %d events after reopen, want %d", round, len(got), len(want))
		}
		for i, e := range got {
			if e.ID != want[i] {
				t.Fatalf("round %d: event %d is %s, want %s", round, i, e.ID, want[i])
			}
		}
		for i := 0; i < 10; i++ {
			stream := fmt.Sprintf("group-%d", i%3)
			exp := eventstore.NoStream()
			if n := versions[stream]; n > 0 {
				exp = eventstore.Exact(uint64(n - 1))
			}
			id := fmt.Sprintf("evt-%d-%d", round, i)
			res, err := s.Append(ctx, stream, exp, eventstore.EventData{ID: id, Type: "msg", Data: []byte(id)})
			if err != nil {
				t.Fatalf("round %d: Append %s: %v", round, id, err)
			}
			if res.Position <= lastPos || res.Version != uint64(versions[stream]) {
				t.Fatalf("round %d: append = %+v after position %d, want version %d", round, res, lastPos, versions[stream])
			}
			versions[stream]++
			lastPos = res.Position
			want = append(want, id)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	if _, err := sqlite.Open(filepath.Join(dir, "a.db"), sqlite.Options{Synchronous: "off"}); err == nil {
		t.Fatal("Open accepted synchronous=off")
	}
	if _, err := sqlite.Open(":memory:", sqlite.Options{}); err == nil {
		t.Fatal("Open accepted :memory:")
	}
}

func TestAppendValidation(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "v.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, "g", eventstore.Any()); err == nil {
		t.Fatal("empty append accepted")
	}
	if _, err := s.Append(ctx, "g", eventstore.Any(), eventstore.EventData{Type: "x"}); err == nil {
		t.Fatal("event without ID accepted")
	}
	if _, err := s.Append(ctx, "", eventstore.Any(), eventstore.EventData{ID: "a"}); err == nil {
		t.Fatal("empty stream name accepted")
	}
	e := eventstore.EventData{ID: "same", Type: "x"}
	if _, err := s.Append(ctx, "g", eventstore.Any(), e, e); !errors.Is(err, eventstore.ErrIDConflict) {
		t.Fatalf("repeated id in one batch: %v, want ErrIDConflict", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Append(cancelled, "g", eventstore.Any(), e); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with a cancelled context: %v", err)
	}
	if got, _ := s.ReadStream(ctx, "g", 0, 10); len(got) != 0 {
		t.Fatalf("refused appends wrote %d events", len(got))
	}
}
