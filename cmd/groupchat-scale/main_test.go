package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/uuchat/groupchat/eventstore/sqlite"
)

// TestGenerate builds a small log and checks it holds what was asked for,
// and that the same seed builds the same log.
func TestGenerate(t *testing.T) {
	last := func(path string) uint64 {
		store, err := sqlite.Open(path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		pos, err := store.LastPosition(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return pos
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	for _, p := range []string{a, b} {
		if err := generate(p, 2000, 20, 40, 7); err != nil {
			t.Fatal(err)
		}
	}
	if n := last(a); n < 2000 {
		t.Errorf("the log holds %d events, want at least 2000", n)
	}
	if last(a) != last(b) {
		t.Errorf("one seed built logs of %d and %d events", last(a), last(b))
	}
}

func TestPeakRSS(t *testing.T) {
	rss, err := peakRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Errorf("this test's peak RSS is %d bytes, %v", rss, err)
	}
}
