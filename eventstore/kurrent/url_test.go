package kurrent

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		url        string
		address    string
		seeds      string
		noTLS      bool
		discover   bool
		user, pass string
		attempts   int
	}{
		{url: "kurrentdb://localhost:2113?tls=false", address: "localhost:2113", noTLS: true, attempts: 10},
		{url: "esdb://localhost:2113?tls=false", address: "localhost:2113", noTLS: true, attempts: 10},
		{url: "kurrent://db.internal:2113", address: "db.internal:2113", attempts: 10},
		{url: "kdb://db.internal", address: "db.internal:2113", attempts: 10},
		{url: "KurrentDB://LOCALHOST:2113?TLS=false", address: "LOCALHOST:2113", noTLS: true, attempts: 10},
		{url: "kurrentdb://admin:changeit@localhost:2113?tls=true&tlsVerifyCert=false", address: "localhost:2113", user: "admin", pass: "changeit", attempts: 10},
		{url: "kurrentdb://a:2113,b:2113,c:2113?maxDiscoverAttempts=3", seeds: "a:2113,b:2113,c:2113", attempts: 3},
		{url: "kurrentdb+discover://cluster.example.org:2113", address: "cluster.example.org:2113", discover: true, attempts: 10},
		{url: "esdb+discover://cluster.example.org:2113", address: "cluster.example.org:2113", discover: true, attempts: 10},
		{url: "kdb+discover://cluster.example.org", address: "cluster.example.org:2113", discover: true, attempts: 10},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			cfg, err := parseURL(tc.url)
			if err != nil {
				t.Fatalf("parseURL: %v", err)
			}
			if tc.seeds != "" {
				if got := describe(cfg); got != tc.seeds {
					t.Errorf("gossip seeds %q, want %q", got, tc.seeds)
				}
			} else if cfg.Address != tc.address || describe(cfg) != tc.address {
				t.Errorf("address %q, want %q", cfg.Address, tc.address)
			}
			if cfg.DisableTLS != tc.noTLS || cfg.DnsDiscover != tc.discover || cfg.Username != tc.user ||
				cfg.Password != tc.pass || cfg.MaxDiscoverAttempts != tc.attempts {
				t.Errorf("config = {DisableTLS %v, DnsDiscover %v, Username %q, Password %q, MaxDiscoverAttempts %d}, want {%v, %v, %q, %q, %d}",
					cfg.DisableTLS, cfg.DnsDiscover, cfg.Username, cfg.Password, cfg.MaxDiscoverAttempts,
					tc.noTLS, tc.discover, tc.user, tc.pass, tc.attempts)
			}
		})
	}
}

func TestParseURLKeepsClientSettings(t *testing.T) {
	cfg, err := parseURL("kurrentdb://localhost:2113?tls=false&keepAliveInterval=15000&keepAliveTimeout=20000&gossipTimeout=3&discoveryInterval=250&nodePreference=follower")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KeepAliveInterval != 15*time.Second || cfg.KeepAliveTimeout != 20*time.Second || cfg.GossipTimeout != 3 ||
		cfg.DiscoveryInterval != 250 || cfg.NodePreference.String() != "Follower" {
		t.Fatalf("settings not passed on: %+v", cfg)
	}
}

func TestParseURLRefuses(t *testing.T) {
	cases := []struct {
		url  string
		says string
	}{
		{"localhost:2113", "no scheme"},
		{"http://localhost:2113", `scheme "http"`},
		{"kurrentdb+tls://localhost:2113", `scheme "kurrentdb+tls"`},
		{"kurrentdb://localhost:2113?tsl=false", `setting "tsl" is unknown`},
		{"kurrentdb://", "host"},
		{"kurrentdb://localhost:21x3", "port"},
		{"kurrentdb://localhost:2113/path", "path"},
		{"kurrentdb://localhost:2113?tls=maybe", "tls"},
		{"kurrentdb://admin:s3cret@localhost:2113?tls=%zz", "xxxxx"},
		{"kurrentdb://admin:s3cret@local host:2113", "invalid character"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			_, err := parseURL(tc.url)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %q does not say %q", err, tc.says)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error %q shows the password", err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"kurrentdb://admin:changeit@localhost:2113": "kurrentdb://admin:xxxxx@localhost:2113",
		"kurrentdb://admin@localhost:2113":          "kurrentdb://admin@localhost:2113",
		"kurrentdb://localhost:2113?tls=false":      "kurrentdb://localhost:2113?tls=false",
		"no scheme":                                 "no scheme",
		"kurrentdb://admin:p@ss@localhost:2113":     "kurrentdb://admin:xxxxx@localhost:2113",
		"kurrentdb://localhost:2113?tlsCaFile=a@b":  "kurrentdb://localhost:2113?tlsCaFile=a@b",
		"kurrentdb://admin:@localhost:2113":         "kurrentdb://admin:@localhost:2113",
	}
	for in, want := range cases {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
