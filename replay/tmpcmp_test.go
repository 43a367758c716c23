package replay_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/replay"
)

func TestTmpCompare(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open("/tmp/bench1m.db", sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	dir := t.TempDir()
	start := time.Now()
	st, err := replay.Rebuild(ctx, store, filepath.Join(dir, "r.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rb := time.Since(start)
	t.Logf("rebuild: %v (%.0f events/s) %+v", rb, float64(st.Events)/rb.Seconds(), st)

	db, err := projections.Open(filepath.Join(dir, "i.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start = time.Now()
	var after uint64
	n := 0
	for {
		evs, err := store.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		if err := db.Apply(ctx, evs); err != nil {
			t.Fatal(err)
		}
		after = evs[len(evs)-1].Position
		n += len(evs)
		if n%200000 == 0 {
			t.Logf("applied %d in %v", n, time.Since(start))
		}
	}
	inc := time.Since(start)
	t.Logf("incremental (batches of 1000): %v (%.0f events/s); rebuild is %.1fx faster", inc, float64(n)/inc.Seconds(), inc.Seconds()/rb.Seconds())
	live, _ := db.Dump(ctx)
	r, _ := projections.Open(filepath.Join(dir, "r.db"))
	defer r.Close()
	rebuilt, _ := r.Dump(ctx)
	if d := replay.Compare(live, rebuilt); len(d) > 0 {
		t.Errorf("%d differences, first %v", len(d), d[0])
	}
}
