package replay_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/projections/projectionstest"
	"github.com/uuchat/groupchat/replay"
)

// BenchmarkRebuild1M rebuilds the projections from a log of 1,000,000
// events in the SQLite store: 100 groups of a busy service, mostly
// messages, with reads, mentions and membership changes. Building the log
// is set-up and is not timed.
func BenchmarkRebuild1M(b *testing.B) {
	const events = 1_000_000
	store := benchLog(b, events)
	// The set-up's garbage is not the rebuild's to collect.
	runtime.GC()
	ctx := context.Background()
	dir := b.TempDir()
	var st replay.Stats
	var fold, write time.Duration
	n := 0
	for b.Loop() {
		var err error
		st, err = replay.Rebuild(ctx, store, filepath.Join(dir, fmt.Sprint(n, ".db")), nil)
		if err != nil {
			b.Fatal(err)
		}
		if st.Events != events {
			b.Fatalf("rebuilt %d events, want %d", st.Events, events)
		}
		fold += st.Fold
		write += st.Write
		n++
	}
	b.ReportMetric(float64(st.Events)*float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(fold.Seconds()/float64(n), "fold-s/op")
	b.ReportMetric(write.Seconds()/float64(n), "write-s/op")
}

// benchLog returns a SQLite store holding a random busy log of n events.
// Each group's events go in by one goroutine in large appends, and the
// groups' goroutines run at once, so the store's group commit writes them
// in a few thousand transactions.
//
// With REPLAY_BENCH_LOG set to a file name, the log is kept there and
// reused by later runs, which then skip the set-up.
func benchLog(b *testing.B, n int) eventstore.Store {
	b.Helper()
	path := os.Getenv("REPLAY_BENCH_LOG")
	if path == "" {
		path = filepath.Join(b.TempDir(), "events.db")
	} else if _, err := os.Stat(path); err == nil {
		store, err := sqlite.Open(path, sqlite.Options{Synchronous: "normal"})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { store.Close() })
		if last, err := store.LastPosition(context.Background()); err != nil || last != uint64(n) {
			b.Fatalf("%s holds %d events (%v), want %d: remove it", path, last, err, n)
		}
		return store
	}
	start := time.Now()
	l := projectionstest.NewLog()
	l.Random(rand.New(rand.NewPCG(1, 2)), n, 100, 5000, projectionstest.Chat)
	generated := time.Since(start)

	store, err := sqlite.Open(path, sqlite.Options{Synchronous: "normal"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	streams := map[string][]eventstore.RecordedEvent{}
	for _, e := range l.Events[:n] {
		streams[e.Stream] = append(streams[e.Stream], e)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, len(streams))
	for _, events := range streams {
		wg.Go(func() {
			for i := 0; i < len(events); i += 1000 {
				run := events[i:min(i+1000, len(events))]
				data := make([]eventstore.EventData, len(run))
				for k, e := range run {
					data[k] = eventstore.EventData{ID: e.ID, Type: e.Type, Data: e.Data}
				}
				expected := eventstore.NoStream()
				if run[0].Version > 0 {
					expected = eventstore.Exact(run[0].Version - 1)
				}
				if _, err := store.Append(ctx, run[0].Stream, expected, data...); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.Logf("set-up: %d events generated in %v, stored in %v", n, generated.Round(time.Millisecond), (time.Since(start) - generated).Round(time.Millisecond))
	return store
}
