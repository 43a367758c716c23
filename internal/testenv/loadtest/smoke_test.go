package loadtest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/ejabberd"
	"github.com/uuchat/groupchat/internal/testenv/prosody"
)

// TestSmoke runs a tiny live scenario against each real server and the
// real component, with and without multicast, and checks only that every
// delivery arrived exactly once and that the component's link bytes were
// counted. It never looks at a timing.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: starts the servers and the component")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	binary, err := Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		server    Server
		installed func() bool
		install   string
	}{
		{Prosody, prosody.Installed, "apt-get install prosody"},
		{Ejabberd, ejabberd.Installed, "apt-get install ejabberd"},
	} {
		t.Run(tt.server.String(), func(t *testing.T) {
			if !tt.installed() {
				if os.Getenv("CI") != "" {
					t.Fatalf("%s is not installed; CI must install it", tt.server)
				}
				t.Skipf("%s is not installed (%s)", tt.server, tt.install)
			}
			cfg := DefaultConfig()
			cfg.Servers = []Server{tt.server}
			cfg.Scenarios = []Scenario{{Name: "2x3", Kind: Live, Groups: 2, Members: 3}}
			cfg.Systems = []System{Groupchat, GroupchatDirect}
			cfg.Rounds = 1
			cfg.Senders = 0
			cfg.Messages = 50
			cfg.Binary = binary
			cfg.WorkDir = t.TempDir()
			cfg.Log = slog.New(slog.NewTextHandler(t.Output(), nil))
			// Run stops the server and the component before it returns.
			rep, err := Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) != len(cfg.Systems) {
				t.Fatalf("want %d results, got %d", len(cfg.Systems), len(rep.Results))
			}
			for _, r := range rep.Results {
				if r.Err != "" {
					t.Fatalf("%s: the run failed: %s", r.System, r.Err)
				}
				if r.Sent != int64(cfg.Messages) {
					t.Fatalf("%s: posted %d of %d messages, so lost and duplicated would not say much", r.System, r.Sent, cfg.Messages)
				}
				if r.Lost != 0 || r.Duplicated != 0 {
					t.Errorf("%s: of %d expected deliveries, %d were lost and %d duplicated; want none", r.System, r.Expected, r.Lost, r.Duplicated)
				}
				if r.LinkBytes <= 0 {
					t.Errorf("%s: the component's link bytes were not counted: %d", r.System, r.LinkBytes)
				}
			}
		})
	}
}
