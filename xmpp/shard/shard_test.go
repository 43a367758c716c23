package shard_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/muc"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/shard"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

const domainJID = "groupchat.example.org"

// answers records what the shard answers requesters.
type answers struct {
	mu  sync.Mutex
	got []string
}

func (a *answers) reply(_ context.Context, o protocol.Outbound) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, o.String())
}

func (a *answers) all() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.got...)
}

// noReads is a read model that is always caught up and knows no message.
type noReads struct{}

func (noReads) WaitFor(context.Context, uint64) error { return nil }
func (noReads) MessageByID(context.Context, string, string, string) (domain.MessageRef, bool, error) {
	return domain.MessageRef{}, false, nil
}
func (noReads) MessageByPosition(context.Context, string, uint64) (domain.MessageRef, bool, error) {
	return domain.MessageRef{}, false, nil
}
func (noReads) MessageResent(context.Context, string, string, string) (domain.MessageRef, bool, error) {
	return domain.MessageRef{}, false, nil
}
func (noReads) HoldsMessage(context.Context, string, uint64) (bool, error) { return true, nil }

type nobody struct{}

func (nobody) FanOut(context.Context, string, protocol.Outbound, []domain.Member) {}
func (nobody) Stored(context.Context, string, uint64) (protocol.Outbound, error) {
	return protocol.Outbound{}, protocol.ErrNotExists.With("")
}
func (nobody) Group(*domain.Group, protocol.Stanza, protocol.Request) ([]byte, error) {
	return nil, nil
}
func (nobody) RoomHistory(context.Context, string, string, protocol.RoomHistory, time.Time) ([]protocol.Outbound, error) {
	return nil, nil
}
func (nobody) Offline(address.JID) {}

func request(t *testing.T, xml string) (protocol.Stanza, protocol.Request) {
	t.Helper()
	n, err := xmlnode.Parse(xml, xmlnode.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	st, err := protocol.ParseStanza(n)
	if err != nil {
		t.Fatal(err)
	}
	req, err := protocol.Parse(st)
	if err != nil {
		t.Fatal(err)
	}
	return st, req
}

func streamTypes(t *testing.T, store eventstore.Store, stream string) string {
	t.Helper()
	evs, err := store.ReadStream(context.Background(), stream, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	return strings.Join(types, " ")
}

// TestShardDecidesInOrder: requests about several groups are decided in
// arrival order and appended together; a refusal is answered at once and
// stores nothing; a group another writer changed meanwhile is decided
// again on the stored state.
func TestShardDecidesInOrder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var out answers
	queries := make(chan func(context.Context), 8)
	sh := shard.New(&shard.Deps{
		Store: store, Reads: noReads{}, Limits: domain.DefaultLimits(), Now: time.Now,
		Addr: protocol.Addresses{Domain: domainJID}, Log: slog.New(slog.DiscardHandler), Reply: out.reply,
		Broadcaster: nobody{}, Directory: nobody{}, History: nobody{}, Rooms: muc.NewRooms(0), Online: nobody{},
		CatchUp: func(context.Context) error { return nil }, Queries: queries,
	})
	go sh.Run(ctx)

	create := func(group string) string {
		return `<presence from="alice@example.org/pda" to="` + group + `@` + domainJID + `"><x xmlns="http://jabber.org/protocol/groupchat#creategroup"/>` +
			`<properties><property name="name">` + group + `</property></properties></presence>`
	}
	post := func(from, group, id string) string {
		return `<message from="` + from + `" id="` + id + `" to="` + group + `@` + domainJID + `" type="groupchat"><body>` + id + `</body></message>`
	}
	for _, x := range []string{create("a"), create("b"), post("alice@example.org/pda", "a", "a1"), post("alice@example.org/pda", "b", "b1"),
		post("eve@example.org/x", "a", "e1")} {
		st, req := request(t, x)
		sh.Enqueue(ctx, st, req)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(out.all()) == 0 || streamTypes(t, store, "b") != "GroupCreated MessagePosted" {
		if time.Now().After(deadline) {
			t.Fatalf("the shard did not decide: answers %q, stream b %q", out.all(), streamTypes(t, store, "b"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := streamTypes(t, store, "a"); got != "GroupCreated MessagePosted" {
		t.Errorf("stream a holds %s", got)
	}
	if got := out.all(); len(got) != 1 || !strings.Contains(got[0], `id="e1"`) || !strings.Contains(got[0], "forbidden") {
		t.Errorf("eve, not a member, is refused and only she is answered: %q", got)
	}

	// Another writer posts to a; the shard's next post is decided again
	// on what is stored, and lands after it.
	typ, data, err := domain.EncodeEvent(domain.MessagePosted{ID: "x1", Sender: "alice@example.org", MID: "alice", Body: "elsewhere", At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "a", eventstore.Exact(1), eventstore.EventData{ID: "other-writer-1", Type: typ, Data: data}); err != nil {
		t.Fatal(err)
	}
	st, req := request(t, post("alice@example.org/pda", "a", "a2"))
	sh.Enqueue(ctx, st, req)
	for streamTypes(t, store, "a") != "GroupCreated MessagePosted MessagePosted MessagePosted" {
		if time.Now().After(deadline) {
			t.Fatalf("the post after another writer's is not stored: %s (answers %q)", streamTypes(t, store, "a"), out.all())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := out.all(); len(got) != 1 {
		t.Errorf("a conflict decided again is answered by its broadcast, not by an error: %q", got)
	}
}
