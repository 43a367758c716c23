package aggregate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/uuchat/groupchat/aggregate"
	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
)

// boundedGroups keeps at most max groups of 100 bytes each, and records
// which were dropped.
func boundedGroups(s aggregate.Store, max int, dropped *[]string) *aggregate.Repository[*domain.Group] {
	return aggregate.New(s, aggregate.Config[*domain.Group]{
		New:      func(string) *domain.Group { return domain.NewGroup(domain.DefaultLimits()) },
		Keep:     (*domain.Group).Created,
		MaxBytes: 100 * max,
		Size:     func(*domain.Group) int { return 100 },
		Evicted:  func(id string) { *dropped = append(*dropped, id) },
	})
}

// seed creates n groups g0..g(n-1) with one message each through a
// repository of its own.
func seed(t *testing.T, s eventstore.Store, n int) {
	t.Helper()
	ctx := context.Background()
	w := groups(s)
	for i := range n {
		id := fmt.Sprintf("g%d", i)
		for _, c := range []domain.Command{create(id, alice), post(alice, "m")} {
			if _, err := w.Update(ctx, id, meta, decide(c)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func openSQLite(t *testing.T) eventstore.Store { return sqliteStore(sqlite.Options{})(t) }

func TestTheLeastRecentlyUsedStatesAreDroppedBeyondTheBound(t *testing.T) {
	s := openSQLite(t)
	seed(t, s, 5)
	ctx := context.Background()
	var dropped []string
	r := boundedGroups(s, 3, &dropped)
	for _, id := range []string{"g0", "g1", "g2", "g0", "g3", "g4"} {
		g, err := r.Get(ctx, id)
		if err != nil || g.Version() != 2 {
			t.Fatalf("Get(%s) = version %d, %v; want version 2", id, g.Version(), err)
		}
	}
	// g0 was used again before g3 came, so g1 and then g2 were the least
	// recently used.
	if fmt.Sprint(dropped) != "[g1 g2]" {
		t.Fatalf("dropped %v, want [g1 g2]", dropped)
	}
	for id, want := range map[string]bool{"g0": true, "g1": false, "g2": false, "g3": true, "g4": true} {
		if _, ok := r.Cached(id); ok != want {
			t.Errorf("Cached(%s) = %v, want %v", id, ok, want)
		}
	}
	if r.Len() != 3 || r.Bytes() != 300 {
		t.Errorf("Len, Bytes = %d, %d; want 3, 300", r.Len(), r.Bytes())
	}
	// A dropped state is read from its stream again, whole.
	if g, err := r.Get(ctx, "g1"); err != nil || g.Version() != 2 || !isMember(g, alice) {
		t.Fatalf("Get(g1) after dropping it = version %d, %v", g.Version(), err)
	}
}

func TestABatchsStatesAreNotDroppedBeforeCommit(t *testing.T) {
	s := openSQLite(t)
	seed(t, s, 4)
	ctx := context.Background()
	var dropped []string
	r := boundedGroups(s, 1, &dropped)
	b := r.NewBatch()
	for _, id := range []string{"g0", "g1", "g2"} {
		if err := b.Change(ctx, id, meta, decide(post(alice, "n-"+id))); err != nil {
			t.Fatal(err)
		}
	}
	// Reading another group goes over the bound; only unpinned states may go.
	if _, err := r.Get(ctx, "g3"); err != nil {
		t.Fatal(err)
	}
	if len(dropped) != 0 {
		t.Fatalf("dropped %v while a batch was changing them", dropped)
	}
	for _, res := range b.Commit(ctx) {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	for _, id := range []string{"g0", "g1", "g2"} {
		if got := len(stored(t, s, id)); got != 3 {
			t.Errorf("%s holds %d events, want 3", id, got)
		}
	}
	// Once committed they are ordinary states again: the next use drops
	// all but the newest.
	if _, err := r.Get(ctx, "g0"); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 1 {
		t.Errorf("%d states kept after the batch, want 1 (dropped %v)", r.Len(), dropped)
	}
}

func TestGetAtFoldsUpToAVersion(t *testing.T) {
	s := openSQLite(t)
	ctx := context.Background()
	w := groups(s)
	for i, c := range []domain.Command{create("g", alice), post(alice, "1"), domain.AddMembers{By: owner, Members: []domain.Member{{JID: bob}}}, post(bob, "2")} {
		if _, err := w.Update(ctx, "g", meta, decide(c)); err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
	r := groups(s)
	cases := []struct {
		version uint64
		bob     bool
	}{
		{2, false}, // created, one message: bob not yet added
		{3, true},  // further on from the state in memory
		{4, true},
		{1, false}, // behind the state in memory: folded again from the start
	}
	for _, c := range cases {
		g, err := r.GetAt(ctx, "g", c.version)
		if err != nil {
			t.Fatal(err)
		}
		if g.Version() != c.version || isMember(g, bob) != c.bob {
			t.Errorf("GetAt(%d) = version %d, bob a member %v; want %d, %v", c.version, g.Version(), isMember(g, bob), c.version, c.bob)
		}
	}
}

func isMember(g *domain.Group, jid string) bool {
	_, ok := g.Member(jid)
	return ok
}
