package service_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/uuchat/groupchat/aggregate"
	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/replay"
	"github.com/uuchat/groupchat/snapshot"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/service"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// BenchmarkOneGroupsHistory measures what one group's length costs its
// requests, through the whole service (SQLite log, projector, shards,
// broadcaster): a group whose alice, bob and carol are members holds 100
// or 1,000,000 messages, and
//
//   - CatchUp: bob's phone catches up on the group's last 50 events;
//   - MAM: bob asks the group's archive for its last page of 50;
//   - Post: alice posts a message; one op ends when her reflection comes
//     out (decided, stored, projected, fanned out to bob and her). It runs
//     last: it makes the group longer.
//
// The service is started on a copy of the log as after a restart; its
// first request reads the group from its snapshot and the events after it
// (first-request-ms, once, not timed with the ops). With CATCHUP_BENCH_DIR
// set, the logs are kept there and reused by later runs.
func BenchmarkOneGroupsHistory(b *testing.B) {
	dir := os.Getenv("CATCHUP_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	for _, n := range []int{100, 1_000_000} {
		b.Run("history="+strconv.Itoa(n), func(b *testing.B) {
			lg := longGroupLog(b, filepath.Join(dir, "long-"+strconv.Itoa(n)), n)
			benchLongGroup(b, copyLog(b, lg))
		})
	}
}

const longGroup = "room-000"

// longGroupLog builds (or finds, built by an earlier run) a log of one
// group with n messages, its projections, and the group's snapshot as a
// service that wrote it would have left it (package snapshot).
func longGroupLog(b *testing.B, dir string, n int) builtLog {
	b.Helper()
	if lg, err := readBuilt(dir); err == nil {
		return lg
	}
	ctx := context.Background()
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	lg := builtLog{events: filepath.Join(dir, "events.db"), projections: filepath.Join(dir, "projections.db"), missed: n}
	store, err := sqlite.Open(lg.events, sqlite.Options{Synchronous: "normal"})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	g := newGroupWriter(longGroup, benchAlice, benchBob, benchCarol)
	if err := g.create(ctx, store); err != nil {
		b.Fatal(err)
	}
	if err := g.post(ctx, store, n, buildBatch, 0); err != nil {
		b.Fatal(err)
	}
	if _, err := replay.Rebuild(ctx, store, lg.projections, nil); err != nil {
		b.Fatal(err)
	}
	snaps, err := snapshot.Open(filepath.Join(dir, "snapshots.db"))
	if err != nil {
		b.Fatal(err)
	}
	lim := domain.DefaultLimits()
	groups := aggregate.New(store, aggregate.Config[*domain.Group]{
		New: func(string) *domain.Group { return domain.NewGroup(lim) }, Snapshots: snaps,
		Encode: (*domain.Group).Snapshot,
		Decode: func(_ string, data []byte) (*domain.Group, error) { return domain.RestoreGroup(lim, data) },
	})
	if _, err := groups.Get(ctx, longGroup); err != nil {
		b.Fatal(err)
	}
	if err := snaps.Close(); err != nil {
		b.Fatal(err)
	}
	if err := store.Close(); err != nil {
		b.Fatal(err)
	}
	if err := writeBuilt(dir, lg); err != nil {
		b.Fatal(err)
	}
	return lg
}

// copyLog copies a built log, its projections and snapshots to a
// directory of the benchmark's own: the posts it measures change them.
func copyLog(b *testing.B, lg builtLog) builtLog {
	b.Helper()
	dir := b.TempDir()
	for _, name := range []string{"events.db", "projections.db", "snapshots.db"} {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(lg.events), name))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	lg.events, lg.projections = filepath.Join(dir, "events.db"), filepath.Join(dir, "projections.db")
	return lg
}

func benchLongGroup(b *testing.B, lg builtLog) {
	ctx := context.Background()
	snaps, err := snapshot.Open(filepath.Join(filepath.Dir(lg.events), "snapshots.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { snaps.Close() })
	rec := &replyRecorder{}
	svc, store, proj := runService(b, lg, service.Config{Domain: benchDomain, Limits: domain.DefaultLimits(), GroupCacheBytes: 64 << 20}, snaps, rec)
	const alice, bob = benchAlice + "/desk", benchBob + "/phone"
	group := longGroup + "@" + benchDomain
	send := func(stanza string) {
		n, err := xmlnode.Parse(stanza, xmlnode.DefaultLimits())
		if err != nil {
			b.Fatal(err)
		}
		svc.HandleStanza(ctx, n)
	}
	send(`<presence from="` + alice + `" to="` + benchDomain + `"/>`)
	send(`<presence from="` + bob + `" to="` + benchDomain + `"/>`)
	seq := 0
	post := func() {
		seq++
		id := "bench-" + strconv.Itoa(seq)
		wait := rec.expect(`<message `, alice, id)
		send(`<message from="` + alice + `" to="` + group + `" type="groupchat" id="` + id + `"><body>Noon, by the station.</body></message>`)
		waitFor(b, wait, "the reflection of "+id)
	}
	// The first request after the start folds the group from its stream.
	start := time.Now()
	post()
	first := time.Since(start)
	runtime.GC()

	b.Run("CatchUp", func(b *testing.B) {
		last, err := store.LastPosition(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := proj.WaitFor(ctx, last); err != nil {
			b.Fatal(err)
		}
		c := catchUpClient{svc: svc, rec: &recorder{done: make(chan arrival, 1)}}
		svc.Attach(c.rec)
		defer svc.Attach(rec)
		for b.Loop() {
			if _, _, err := c.catchUp(ctx, last-50, 50); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("MAM", func(b *testing.B) {
		for b.Loop() {
			seq++
			id := "mam-" + strconv.Itoa(seq)
			wait := rec.expect(`<iq `, bob, id)
			send(`<iq type="set" from="` + bob + `" to="` + group + `" id="` + id + `"><query xmlns="urn:xmpp:mam:2" queryid="q` + id + `">` +
				`<set xmlns="` + protocol.NSRSM + `"><max>50</max><before/></set></query></iq>`)
			got := waitFor(b, wait, "the MAM result "+id)
			if !bytes.Contains(got.Head, []byte(`type="result"`)) {
				b.Fatalf("MAM %s: %s", id, got.String())
			}
		}
	})
	b.Run("Post", func(b *testing.B) {
		for b.Loop() {
			post()
		}
		b.ReportMetric(float64(first.Microseconds())/1e3, "first-request-ms")
	})
}

// replyRecorder is the service's Sender that hands over the one stanza a
// benchmark waits for: a kind of stanza, to a full JID, with an id.
type replyRecorder struct {
	mu   sync.Mutex
	kind string
	want []byte
	to   string
	done chan protocol.Outbound
}

func (r *replyRecorder) expect(kind, to, id string) chan protocol.Outbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kind, r.to, r.want = kind, to, []byte(` id="`+id+`"`)
	r.done = make(chan protocol.Outbound, 1)
	return r.done
}

// Send implements service.Sender.
func (r *replyRecorder) Send(_ context.Context, o protocol.Outbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.want != nil && o.To == r.to && bytes.HasPrefix(o.Head, []byte(r.kind)) && bytes.Contains(o.Head, r.want) {
		r.want = nil
		r.done <- o
	}
	return nil
}

func waitFor(b *testing.B, c chan protocol.Outbound, what string) protocol.Outbound {
	b.Helper()
	select {
	case o := <-c:
		return o
	case <-time.After(time.Minute):
		b.Fatalf("no %s within a minute", what)
		return protocol.Outbound{}
	}
}
