package kurrent_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/kurrent"
	"github.com/uuchat/groupchat/eventstore/storetest"
)

// TestConformance runs the store contract's suite against a real KurrentDB
// named by KURRENTDB_URL, for example
// KURRENTDB_URL='kurrentdb://localhost:2113?tls=false'. Each test gets a
// stream prefix of its own, so it sees an empty store on a shared server,
// and a reopen keeps the prefix.
func TestConformance(t *testing.T) {
	url := os.Getenv("KURRENTDB_URL")
	if url == "" {
		t.Skip("KURRENTDB_URL is not set: the KurrentDB conformance suite needs a server (just test-kurrentdb explains how to run one)")
	}
	storetest.Run(t, func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
		opts := kurrent.Options{StreamPrefix: "storetest-" + randomHex(t) + "-"}
		return storetest.Reopenable(t, func() eventstore.Store {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := kurrent.Open(ctx, url, opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		})
	}, kurrent.ConformanceFeatures)
}

func randomHex(t *testing.T) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}
