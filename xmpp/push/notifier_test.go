package push

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

const (
	alice = "alice@example.org"
	bob   = "bob@example.org"
	carol = "carol@example.org"
	app   = "push.example.org"
)

// memStore keeps appended events per stream, checking expected versions as
// a store does.
type memStore struct {
	mu      sync.Mutex
	streams map[string][]eventstore.EventData
}

func (m *memStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.streams == nil {
		m.streams = map[string][]eventstore.EventData{}
	}
	n := len(m.streams[stream])
	if !expected.Matches(uint64(max(n-1, 0)), n > 0) {
		return eventstore.AppendResult{}, &eventstore.WrongVersionError{Stream: stream, Expected: expected}
	}
	m.streams[stream] = append(m.streams[stream], events...)
	return eventstore.AppendResult{Version: uint64(len(m.streams[stream]) - 1)}, nil
}

func (m *memStore) ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []eventstore.RecordedEvent
	for v := from; v < uint64(len(m.streams[stream])) && len(out) < max; v++ {
		e := m.streams[stream][v]
		out = append(out, eventstore.RecordedEvent{ID: e.ID, Stream: stream, Version: v, Type: e.Type, Data: e.Data, Metadata: e.Metadata})
	}
	return out, nil
}

type onlineSet map[string]bool

func (o onlineSet) IsOnline(bare string) bool { return o[bare] }

type sent struct{ out []protocol.Outbound }

func (s *sent) Send(ctx context.Context, o protocol.Outbound) error {
	s.out = append(s.out, o)
	return nil
}

func newTestNotifier(t *testing.T, online onlineSet) (*Notifier, *sent, *memStore) {
	t.Helper()
	store := &memStore{}
	n := NewNotifier(Config{Domain: "groupchat.example.org", Interval: time.Second, MaxFailures: 2, ReplyTimeout: 10 * time.Second, QueueSize: 4},
		NewSettings(store, domain.DefaultPushLimits()), online, nil)
	out := &sent{}
	n.Attach(out)
	return n, out, store
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// queued drains the notes Message queued, by member.
func queued(n *Notifier) []string {
	var users []string
	for {
		select {
		case note := <-n.notes:
			users = append(users, note.User)
		default:
			return users
		}
	}
}

func TestMessageChoosesWhomToWake(t *testing.T) {
	ctx := context.Background()
	members := []domain.Member{{JID: alice, MID: "a"}, {JID: bob, MID: "b"}, {JID: carol, MID: "c"}}
	cases := []struct {
		name   string
		setup  []domain.PushCommand
		online onlineSet
		msg    domain.MessagePosted
		want   string
	}{
		{"registered offline members but the sender",
			[]domain.PushCommand{domain.EnablePush{User: alice, JID: app, Node: "a"}, domain.EnablePush{User: bob, JID: app, Node: "b"}},
			nil, domain.MessagePosted{Sender: bob}, alice},
		{"nobody without a registration", nil, nil, domain.MessagePosted{Sender: bob}, ""},
		{"nobody online",
			[]domain.PushCommand{domain.EnablePush{User: alice, JID: app, Node: "a"}, domain.EnablePush{User: carol, JID: app, Node: "c"}},
			onlineSet{alice: true}, domain.MessagePosted{Sender: bob}, carol},
		{"nobody who muted the group",
			[]domain.PushCommand{domain.EnablePush{User: alice, JID: app, Node: "a"}, domain.SetNotifyLevel{User: alice, Group: "g", Level: domain.NotifyNone}},
			nil, domain.MessagePosted{Sender: bob, Mentions: []string{alice}}, ""},
		{"under mentions only, the mentioned",
			[]domain.PushCommand{
				domain.EnablePush{User: alice, JID: app, Node: "a"}, domain.SetNotifyLevel{User: alice, Group: "g", Level: domain.NotifyMentions},
				domain.EnablePush{User: carol, JID: app, Node: "c"}, domain.SetNotifyLevel{User: carol, Group: "g", Level: domain.NotifyMentions},
			},
			nil, domain.MessagePosted{Sender: bob, Mentions: []string{carol}}, carol},
		{"a level of another group changes nothing",
			[]domain.PushCommand{domain.EnablePush{User: alice, JID: app, Node: "a"}, domain.SetNotifyLevel{User: alice, Group: "other", Level: domain.NotifyNone}},
			nil, domain.MessagePosted{Sender: bob}, alice},
		{"nobody for a correction, even one that mentions",
			[]domain.PushCommand{domain.EnablePush{User: alice, JID: app, Node: "a"}},
			nil, domain.MessagePosted{Sender: bob, Body: "fixed", Mentions: []string{alice}, Kind: domain.Correction}, ""},
		{"nobody for a reaction",
			[]domain.PushCommand{domain.EnablePush{User: alice, JID: app, Node: "a"}},
			nil, domain.MessagePosted{Sender: bob, Kind: domain.Reaction}, ""},
		{"nobody for a stored signal",
			[]domain.PushCommand{domain.EnablePush{User: alice, JID: app, Node: "a"}},
			nil, domain.MessagePosted{Sender: bob, Kind: domain.StoredSignal}, ""},
		{"nobody after disabling",
			[]domain.PushCommand{domain.EnablePush{User: alice, JID: app, Node: "a"}, domain.DisablePush{User: alice, JID: app}},
			nil, domain.MessagePosted{Sender: bob}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, _, _ := newTestNotifier(t, tc.online)
			for _, c := range tc.setup {
				must(t, n.Settings().Do(ctx, c))
			}
			n.Message("g", "g@groupchat.example.org/b", tc.msg, members)
			if got := strings.Join(queued(n), ","); got != tc.want {
				t.Errorf("woken %q, want %q", got, tc.want)
			}
		})
	}
}

