package snapshot_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/uuchat/groupchat/snapshot"
)

func TestLatestAtOrBeforeAVersion(t *testing.T) {
	ctx := context.Background()
	s, err := snapshot.Open(filepath.Join(t.TempDir(), "snapshots.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, v := range []uint64{1000, 2000, 3000} {
		if err := s.Put(ctx, snapshot.Snapshot{Stream: "g", Version: v, EventID: "e" + string(rune('0'+v/1000)), Data: []byte{byte(v / 1000)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, snapshot.Snapshot{Stream: "h", Version: 5, EventID: "x", Data: []byte("h")}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		stream string
		max    uint64
		want   uint64 // 0: none
	}{
		{"g", ^uint64(0), 3000},
		{"g", 2999, 2000},
		{"g", 1999, 0}, // the oldest was dropped: two are kept
		{"h", 5, 5},
		{"h", 4, 0},
		{"nothing", 100, 0},
	}
	for _, c := range cases {
		snap, ok, err := s.Latest(ctx, c.stream, c.max)
		if err != nil {
			t.Fatal(err)
		}
		if got := map[bool]uint64{true: snap.Version}[ok]; got != c.want {
			t.Errorf("Latest(%s, %d) = version %d (found %v), want %d", c.stream, c.max, snap.Version, ok, c.want)
		}
		if ok && (snap.Stream != c.stream || len(snap.Data) != 1 && c.stream == "g") {
			t.Errorf("Latest(%s, %d) = %+v", c.stream, c.max, snap)
		}
	}
	if snap, _, _ := s.Latest(ctx, "g", 2000); snap.EventID != "e2" || snap.Data[0] != 2 {
		t.Errorf("the snapshot at 2000 reads back as %+v", snap)
	}
}
