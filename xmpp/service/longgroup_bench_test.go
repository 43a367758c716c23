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
//   - Post: alice posts a message; one op ends when her reflection comes
//     out (decided, stored, projected, fanned out to bob and her);
//   - CatchUp: bob's phone catches up on the group's last 50 events;
//   - MAM: bob asks the group's archive for its last page of 50.
//
// The service is started on the log as after a restart; its first request
// folds the group from its stream, or from the snapshot an earlier run
// stored (first-request-ms, once, not timed with the ops). With
// CATCHUP_BENCH_DIR set, the logs and snapshots are kept there and reused
// by later runs.
func BenchmarkOneGroupsHistory(b *testing.B) {
	dir := os.Getenv("CATCHUP_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	for _, n := range []int{100, 1_000_000} {
		b.Run("history="+strconv.Itoa(n), func(b *testing.B) {
			lg := longGroupLog(b, filepath.Join(dir, "long-"+strconv.Itoa(n)), n)
			benchLongGroup(b, lg)
		})
	}
}

const longGroup = "room-000"

// longGroupLog builds (or finds, built by an earlier run) a log of one
// group with n messages, and its projections.
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
	if err := store.Close(); err != nil {
		b.Fatal(err)
	}
	if err := writeBuilt(dir, lg); err != nil {
		b.Fatal(err)
	}
	return lg
}

func benchLongGroup(b *testing.B, lg builtLog) {
	ctx := context.Background()
	// The snapshots are kept with the log: the first run folds the long
	// group from its stream and stores one, later runs start from it.
	snapPath := filepath.Join(filepath.Dir(lg.events), "snapshots.db")
	_, statErr := os.Stat(snapPath)
	snaps, err := snapshot.Open(snapPath)
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
	b.Logf("first request after the start: %v (snapshots file there before: %v)", first.Round(time.Millisecond), statErr == nil)
	runtime.GC()

	b.Run("Post", func(b *testing.B) {
		for b.Loop() {
			post()
		}
		b.ReportMetric(float64(first.Microseconds())/1e3, "first-request-ms")
	})
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
