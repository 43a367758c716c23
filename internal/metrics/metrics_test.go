package metrics

import (
	"context"
	"encoding/xml"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

func TestStoreCountsAndTimesAppends(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := New()
	store := m.Store(s)
	ctx := context.Background()
	ev := func(id, typ string) eventstore.EventData {
		return eventstore.EventData{ID: id, Type: typ, Data: []byte("{}")}
	}
	if _, err := store.Append(ctx, "g", eventstore.NoStream(), ev("1", "GroupCreated"), ev("2", "MessagePosted")); err != nil {
		t.Fatal(err)
	}
	// A resend is not stored again, so it is not counted again.
	if _, err := store.Append(ctx, "g", eventstore.Any(), ev("2", "MessagePosted")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "g", eventstore.NoStream(), ev("3", "MessagePosted")); err == nil {
		t.Fatal("a wrong expected version was accepted")
	}
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"GroupCreated", testutil.ToFloat64(m.appended.WithLabelValues("GroupCreated")), 1},
		{"MessagePosted", testutil.ToFloat64(m.appended.WithLabelValues("MessagePosted")), 1},
		{"append errors", testutil.ToFloat64(m.appendErrors), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.appendSeconds); n != 1 {
		t.Errorf("the latency histogram has %d series", n)
	}
	if !strings.Contains(gathered(t, m), AppendSeconds+"_count 3") {
		t.Errorf("every append is timed:\n%s", gathered(t, m))
	}
}

func gathered(t *testing.T, m *Metrics) string {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range fams {
		for _, mm := range f.GetMetric() {
			if h := mm.GetHistogram(); h != nil {
				b.WriteString(f.GetName() + "_count " + strconv.FormatUint(h.GetSampleCount(), 10) + "\n")
			}
		}
	}
	return b.String()
}

// links records what the decorated sender passed on.
type links struct{ sent []protocol.Outbound }

func (l *links) Send(ctx context.Context, o protocol.Outbound) error {
	l.sent = append(l.sent, o)
	return nil
}

func TestSenderCountsFanoutAndErrors(t *testing.T) {
	m := New()
	var l links
	out := m.Sender(&l)
	ctx := context.Background()
	msg := protocol.Stanza{Kind: "message", Type: "groupchat", ID: "m1",
		From: address.MustParse("mallory@example.org/pda"), To: address.MustParse("g@groupchat.example.org"),
		Node: &xmlnode.Node{Name: xml.Name{Local: "message"}}}
	for _, o := range []protocol.Outbound{
		protocol.TransientMessage("g@groupchat.example.org/alice", "t1", "").For("bob@example.org/pda"),
		protocol.GroupPresence("g@groupchat.example.org", protocol.NSCreate, protocol.Change{ID: "2", Previous: "1"}, nil, nil).For("bob@example.org/pda"),
		protocol.ErrorReply(msg, protocol.ErrForbidden.With("")),
		protocol.ErrorReply(msg, protocol.ErrForbidden.With("")),
		protocol.ErrorReply(msg, protocol.ErrRateLimited.With("")),
		protocol.IQResult(msg, nil),
	} {
		if err := out.Send(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if len(l.sent) != 6 {
		t.Errorf("the link got %d stanzas, want all 6", len(l.sent))
	}
	if got := testutil.ToFloat64(m.fanout); got != 2 {
		t.Errorf("fan-out = %v, want 2 (a message and a presence)", got)
	}
	for cond, want := range map[string]float64{"forbidden": 2, "resource-constraint": 1} {
		if got := testutil.ToFloat64(m.errors.WithLabelValues(cond)); got != want {
			t.Errorf("errors{%s} = %v, want %v", cond, got, want)
		}
	}
}

// checking refuses what the link refuses, as the link does.
type checking struct{ max int }

func (c checking) Send(_ context.Context, o protocol.Outbound) error {
	return protocol.CheckOutbound(o, "groupchat.example.org", c.max)
}

func TestSenderCountsRefusals(t *testing.T) {
	m := New()
	out := m.Sender(checking{max: 512})
	ctx := context.Background()
	big := domain.MessagePosted{ID: "big", Body: strings.Repeat("x", 600)}
	for _, o := range []protocol.Outbound{
		protocol.TransientMessage("", "t1", "").For("bob@example.org/pda"),
		protocol.TransientMessage("g@elsewhere.org/alice", "t2", "").For("bob@example.org/pda"),
		protocol.TransientMessage("g@groupchat.example.org/alice", "t3", "").For("Bob@example.org/pda"),
		protocol.GroupMessage("g@groupchat.example.org/alice", "g@groupchat.example.org", big, "1").For("bob@example.org/pda"),
		protocol.TransientMessage("g@groupchat.example.org/alice", "t4", "").For("bob@example.org/pda"),
	} {
		_ = out.Send(ctx, o)
	}
	for reason, want := range map[string]float64{"from": 2, "to": 1, "size": 1} {
		if got := testutil.ToFloat64(m.refused.WithLabelValues(reason)); got != want {
			t.Errorf("refused{%s} = %v, want %v", reason, got, want)
		}
	}
	if got := testutil.ToFloat64(m.fanout); got != 1 {
		t.Errorf("fan-out = %v, want only the one stanza written", got)
	}
}

// handled records the stanzas the decorated handler passed on.
type handled struct{ n int }

func (h *handled) HandleStanza(context.Context, *xmlnode.Node)           { h.n++ }
func (h *handled) HandleOversized(context.Context, *xmlnode.Node, error) {}
func (h *handled) Connected(context.Context)                             {}

func TestHandlerCountsCatchups(t *testing.T) {
	m := New()
	var inner handled
	h := m.Handler(&inner)
	iq := func(typ, ns string) *xmlnode.Node {
		return &xmlnode.Node{Name: xml.Name{Local: "iq"}, Attrs: []xml.Attr{{Name: xml.Name{Local: "type"}, Value: typ}},
			Children: []*xmlnode.Node{{Name: xml.Name{Space: ns, Local: "query"}}}}
	}
	for _, n := range []*xmlnode.Node{
		iq("get", protocol.NSCatchUp), iq("get", protocol.NSCatchUp),
		iq("set", protocol.NSCatchUp), iq("get", protocol.NSItems),
		{Name: xml.Name{Local: "message"}},
	} {
		h.HandleStanza(context.Background(), n)
	}
	if inner.n != 5 {
		t.Errorf("the service got %d stanzas, want all 5", inner.n)
	}
	if got := testutil.ToFloat64(m.catchups); got != 2 {
		t.Errorf("catch-up requests = %v, want 2", got)
	}
}

// discard is a link that drops what it is sent.
type discard struct{}

func (discard) Send(context.Context, protocol.Outbound) error { return nil }

// BenchmarkSend measures what counting adds to each stanza of a broadcast:
// compare the decorated sender with the bare one.
func BenchmarkSend(b *testing.B) {
	o := protocol.TransientMessage("g@groupchat.example.org/alice", "m1", "<body>hello</body>")
	msg := protocol.Stanza{Kind: "message", Type: "groupchat", ID: "m1",
		From: address.MustParse("mallory@example.org/pda"), To: address.MustParse("g@groupchat.example.org"),
		Node: &xmlnode.Node{Name: xml.Name{Local: "message"}}}
	errReply := protocol.ErrorReply(msg, protocol.ErrForbidden.With(""))
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		out  Sender
		o    protocol.Outbound
	}{
		{"bare", discard{}, o},
		{"counted/fanout", New().Sender(discard{}), o},
		{"counted/error", New().Sender(discard{}), errReply},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bc.out.Send(ctx, bc.o.For("bob@example.org/pda"))
			}
		})
	}
}