// inRooms says who is in which group's room.
type inRooms map[string]string

func (r inRooms) Present(group, bare string) bool { return r[bare] == group }

// TestMessageSkipsMembersInTheRoom: a member chatting in the group's room
// sees its messages live; in another group's room it does not.
func TestMessageSkipsMembersInTheRoom(t *testing.T) {
	n, _, _ := newTestNotifier(t, nil)
	for _, u := range []string{alice, carol} {
		must(t, n.Settings().Do(context.Background(), domain.EnablePush{User: u, JID: app, Node: u}))
	}
	n.AttachRooms(inRooms{alice: "g", carol: "other"})
	n.Message("g", "g@groupchat.example.org/b", domain.MessagePosted{Sender: bob}, []domain.Member{{JID: alice}, {JID: bob}, {JID: carol}})
	if got := strings.Join(queued(n), ","); got != carol {
		t.Errorf("woken %q, want only carol, who is in another room", got)
	}
}

func TestMessageNeverBlocks(t *testing.T) {
	n, _, _ := newTestNotifier(t, nil)
	must(t, n.Settings().Do(context.Background(), domain.EnablePush{User: alice, JID: app, Node: "a"}))
	for i := 0; i < 10; i++ {
		n.Message("g", "g@s/b", domain.MessagePosted{Sender: bob}, []domain.Member{{JID: alice}})
	}
	if s := n.Stats(); s.Queued != 4 || s.Dropped != 6 {
		t.Errorf("queue of 4, 10 messages: queued %d, dropped %d; want 4 and 6", s.Queued, s.Dropped)
	}
}

func replyStanza(t *testing.T, from, id, typ string) protocol.Stanza {
	t.Helper()
	x := `<iq xmlns="jabber:component:accept" from="` + from + `" to="groupchat.example.org" id="` + id + `" type="` + typ + `">`
	if typ == "error" {
		x += `<error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`
	}
	node, err := xmlnode.Parse(x+`</iq>`, xmlnode.DefaultLimits())
	must(t, err)
	st, err := protocol.ParseStanza(node)
	must(t, err)
	return st
}

