package loadtest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/prosody"
)

// TestSmoke runs a tiny live scenario against a real Prosody and the real
// component, and checks only that every delivery arrived exactly once. It
// never looks at a timing.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: starts Prosody and the component")
	}
	if !prosody.Installed() {
		if os.Getenv("CI") != "" {
			t.Fatal("prosody is not installed; CI must install it")
		}
		t.Skip("prosody is not installed (apt-get install prosody)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	binary, err := Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}

	cfg := DefaultConfig()
	cfg.Scenarios = []Scenario{{Name: "2x3", Kind: Live, Groups: 2, Members: 3}}
	cfg.Systems = []System{Groupchat}
	cfg.Rounds = 1
	cfg.Senders = 0
	cfg.Messages = 50
	cfg.Binary = binary
	cfg.WorkDir = dir
	cfg.Log = slog.New(slog.NewTextHandler(t.Output(), nil))
	// Run stops Prosody and the component before it returns.
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 {
		t.Fatalf("want one result, got %d", len(rep.Results))
	}
	r := rep.Results[0]
	if r.Err != "" {
		t.Fatalf("the run failed: %s", r.Err)
	}
	if r.Sent != int64(cfg.Messages) {
		t.Fatalf("posted %d of %d messages, so lost and duplicated would not say much", r.Sent, cfg.Messages)
	}
	if r.Lost != 0 || r.Duplicated != 0 {
		t.Errorf("of %d expected deliveries, %d were lost and %d duplicated; want none", r.Expected, r.Lost, r.Duplicated)
	}
}
