package kurrent

import (
	"testing"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/storetest"
)

// ConformanceFeatures is what this backend claims to the conformance suite,
// for both runs of it (the real server's and the stand-in's): KurrentDB
// recognises an event id within its stream only and keeps no index of ids
// across streams.
var ConformanceFeatures = storetest.Features{IDsUniqueAcrossStreams: false}

// TestConformanceOnStandIn runs the store contract's whole suite through
// the real client against the in-memory stand-in server (fakeDB). It proves
// how this package drives the client in every case of the contract, not how
// a real server behaves: TestConformance does that, given a server.
func TestConformanceOnStandIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
		fs := startFake(t, newFakeDB())
		return storetest.Reopenable(t, func() eventstore.Store { return openFake(t, fs, Options{}) })
	}, ConformanceFeatures)
}
