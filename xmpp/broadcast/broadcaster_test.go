package broadcast_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/broadcast"
	"github.com/uuchat/groupchat/xmpp/presence"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// The cast of docs/PROTOCOL.md: alice owns the coven, bob is a member,
// carol is added later, dave is online but in no group.
const (
	service  = "groupchat.example.org"
	coven    = "coven"
	covenJID = "coven@groupchat.example.org"

	alicePhone  = "alice@example.org/phone"
	aliceDesk   = "alice@example.org/desk"
	bobPDA      = "bob@example.org/pda"
	carolTablet = "carol@example.org/tablet"
	daveLaptop  = "dave@example.org/laptop"

	nsCreate = "http://jabber.org/protocol/groupchat#creategroup"
	nsUpdate = "http://jabber.org/protocol/groupchat#updategroup"
	nsDelete = "http://jabber.org/protocol/groupchat#deletegroup"
	nsAdd    = "http://jabber.org/protocol/groupchat#addmember"
	nsRemove = "http://jabber.org/protocol/groupchat#removemember"
	nsSID    = "urn:xmpp:sid:0"
	nsRead   = "http://jabber.org/protocol/chatstates"
)

var (
	alice = domain.Member{JID: "alice@example.org", MID: "alice", Nick: "Alice", Role: domain.RoleOwner}
	bob   = domain.Member{JID: "bob@example.org", MID: "bob", Nick: "Bob", Role: domain.RoleMember}
	carol = domain.Member{JID: "carol@example.org", MID: "carol", Nick: "Carol", Role: domain.RoleMember}

	at      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	created = domain.GroupCreated{GroupID: coven, Name: "Witches", Type: domain.TypeCustomized,
		Members: []domain.Member{alice, bob}, By: alice.JID, At: at}
	carolAdded   = domain.MemberAdded{Members: []domain.Member{carol}, By: alice.JID, At: at}
	carolRemoved = domain.MemberRemoved{Members: []domain.Member{carol}, By: alice.JID, At: at}
	aliceSays    = domain.MessagePosted{ID: "hysf1v37", Sender: alice.JID, MID: "alice", Body: "Harpier cries: 'tis time, 'tis time.", At: at}
	carolSays    = domain.MessagePosted{Sender: carol.JID, MID: "carol", Body: "Anon.", At: at}
)

// stanza is what the tests check of a delivered stanza.
type stanza struct {
	Kind, From, To, ID string
	// NS is the namespace of the element that says what the stanza is: a
	// presence's <x/>, a receipt's <read/>, else a message's <stanza-id/>.
	NS string
	// Previous is the previous change a presence's <x/> names.
	Previous string
	// Props are a presence's properties by name; Items its items' jids.
	Props map[string]string
	Items []string
	Body  string
	// By and SID are the <stanza-id/>'s by and id; Ref is the <read/>'s id.
	By, SID, Ref string
}

// to is a copy of s for each recipient.
func (s stanza) to(fulls ...string) []stanza {
	var out []stanza
	for _, f := range fulls {
		c := s
		c.To = f
		out = append(out, c)
	}
	return out
}

