package projections_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/projections/projectionstest"
)

// BenchmarkApplyIncremental applies a busy service's log (20,000 events in
// 20 groups of 500 users, mostly messages) to a fresh database with Apply,
// in batches of the given size: 1 is a transaction per event, as a
// projector fed one event at a time would commit; larger batches are what
// the projector commits when the feed hands it a page of the log.
func BenchmarkApplyIncremental(b *testing.B) {
	const events = 20000
	l := projectionstest.NewLog()
	l.Random(rand.New(rand.NewPCG(1, 1)), events, 20, 500, projectionstest.Chat)
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprint("batch=", batch), func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			applied := 0
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				db, err := projections.Open(filepath.Join(dir, fmt.Sprint(i, ".db")))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for j := 0; j < len(l.Events); j += batch {
					if err := db.Apply(ctx, l.Events[j:min(j+batch, len(l.Events))]); err != nil {
						b.Fatal(err)
					}
				}
				applied += len(l.Events)
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(applied)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