func TestFailuresDisableARegistration(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	n, out, store := newTestNotifier(t, nil)
	must(t, n.Settings().Do(ctx, domain.EnablePush{User: alice, JID: app, Node: "a", IncludeBody: true}))
	must(t, n.Settings().Do(ctx, domain.EnablePush{User: alice, JID: "other.example.org", Node: "x"}))
	batch := Batch{User: alice, Count: 2, LastSender: "g@s/b", LastBody: "hi"}

	// One publish per registration; the body only where opted in.
	n.publish(ctx, batch, t0)
	if len(out.out) != 2 {
		t.Fatalf("%d publishes for two registrations", len(out.out))
	}
	if first, second := out.out[0].String(), out.out[1].String(); !strings.Contains(first, "<value>hi</value>") || strings.Contains(second, "<value>hi</value>") {
		t.Fatalf("the body goes only to the registration that opted in:\n%s\n%s", first, second)
	}
	idOf := func(o protocol.Outbound) string {
		node, err := xmlnode.Parse(o.String(), xmlnode.Limits{})
		must(t, err)
		return node.Attr("id")
	}
	// An answer from another address is not the app server's.
	n.answer(ctx, reply{id: idOf(out.out[0]), from: "mallory.example.org", err: "item-not-found"})
	// The app server fails, and the other one never answers.
	n.Reply(replyStanza(t, app, idOf(out.out[0]), "error"))
	n.answer(ctx, <-n.replies)
	n.expire(ctx, t0.Add(10*time.Second))
	if regs := n.Settings().Registrations(alice); len(regs) != 2 {
		t.Fatalf("one failure each disables nothing yet: %+v", regs)
	}
	// A success between failures starts the count again.
	out.out = nil
	n.publish(ctx, batch, t0)
	n.Reply(replyStanza(t, app, idOf(out.out[0]), "result"))
	n.answer(ctx, <-n.replies)
	n.expire(ctx, t0.Add(10*time.Second))
	if regs := n.Settings().Registrations(alice); len(regs) != 1 || regs[0].JID != app {
		t.Fatalf("the never-answering registration is disabled after two timeouts, the other kept: %+v", regs)
	}
	out.out = nil
	n.publish(ctx, batch, t0)
	n.answer(ctx, reply{id: idOf(out.out[0]), from: app, err: "item-not-found"})
	out.out = nil
	n.publish(ctx, batch, t0)
	n.answer(ctx, reply{id: idOf(out.out[0]), from: app, err: "item-not-found"})
	if regs := n.Settings().Registrations(alice); len(regs) != 0 {
		t.Fatalf("two errors in a row disable the registration: %+v", regs)
	}
	want := Stats{Published: 4 + 2, Delivered: 1, Failed: 3, TimedOut: 2, Disabled: 2}
	if got := n.Stats(); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
	// The disabling is recorded in the user's stream.
	var types []string
	for _, e := range store.streams[domain.PushStream(alice)] {
		types = append(types, e.Type)
	}
	if got := strings.Join(types, ","); got != "PushEnabled,PushEnabled,PushDisabled,PushDisabled" {
		t.Errorf("stream holds %s", got)
	}
}

func TestOnlineMembersAreNotPublishedTo(t *testing.T) {
	ctx := context.Background()
	online := onlineSet{}
	n, out, _ := newTestNotifier(t, online)
	must(t, n.Settings().Do(ctx, domain.EnablePush{User: alice, JID: app, Node: "a"}))
	online[alice] = true
	n.publish(ctx, Batch{User: alice, Count: 1}, time.Now())
	if len(out.out) != 0 {
		t.Errorf("a member who came online before the batch fell due was published to: %s", out.out[0].String())
	}
}

type chanSender chan protocol.Outbound

func (c chanSender) Send(ctx context.Context, o protocol.Outbound) error {
	select {
	case c <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestRunCoalescesAndGivesUpOnSilence runs the notifier's goroutine with
// its real timers: a burst is one publish, and an app server that never
// answers gets its registration disabled after the reply timeout.
func TestRunCoalescesAndGivesUpOnSilence(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := NewNotifier(Config{Domain: "groupchat.example.org", Interval: 200 * time.Millisecond, MaxFailures: 1, ReplyTimeout: 50 * time.Millisecond, QueueSize: 16},
		NewSettings(&memStore{}, domain.DefaultPushLimits()), onlineSet{}, nil)
	out := make(chanSender, 16)
	n.Attach(out)
	must(t, n.Settings().Do(ctx, domain.EnablePush{User: alice, JID: app, Node: "a"}))
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()

	for i := 0; i < 3; i++ {
		n.Message("g", "g@groupchat.example.org/b", domain.MessagePosted{Sender: bob}, []domain.Member{{JID: alice}})
	}
	var o protocol.Outbound
	select {
	case o = <-out:
	case <-time.After(10 * time.Second):
		t.Fatal("no publish")
	}
	if !strings.Contains(o.String(), `<field var="message-count"><value>3</value></field>`) {
		t.Errorf("the burst of three is one publish counting 3: %s", o.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(n.Settings().Registrations(alice)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the silent app server's registration was not disabled; stats %+v", n.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s := n.Stats(); s.Published != 1 || s.TimedOut != 1 || s.Disabled != 1 {
		t.Errorf("stats = %+v, want 1 published, 1 timed out, 1 disabled", s)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
