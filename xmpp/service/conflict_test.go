package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/xmpp/presence"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/readmodel"
	"github.com/uuchat/groupchat/xmpp/service"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// outbox is a Sender that hands every outgoing stanza to the test, parsed.
// Like the link, it refuses what the XMPP server would refuse; unlike the
// link, it fails the test, since the service must never write such a stanza.
type outbox struct {
	t   testing.TB
	ch  chan *xmlnode.Node
	max int
}

func (o *outbox) Send(ctx context.Context, out protocol.Outbound) error {
	if err := checkWritten(out, o.max); err != nil {
		o.t.Errorf("the service wrote a stanza the server would refuse: %v\n%.300s", err, out.String())
		return err
	}
	n, err := xmlnode.Parse(out.String(), xmlnode.DefaultLimits())
	if err != nil {
		return err
	}
	select {
	case o.ch <- n:
	case <-ctx.Done():
	}
	return nil
}

// checkWritten is what the server checks of a stanza the component
// writes: its addresses and size (as the link does) and that it is
// well-formed XML.
func checkWritten(out protocol.Outbound, max int) error {
	if err := protocol.CheckOutbound(out, benchDomain, max); err != nil {
		return err
	}
	if _, err := xmlnode.Parse(out.String(), xmlnode.Limits{MaxBytes: 1 << 30, MaxDepth: 1000, MaxChildren: 1 << 30}); err != nil {
		return fmt.Errorf("not well-formed: %w", err)
	}
	return nil
}

// next returns the first stanza to `to` that match accepts, skipping others.
func (o *outbox) next(t *testing.T, to, what string, match func(*xmlnode.Node) bool) *xmlnode.Node {
	t.Helper()
	// A guard against hanging, not a speed assertion.
	deadline := time.After(30 * time.Second)
	for {
		select {
		case n := <-o.ch:
			if n.Attr("to") == to && match(n) {
				return n
			}
		case <-deadline:
			t.Fatalf("no %s to %s", what, to)
			return nil
		}
	}
}

// liveService runs a service and its projector on a fresh SQLite store,
// as serve wires them, until the test ends.
func liveService(t testing.TB) (*service.Service, eventstore.Store, *outbox) {
	t.Helper()
	return liveServiceWith(t, service.Config{Domain: benchDomain, Limits: domain.DefaultLimits()})
}

// liveServiceWith is liveService with a given configuration.
func liveServiceWith(t testing.TB, cfg service.Config) (*service.Service, eventstore.Store, *outbox) {
	t.Helper()
	return liveServiceTracking(t, cfg, presence.NewTracker())
}

// liveServiceTracking is liveServiceWith with the given online set.
func liveServiceTracking(t testing.TB, cfg service.Config, online *presence.Tracker) (*service.Service, eventstore.Store, *outbox) {
	t.Helper()
	out := &outbox{t: t, ch: make(chan *xmlnode.Node, 1024), max: cfg.MaxOutboundBytes}
	svc, store := startService(t, cfg, out, online)
	return svc, store, out
}

// startService runs a service and its projector on a fresh SQLite store,
// sending to out, until the test ends.
func startService(t testing.TB, cfg service.Config, out service.Sender, online *presence.Tracker) (*service.Service, eventstore.Store) {
	t.Helper()
	dir := t.TempDir()
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	proj, err := projections.Open(filepath.Join(dir, "projections.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(cfg,
		store, readmodel.ReadModel{DB: proj}, online, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	svc.Attach(out)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := svc.Run(ctx); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		if err := proj.Run(ctx, store, projections.RunOptions{OnApplied: svc.OnApplied}); err != nil && ctx.Err() == nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		proj.Close()
		store.Close()
	})
	return svc, store
}

