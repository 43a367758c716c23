package storetest

import (
	"sync"
	"testing"

	"github.com/uuchat/groupchat/eventstore"
)

// Reopenable opens a store with open and returns it with the reopen
// function an Opener needs: reopen closes the current store and opens the
// same underlying data again. The store open last is closed when the test
// ends.
func Reopenable(t *testing.T, open func() eventstore.Store) (eventstore.Store, func() eventstore.Store) {
	t.Helper()
	var mu sync.Mutex
	cur := open()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if err := cur.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	reopen := func() eventstore.Store {
		mu.Lock()
		defer mu.Unlock()
		if err := cur.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		cur = open()
		return cur
	}
	return cur, reopen
}
