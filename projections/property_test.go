package projections_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/projections/projectionstest"
)

// TestIncrementalEqualsBuilt drives random command histories through the
// domain and checks that applying them in random batches gives the same
// rows as folding them with a Builder: the incremental counting against the
// counters' definition, and every other table.
func TestIncrementalEqualsBuilt(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0))
			l := projectionstest.NewLog()
			l.Random(r, 1500, 4, 8, projectionstest.Churn)
			db := openDB(t)
			for i := 0; i < len(l.Events); {
				n := 1 + r.IntN(60)
				// Overlap the previous batch now and then: a redelivery.
				from := max(0, i-r.IntN(3))
				apply(t, db, l.Events[from:min(i+n, len(l.Events))])
				i += n
			}
			got, want := dump(t, db), built(t, l.Events)
			compareDumps(t, "applied", got, "built", want)
			checkAgainstDomain(t, db, l)
		})
	}
}

// checkAgainstDomain compares the members the projection holds with the
// domain's own state of each group.
func checkAgainstDomain(t *testing.T, db *projections.DB, l *projectionstest.Log) {
	t.Helper()
	ctx := context.Background()
	for _, id := range l.Groups() {
		g := l.Group(id)
		members, err := db.Members(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := g.Members(); !reflect.DeepEqual(members, want) && (len(members) > 0 || len(want) > 0) {
			t.Errorf("group %s: members %v, the domain has %v", id, members, want)
		}
		info, _, _ := db.Group(ctx, id)
		if info.Deleted != g.Deleted() || info.Name != g.Name() || info.Members != g.MemberCount() || info.Version != g.Version()-1 {
			t.Errorf("group %s: entry %+v, the domain has name %q, %d members, version %d, deleted %v",
				id, info, g.Name(), g.MemberCount(), g.Version()-1, g.Deleted())
		}
		if o, ok := g.Owner(); ok && o.JID != info.Owner {
			t.Errorf("group %s: owner %s, the domain has %s", id, info.Owner, o.JID)
		}
		if !g.Deleted() {
			for _, m := range g.Members() {
				if c, ok, _ := db.Counters(ctx, id, m.JID); !ok || c.ReadUpto >= g.Version() {
					t.Errorf("group %s: member %s has counters %+v, %v", id, m.JID, c, ok)
				}
			}
		}
	}
}

func compareDumps(t *testing.T, aName string, a map[string][]string, bName string, b map[string][]string) {
	t.Helper()
	for table, rows := range b {
		if !reflect.DeepEqual(a[table], rows) {
			t.Errorf("table %s differs (%d rows %s, %d rows %s)", table, len(a[table]), aName, len(rows), bName)
			shown := 0
			for i := 0; i < max(len(rows), len(a[table])) && shown < 5; i++ {
				var x, y string
				if i < len(a[table]) {
					x = a[table][i]
				}
				if i < len(rows) {
					y = rows[i]
				}
				if x != y {
					t.Errorf("  %s: %s\n  %s: %s", aName, x, bName, y)
					shown++
				}
			}
		}
	}
}