func handle(t *testing.T, svc *service.Service, stanza string) {
	t.Helper()
	n, err := xmlnode.Parse(stanza, xmlnode.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	svc.HandleStanza(context.Background(), n)
}

// appendElsewhere decides cmd on the group as stored and appends the events
// behind the service's back, as another instance sharing the store would.
func appendElsewhere(t *testing.T, store eventstore.Store, group string, cmd domain.Command) {
	t.Helper()
	ctx := context.Background()
	evs, err := store.ReadStream(ctx, group, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	g := domain.NewGroup(domain.DefaultLimits())
	for _, re := range evs {
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		g.Apply(e)
	}
	w := &groupWriter{id: group, state: g, lim: domain.DefaultLimits(), clock: time.Now()}
	base := g.Version()
	data, err := w.decide(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.append(ctx, store, expectedAfter(base), data); err != nil {
		t.Fatal(err)
	}
}

// TestRequestsAreDecidedAgainAfterAnotherWriter: when another writer
// appended to a group after the service loaded it, the service's append is
// refused (optimistic concurrency); the request is then decided again on the
// group as stored, not answered with an error.
func TestRequestsAreDecidedAgainAfterAnotherWriter(t *testing.T) {
	const (
		alice = "alice@example.test/phone"
		bob   = "bob@example.test/pda"
		group = "coven"
		gjid  = group + "@" + benchDomain
	)
	tests := []struct {
		name string
		// elsewhere is what the other writer does meanwhile.
		elsewhere domain.Command
		// from posts the message "m1" after it.
		from string
		// wantType and wantCondition: the answer to the poster.
		wantType, wantCondition string
		// wantStored is the events the group's stream ends with.
		wantStored []string
	}{{
		name:       "a message posted elsewhere: the post is stored after it",
		elsewhere:  domain.PostMessage{Sender: benchBob, ID: "elsewhere-1", Body: "posted through another instance"},
		from:       alice,
		wantType:   "groupchat",
		wantStored: []string{domain.TypeGroupCreated, domain.TypeMessagePosted, domain.TypeMessagePosted},
	}, {
		name:          "the poster was removed elsewhere: refused as a non-member",
		elsewhere:     domain.RemoveMembers{By: benchAlice, Members: []domain.MemberSelector{{JID: benchBob}}},
		from:          bob,
		wantType:      "error",
		wantCondition: "forbidden",
		wantStored:    []string{domain.TypeGroupCreated, domain.TypeMemberRemoved},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store, out := liveService(t)
			for _, who := range []string{alice, bob} {
				handle(t, svc, `<presence from="`+who+`" to="`+benchDomain+`"/>`)
			}
			handle(t, svc, `<presence from="`+alice+`" to="`+gjid+`" id="c1">`+
				`<x xmlns="http://jabber.org/protocol/groupchat#creategroup"/><properties>`+
				`<property name="name">Coven</property>`+
				`<property name="members"><item jid="`+benchBob+`"/></property></properties></presence>`)
			// The creation's broadcast: the group is loaded in the service.
			out.next(t, alice, "creategroup broadcast", func(n *xmlnode.Node) bool {
				return n.Name.Local == "presence" && n.ChildNS(protocol.NSGroupchat+"#creategroup") != nil
			})

			appendElsewhere(t, store, group, tt.elsewhere)
			handle(t, svc, `<message from="`+tt.from+`" to="`+gjid+`" type="groupchat" id="m1"><body>hello</body></message>`)

			got := out.next(t, tt.from, "answer to m1", func(n *xmlnode.Node) bool { return n.Attr("id") == "m1" })
			if typ := got.Attr("type"); typ != tt.wantType {
				t.Fatalf("the post was answered with type %q, want %q: %s", typ, tt.wantType, got.Attr("from"))
			}
			if tt.wantCondition != "" {
				if e := got.Child("", "error"); e == nil || e.Child(protocol.NSStanzas, tt.wantCondition) == nil {
					t.Fatalf("the error does not carry <%s/>", tt.wantCondition)
				}
			}
			evs, err := store.ReadStream(context.Background(), group, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var stored []string
			for _, re := range evs {
				stored = append(stored, re.Type)
			}
			if len(stored) != len(tt.wantStored) {
				t.Fatalf("stream %s holds %v, want %v", group, stored, tt.wantStored)
			}
			for i := range stored {
				if stored[i] != tt.wantStored[i] {
					t.Fatalf("stream %s holds %v, want %v", group, stored, tt.wantStored)
				}
			}
		})
	}
}

// alwaysConflicting refuses every append after the first n, as if another
// writer always got there first.
type alwaysConflicting struct {
	eventstore.Store
	mu       sync.Mutex
	n, calls int
}

func (s *alwaysConflicting) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	s.mu.Lock()
	s.calls++
	refuse := s.calls > s.n
	s.mu.Unlock()
	if refuse {
		return eventstore.AppendResult{}, &eventstore.WrongVersionError{Stream: stream, Expected: expected, Actual: 99, Exists: true}
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// TestConflictRetriesAreBounded: a group that keeps changing under the
// service gets its request answered with a wait error after a few attempts,
// not decided again forever.
func TestConflictRetriesAreBounded(t *testing.T) {
	const alice = "alice@example.test/phone"
	dir := t.TempDir()
	inner, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	store := &alwaysConflicting{Store: inner}
	proj, err := projections.Open(filepath.Join(dir, "projections.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer proj.Close()
	svc := service.New(service.Config{Domain: benchDomain, Limits: domain.DefaultLimits()},
		store, readmodel.ReadModel{DB: proj}, presence.NewTracker(), slog.New(slog.DiscardHandler))
	out := &outbox{t: t, ch: make(chan *xmlnode.Node, 1024)}
	svc.Attach(out)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		if err := svc.Run(ctx); err != nil {
			t.Error(err)
		}
	})
	handle(t, svc, `<presence from="`+alice+`" to="coven@`+benchDomain+`" id="c1">`+
		`<x xmlns="http://jabber.org/protocol/groupchat#creategroup"/><properties>`+
		`<property name="name">Coven</property></properties></presence>`)
	got := out.next(t, alice, "answer to c1", func(n *xmlnode.Node) bool { return n.Attr("type") == "error" })
	e := got.Child("", "error")
	if e == nil || e.Attr("type") != "wait" || e.Child(protocol.NSStanzas, "internal-server-error") == nil {
		t.Fatalf("want a wait/internal-server-error answer, got %v", got)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.calls != 4 {
		t.Fatalf("the request was appended %d times, want 4 (once and three retries)", store.calls)
	}
}
