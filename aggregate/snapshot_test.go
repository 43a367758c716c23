package aggregate_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/uuchat/groupchat/aggregate"
	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/snapshot"
)

// counting counts the events a store's stream reads return.
type counting struct {
	eventstore.Store
	read atomic.Int64
}

func (c *counting) ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	evs, err := c.Store.ReadStream(ctx, stream, from, max)
	c.read.Add(int64(len(evs)))
	return evs, err
}

func snapshotted(s aggregate.Store, snaps aggregate.Snapshots) *aggregate.Repository[*domain.Group] {
	lim := domain.DefaultLimits()
	return aggregate.New(s, aggregate.Config[*domain.Group]{
		New:       func(string) *domain.Group { return domain.NewGroup(lim) },
		Keep:      (*domain.Group).Created,
		Snapshots: snaps,
		Encode:    (*domain.Group).Snapshot,
		Decode: func(_ string, data []byte) (*domain.Group, error) {
			return domain.RestoreGroup(lim, data)
		},
		SnapshotEvery: 100,
	})
}

func openSnapshots(t *testing.T) *snapshot.Store {
	s, err := snapshot.Open(filepath.Join(t.TempDir(), "snapshots.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestLongStreamsAreReadFromTheirSnapshots: a state is stored as a
// snapshot once SnapshotEvery events were appended or folded since the
// last, and a repository that needs it reads the snapshot and only the
// events after it, to the same state; a snapshot of another log is not
// used.
func TestLongStreamsAreReadFromTheirSnapshots(t *testing.T) {
	ctx := context.Background()
	store := &counting{Store: openSQLite(t)}
	snaps := openSnapshots(t)
	w := snapshotted(store, snaps)
	if _, err := w.Update(ctx, "g", meta, decide(create("g", alice))); err != nil {
		t.Fatal(err)
	}
	// Through a batch and through Update, 250 messages in all.
	b := w.NewBatch()
	for i := range 150 {
		if err := b.Change(ctx, "g", meta, decide(post(alice, fmt.Sprint("b", i)))); err != nil {
			t.Fatal(err)
		}
	}
	if res := b.Commit(ctx); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	for i := range 100 {
		if _, err := w.Update(ctx, "g", meta, decide(post(alice, fmt.Sprint("u", i)))); err != nil {
			t.Fatal(err)
		}
	}
	snap, ok, err := snaps.Latest(ctx, "g", ^uint64(0))
	if err != nil || !ok || snap.Version != 251 {
		t.Fatalf("newest snapshot: version %d (found %v, %v); want 251, after the last Update", snap.Version, ok, err)
	}
	want, _ := w.Get(ctx, "g")
	wantData, _ := want.Snapshot()

	store.read.Store(0)
	r := snapshotted(store, snaps)
	g, err := r.Get(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := g.Snapshot(); string(got) != string(wantData) {
		t.Errorf("the state read from the snapshot differs:\n got %s\nwant %s", got, wantData)
	}
	if n := store.read.Load(); n != 1 {
		t.Errorf("reading the state from its snapshot read %d events, want 1 (the one the snapshot follows)", n)
	}
	if _, dup := g.Recent(alice, "u99"); !dup {
		t.Error("the restored window forgot the last message")
	}

	// Behind the newest snapshot: the one before it, and the events since.
	store.read.Store(0)
	at, err := snapshotted(store, snaps).GetAt(ctx, "g", 200)
	if err != nil || at.Version() != 200 {
		t.Fatalf("GetAt(200) = version %d, %v", at.Version(), err)
	}
	if n := store.read.Load(); n > 100 {
		t.Errorf("GetAt(200) read %d events; the snapshot at 151 leaves 49 and the one it follows", n)
	}

	// A snapshot file from another log: the event it follows differs.
	other := openSQLite(t)
	o := groups(other)
	for _, c := range []domain.Command{create("g", bob), post(bob, "x")} {
		if _, err := o.Update(ctx, "g", meta, decide(c)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 300 {
		if _, err := o.Update(ctx, "g", meta, decide(post(bob, fmt.Sprint("o", i)))); err != nil {
			t.Fatal(err)
		}
	}
	g, err = snapshotted(other, snaps).Get(ctx, "g")
	if err != nil || g.Version() != 302 {
		t.Fatalf("Get on another log = version %d, %v; want its own 302", g.Version(), err)
	}
	if _, ok := g.Member(alice); ok {
		t.Error("a snapshot of another log was used")
	}
}