type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []node     `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// parse reads a sent stanza as a client would.
func parse(t *testing.T, o protocol.Outbound) stanza {
	t.Helper()
	var n node
	if err := xml.Unmarshal([]byte(o.String()), &n); err != nil {
		t.Fatalf("%s: %v", o.String(), err)
	}
	s := stanza{Kind: n.XMLName.Local, From: n.attr("from"), To: n.attr("to"), ID: n.attr("id")}
	var walk func(n node)
	walk = func(n node) {
		for _, c := range n.Children {
			switch c.XMLName.Local {
			case "x":
				s.NS, s.Previous = c.XMLName.Space, c.attr("previous")
			case "read":
				s.NS, s.Ref = c.XMLName.Space, c.attr("id")
			case "stanza-id":
				if s.NS == "" {
					s.NS = c.XMLName.Space
				}
				s.By, s.SID = c.attr("by"), c.attr("id")
			case "property":
				if s.Props == nil {
					s.Props = map[string]string{}
				}
				s.Props[c.attr("name")] = c.Text
			case "item":
				s.Items = append(s.Items, c.attr("jid"))
			case "body":
				s.Body = c.Text
			}
			walk(c)
		}
	}
	walk(n)
	return s
}

// recorder is the link: it keeps what was sent, and what was replied,
// in order.
type recorder struct {
	sent    []protocol.Outbound
	replies []protocol.Outbound
}

func (r *recorder) Send(_ context.Context, o protocol.Outbound) error {
	r.sent = append(r.sent, o)
	return nil
}

func (r *recorder) reply(_ context.Context, o protocol.Outbound) { r.replies = append(r.replies, o) }

// pushed is what the pusher was offered: the group, the sender's occupant
// JID and the members' JIDs.
type pushed struct {
	Group, Occupant string
	Members         []string
}

type pusher struct{ got []pushed }

func (p *pusher) Message(group, occupant string, _ domain.MessagePosted, members []domain.Member) {
	var jids []string
	for _, m := range members {
		jids = append(jids, m.JID)
	}
	p.got = append(p.got, pushed{group, occupant, jids})
}

// history is the group's log: event i is at version i and position
// 100+i, so archive ids and versions differ.
type history []eventstore.RecordedEvent

func (h history) ReadStream(_ context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	for _, re := range h {
		if re.Stream == stream && re.Version >= from && len(out) < max {
			out = append(out, re)
		}
	}
	return out, nil
}

func record(t *testing.T, version uint64, e domain.Event, meta eventstore.Meta) eventstore.RecordedEvent {
	t.Helper()
	typ, data, err := domain.EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.RecordedEvent{Stream: coven, Version: version, Position: 100 + version,
		Type: typ, Data: data, Metadata: eventstore.EncodeMeta(meta)}
}

// world is a broadcaster that has already broadcast before, with everyone
// of the cast online.
type world struct {
	b      *broadcast.Broadcaster
	link   *recorder
	push   *pusher
	online *presence.Tracker
	log    history
}

func newWorld(t *testing.T, before []domain.Event, logger *slog.Logger) *world {
	t.Helper()
	return newWorldBounded(t, before, logger, 0)
}

// newWorldBounded is newWorld with a bound on the views kept in memory.
func newWorldBounded(t *testing.T, before []domain.Event, logger *slog.Logger, cacheBytes int) *world {
	t.Helper()
	w := &world{link: &recorder{}, push: &pusher{}, online: presence.NewTracker()}
	for _, full := range []string{alicePhone, aliceDesk, bobPDA, carolTablet, daveLaptop} {
		w.online.Online(address.MustParse(full))
	}
	for i, e := range before {
		w.log = append(w.log, record(t, uint64(i), e, eventstore.Meta{}))
	}
	w.b = broadcast.New(broadcast.Config{Addresses: protocol.Addresses{Domain: service}, Limits: domain.DefaultLimits(), Logger: logger, Changes: logOf{w}, CacheBytes: cacheBytes},
		w.online, logOf{w}, w.link.reply)
	w.b.Attach(w.link)
	w.b.AttachPush(w.push)
	// The online set knows who is a member of a group (the service asks
	// the read model); the broadcaster folds the group from its stream
	// when it first needs it.
	counts := map[string]int{}
	for _, e := range before {
		switch e := e.(type) {
		case domain.GroupCreated:
			for _, m := range e.Members {
				counts[m.JID]++
			}
		case domain.MemberAdded:
			for _, m := range e.Members {
				counts[m.JID]++
			}
		case domain.MemberRemoved:
			for _, m := range e.Members {
				counts[m.JID]--
			}
		}
	}
	for jid, n := range counts {
		for range n {
			w.online.Join(jid)
		}
	}
	return w
}

// logOf reads the world's log as it grows: the group's stream, and where
// its changes are, as the read model says.
type logOf struct{ w *world }

func (l logOf) ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	return l.w.log.ReadStream(ctx, stream, from, max)
}

func (l logOf) PreviousChange(_ context.Context, group string, position uint64) (uint64, error) {
	var last uint64
	for _, re := range l.w.log {
		if re.Stream != group || re.Position >= position {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return 0, err
		}
		if protocol.IsGroupChange(e) {
			last = re.Position
		}
	}
	return last, nil
}

// apply has the broadcaster broadcast the next event of the log.
func (w *world) apply(t *testing.T, e domain.Event, meta eventstore.Meta) {
	t.Helper()
	re := record(t, uint64(len(w.log)), e, meta)
	w.log = append(w.log, re)
	w.b.OnApplied(context.Background(), []eventstore.RecordedEvent{re})
}

// parseAll parses what was sent, in order of recipient: the order of
// resources is not the protocol's.
func parseAll(t *testing.T, os []protocol.Outbound) []stanza {
	var out []stanza
	for _, o := range os {
		out = append(out, parse(t, o))
	}
	return byRecipient(out)
}

func byRecipient(ss []stanza) []stanza {
	ss = slices.Clone(ss)
	slices.SortStableFunc(ss, func(a, b stanza) int { return strings.Compare(a.To, b.To) })
	return ss
}

// TestWhoReceivesWhat follows docs/PROTOCOL.md sections 5 and 6: which
// resources receive each event's broadcast, and how it reads: group changes
// with their archive id and the group's previous change (the log's events
// are at positions 100, 101, ...).
func TestWhoReceivesWhat(t *testing.T) {
	var (
		everyone   = []string{alicePhone, aliceDesk, bobPDA}
		withCarol  = []string{alicePhone, aliceDesk, bobPDA, carolTablet}
		requester  = eventstore.Meta{From: alicePhone, ID: "ren1"}
		renamed    = domain.GroupUpdated{Name: "The Coven", By: alice.JID, At: at}
		handedOver = domain.GroupUpdated{NewOwner: bob.JID, By: alice.JID, At: at}
		bobReads   = domain.MessageRead{Reader: bob.JID, MID: "bob", Message: &domain.MessageRef{ID: aliceSays.ID, Version: 1, Sender: alice.JID}, Upto: 1, At: at}
	)
	for _, tc := range []struct {
		name    string
		before  []domain.Event
		event   domain.Event
		meta    eventstore.Meta
		want    []stanza // through the link, in order
		replies []stanza // through the service's reply
		pushed  []pushed
	}{
		{
			name:  "create: every member, with the name and the id",
			event: created, meta: eventstore.Meta{From: alicePhone},
			want: stanza{Kind: "presence", From: covenJID, NS: nsCreate, By: covenJID, SID: "100",
				Props: map[string]string{"name": "Witches", "id": coven}}.to(everyone...),
		},
		{
			name:   "update with a requester: the requester first, with the id and its request's id, then every member",
			before: []domain.Event{created},
			event:  renamed, meta: requester,
			replies: stanza{Kind: "presence", From: covenJID, ID: "ren1", NS: nsUpdate, Previous: "100", By: covenJID, SID: "101",
				Props: map[string]string{"name": "The Coven", "id": coven}}.to(alicePhone),
			want: stanza{Kind: "presence", From: covenJID, NS: nsUpdate, Previous: "100", By: covenJID, SID: "101",
				Props: map[string]string{"name": "The Coven"}}.to(everyone...),
		},
		{
			name:   "update without a requester: every member only",
			before: []domain.Event{created},
			event:  handedOver,
			want: stanza{Kind: "presence", From: covenJID, NS: nsUpdate, Previous: "100", By: covenJID, SID: "101",
				Props: map[string]string{"owner": bob.JID}}.to(everyone...),
		},
		{
			name:   "delete: every member the group had",
			before: []domain.Event{created, carolAdded},
			event:  domain.GroupDeleted{Members: []domain.Member{alice, bob, carol}, By: alice.JID, At: at},
			want:   stanza{Kind: "presence", From: covenJID, NS: nsDelete, Previous: "101", By: covenJID, SID: "102"}.to(withCarol...),
		},
		{
			name:   "add: every member after the addition, the new one included",
			before: []domain.Event{created},
			event:  carolAdded,
			want: stanza{Kind: "presence", From: covenJID, NS: nsAdd, Previous: "100", By: covenJID, SID: "101",
				Items: []string{carol.JID}}.to(withCarol...),
		},
		{
			name:   "a change after messages and receipts: names the group's last change, not them",
			before: []domain.Event{created, aliceSays, bobReads},
			event:  carolAdded,
			want: stanza{Kind: "presence", From: covenJID, NS: nsAdd, Previous: "100", By: covenJID, SID: "103",
				Items: []string{carol.JID}}.to(withCarol...),
		},
		{
			name:   "remove: every member before the removal, the removed one included",
			before: []domain.Event{created, carolAdded},
			event:  carolRemoved,
			want: stanza{Kind: "presence", From: covenJID, NS: nsRemove, Previous: "101", By: covenJID, SID: "102",
				Items: []string{carol.JID}}.to(withCarol...),
		},
		{
			name:   "message: every member, the sender included, from the sender's occupant JID",
			before: []domain.Event{created},
			event:  aliceSays,
			want: stanza{Kind: "message", From: covenJID + "/alice", ID: aliceSays.ID, Body: aliceSays.Body,
				NS: nsSID, By: covenJID, SID: "101"}.to(everyone...),
			pushed: []pushed{{coven, covenJID + "/alice", []string{alice.JID, bob.JID}}},
		},
		{
			name:   "message after a removal: not to the removed member",
			before: []domain.Event{created, carolAdded, carolRemoved},
			event:  aliceSays,
			want: stanza{Kind: "message", From: covenJID + "/alice", ID: aliceSays.ID, Body: aliceSays.Body,
				NS: nsSID, By: covenJID, SID: "103"}.to(everyone...),
			pushed: []pushed{{coven, covenJID + "/alice", []string{alice.JID, bob.JID}}},
		},
		{
			name:   "read receipt: to the message's sender only, from the reader's occupant JID, by the sender's id",
			before: []domain.Event{created, aliceSays},
			event:  bobReads,
			replies: stanza{Kind: "message", From: covenJID + "/bob", NS: nsRead,
				Ref: aliceSays.ID}.to(alicePhone, aliceDesk),
		},
		{
			name:   "read receipt of a message sent without id: by its archive id",
			before: []domain.Event{created, carolAdded, carolSays},
			event:  domain.MessageRead{Reader: bob.JID, MID: "bob", Message: &domain.MessageRef{Version: 2, Sender: carol.JID}, Upto: 2, At: at},
			replies: stanza{Kind: "message", From: covenJID + "/bob", NS: nsRead,
				Ref: "102"}.to(carolTablet),
		},
		{
			name:   "reading one's own message: nobody",
			before: []domain.Event{created, aliceSays},
			event:  domain.MessageRead{Reader: alice.JID, MID: "alice", Message: &domain.MessageRef{ID: aliceSays.ID, Version: 1, Sender: alice.JID}, Upto: 1, At: at},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.before, nil)
			w.apply(t, tc.event, tc.meta)
			if got := parseAll(t, w.link.sent); !reflect.DeepEqual(got, byRecipient(tc.want)) {
				t.Errorf("sent:\n got %+v\nwant %+v", got, tc.want)
			}
			if got := parseAll(t, w.link.replies); !reflect.DeepEqual(got, byRecipient(tc.replies)) {
				t.Errorf("replied:\n got %+v\nwant %+v", got, tc.replies)
			}
			if !reflect.DeepEqual(w.push.got, tc.pushed) {
				t.Errorf("pushed:\n got %+v\nwant %+v", w.push.got, tc.pushed)
			}
		})
	}
}

// TestRenderIsWhatMembersReceived: history replays an event with Render
// and the previous change the projections name; it must read as the
// broadcast did.
func TestRenderIsWhatMembersReceived(t *testing.T) {
	w := newWorld(t, []domain.Event{created}, nil)
	for _, tc := range []struct {
		event    domain.Event
		kind     string
		previous uint64
	}{
		{aliceSays, "message", 0},
		{carolAdded, "presence", 100},
		{carolSays, "message", 0},
		{carolRemoved, "presence", 102},
	} {
		w.apply(t, tc.event, eventstore.Meta{})
		re := w.log[len(w.log)-1]
		o, kind := w.b.Render(context.Background(), re, tc.event, tc.previous)
		if kind != tc.kind {
			t.Fatalf("%T: kind = %q, want %q", tc.event, kind, tc.kind)
		}
		if got, want := o.For(bobPDA).String(), w.link.sent[len(w.link.sent)-1].For(bobPDA).String(); got != want {
			t.Fatalf("rendered\n%s\nbroadcast\n%s", got, want)
		}
	}
}

// TestChainContinuesAfterARestart: a broadcaster that loaded the events up
// to the projections' checkpoint names the same previous changes as one
// that broadcast them all, wherever the checkpoint was.
func TestChainContinuesAfterARestart(t *testing.T) {
	renamed := domain.GroupUpdated{Name: "The Coven", By: alice.JID, At: at}
	events := []domain.Event{created, aliceSays, carolAdded, carolSays, renamed, aliceSays}
	requester := eventstore.Meta{From: alicePhone, ID: "ren1"}
	sent := func(w *world) []string {
		var out []string
		for _, o := range append(w.link.replies, w.link.sent...) {
			out = append(out, o.String())
		}
		return out
	}
	var want []string
	for checkpoint := 0; checkpoint <= 4; checkpoint++ {
		w := newWorld(t, events[:checkpoint], nil)
		for _, e := range events[checkpoint:] {
			meta := eventstore.Meta{}
			if e == domain.Event(renamed) {
				meta = requester
				w.link.sent, w.link.replies = nil, nil
			}
			w.apply(t, e, meta)
		}
		// What the rename and the message after it sent.
		got := sent(w)
		if checkpoint == 0 {
			want = got
			rename := parse(t, w.link.replies[0])
			if rename.Previous != "102" || rename.SID != "104" {
				t.Fatalf("the rename names previous %q with id %q, want 102 and 104", rename.Previous, rename.SID)
			}
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("restarted after %d events:\n got %q\nwant %q", checkpoint, got, want)
		}
	}
}

// refusing is a link whose edge refuses one recipient.
type refusing struct {
	recorder
	refuse string
}

func (r *refusing) Send(ctx context.Context, o protocol.Outbound) error {
	if o.To == r.refuse {
		return errors.New("refused at the edge")
	}
	return r.recorder.Send(ctx, o)
}

// TestFanOutSkipsARefusedRecipient: a copy the link refuses is logged and
// the others still go out.
func TestFanOutSkipsARefusedRecipient(t *testing.T) {
	var logged bytes.Buffer
	w := newWorld(t, []domain.Event{created}, slog.New(slog.NewTextHandler(&logged, nil)))
	link := &refusing{refuse: aliceDesk}
	w.b.Attach(link)
	composing := `<composing xmlns="http://jabber.org/protocol/chatstates"/>`
	w.b.FanOut(context.Background(), "coven", protocol.TransientMessage(covenJID+"/bob", "t1", composing), []domain.Member{alice, bob})
	want := stanza{Kind: "message", From: covenJID + "/bob", ID: "t1"}.to(alicePhone, bobPDA)
	if got := parseAll(t, link.sent); !reflect.DeepEqual(got, byRecipient(want)) {
		t.Fatalf("delivered:\n got %+v\nwant %+v", got, want)
	}
	if !strings.Contains(logged.String(), broadcast.LogDroppedBroadcast) || !strings.Contains(logged.String(), aliceDesk) {
		t.Fatalf("the refused copy was not logged: %q", logged.String())
	}
}

// TestViewsFoldedAgainBroadcastTheSame: a broadcaster that keeps one
// group's view in memory, folding the others from their streams (and
// asking the read model for their last change) as groups take turns,
// sends exactly what one that keeps every view sends.
func TestViewsFoldedAgainBroadcastTheSame(t *testing.T) {
	moot := domain.GroupCreated{GroupID: "moot", Name: "Moot", Type: domain.TypeCustomized,
		Members: []domain.Member{bob, carol}, By: bob.JID, At: at}
	bobSays := domain.MessagePosted{ID: "b1", Sender: bob.JID, MID: "bob", Body: "Aye.", At: at}
	renamed := domain.GroupUpdated{Name: "The Coven", By: alice.JID, At: at}
	steps := []struct {
		stream string
		e      domain.Event
	}{
		{coven, created}, {"moot", moot}, {coven, aliceSays}, {"moot", bobSays}, {coven, carolAdded},
		{"moot", carolRemoved}, {coven, carolSays}, {"moot", bobSays}, {coven, renamed}, {coven, carolRemoved}, {"moot", bobSays},
	}
	run := func(cacheBytes int) []string {
		w := newWorldBounded(t, nil, nil, cacheBytes)
		versions := map[string]uint64{}
		for i, st := range steps {
			typ, data, err := domain.EncodeEvent(st.e)
			if err != nil {
				t.Fatal(err)
			}
			re := eventstore.RecordedEvent{Stream: st.stream, Version: versions[st.stream], Position: uint64(100 + i),
				Type: typ, Data: data, Metadata: eventstore.EncodeMeta(eventstore.Meta{From: alicePhone, ID: "r" + string(rune('a'+i))})}
			versions[st.stream]++
			w.log = append(w.log, re)
			w.b.OnApplied(context.Background(), []eventstore.RecordedEvent{re})
		}
		var out []string
		for _, o := range append(w.link.sent, w.link.replies...) {
			out = append(out, o.String())
		}
		return out
	}
	all, one := run(0), run(1)
	if len(all) < len(steps) {
		t.Fatalf("only %d stanzas sent for %d events", len(all), len(steps))
	}
	if !slices.Equal(all, one) {
		t.Errorf("keeping one view:\n got %q\nwant %q", one, all)
	}
}