// nullStore acknowledges appends without storing them, so that only the
// decorator's own cost is measured.
type nullStore struct{ eventstore.Store }

func (nullStore) Append(context.Context, string, eventstore.ExpectedVersion, ...eventstore.EventData) (eventstore.AppendResult, error) {
	return eventstore.AppendResult{}, nil
}

// BenchmarkAppend measures what timing and counting add to an append of
// one message.
func BenchmarkAppend(b *testing.B) {
	ev := eventstore.EventData{ID: "e", Type: "MessagePosted", Data: []byte("{}")}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		s    eventstore.Store
	}{{"bare", nullStore{}}, {"counted", New().Store(nullStore{})}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = bc.s.Append(ctx, "g", eventstore.Any(), ev)
			}
		})
	}
}

func TestWatchPushReadsTheNotifiersCounts(t *testing.T) {
	m := New()
	counts := PushCounts{Queued: 7, Dropped: 1, Published: 5, Delivered: 3, Failed: 1, TimedOut: 1, Disabled: 1}
	m.WatchPush(func() PushCounts { return counts })
	want := map[string]float64{
		PushQueued: 7, PushDropped: 1, PushPublished: 5, PushDelivered: 3,
		PushFailed: 1, PushTimedOut: 1, PushDisabled: 1,
	}
	read := func() map[string]float64 {
		fams, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range fams {
			if _, ok := want[f.GetName()]; ok {
				got[f.GetName()] = f.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return got
	}
	if got := read(); !reflect.DeepEqual(got, want) {
		t.Fatalf("push counters = %v, want %v", got, want)
	}
	// Each scrape reads the counts anew.
	counts.Published, want[PushPublished] = 6, 6
	if got := read(); got[PushPublished] != 6 {
		t.Fatalf("after one more publish the counter reads %v, want 6", got[PushPublished])
	}
}

// noLister hides every method but the Store's.
type noLister struct{ eventstore.Store }

func TestStoreListsStreamsWhenTheStoreCan(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := New()
	if _, ok := m.Store(s).(eventstore.StreamLister); !ok {
		t.Error("a SQLite store counted by the metrics no longer lists its streams: start-up would read the whole log")
	}
	if _, ok := m.Store(noLister{s}).(eventstore.StreamLister); ok {
		t.Error("a store that cannot list streams claims it can")
	}
	if _, err := s.Append(context.Background(), "push:alice", eventstore.NoStream(), eventstore.EventData{ID: "1", Type: "PushEnabled"}); err != nil {
		t.Fatal(err)
	}
	names, err := m.Store(s).(eventstore.StreamLister).Streams(context.Background(), "push:", "", 10)
	if err != nil || len(names) != 1 || names[0] != "push:alice" {
		t.Errorf("Streams = %q, %v", names, err)
	}
}

// TestWatchReadsTheLinksBytes: the link's byte count is a counter read on
// each scrape, so a rate of it is the link's throughput.
func TestWatchReadsTheLinksBytes(t *testing.T) {
	m := New()
	var written uint64 = 1234
	m.Watch(Gauges{BytesWritten: func() uint64 { return written }})
	read := func() float64 {
		fams, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() == LinkBytesWritten {
				return f.GetMetric()[0].GetCounter().GetValue()
			}
		}
		t.Fatalf("%s is not gathered", LinkBytesWritten)
		return 0
	}
	if got := read(); got != 1234 {
		t.Fatalf("%s = %v, want 1234", LinkBytesWritten, got)
	}
	written = 5000
	if got := read(); got != 5000 {
		t.Fatalf("after more writes %s = %v, want 5000", LinkBytesWritten, got)
	}
}
