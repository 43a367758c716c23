package service_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/presence"
	"github.com/uuchat/groupchat/xmpp/service"
)

// TestMessagesAreBroadcastWithoutANotifier: a service given no push
// notifier (a nil one) still broadcasts messages, and pushes nothing.
func TestMessagesAreBroadcastWithoutANotifier(t *testing.T) {
	online := presence.NewTracker()
	online.Online(address.MustParse("bob@example.test/pda"))
	svc := service.New(service.Config{Domain: "groupchat.example.test", Limits: domain.DefaultLimits()},
		nil, nil, online, slog.New(slog.DiscardHandler))
	svc.AttachPush(nil)
	out := &discard{}
	svc.Attach(out)

	alice := domain.Member{JID: "alice@example.test", MID: "alice", Role: domain.RoleOwner}
	bob := domain.Member{JID: "bob@example.test", MID: "bob", Role: domain.RoleMember}
	var events []eventstore.RecordedEvent
	for i, e := range []domain.Event{
		domain.GroupCreated{GroupID: "coven", Name: "Coven", Type: domain.TypeCustomized, Members: []domain.Member{alice, bob}, By: alice.JID, At: time.Now()},
		domain.MessagePosted{ID: "m1", Sender: alice.JID, MID: "alice", Body: "Hail.", At: time.Now()},
	} {
		typ, data, err := domain.EncodeEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, eventstore.RecordedEvent{Stream: "coven", Version: uint64(i), Position: uint64(i + 1), Type: typ, Data: data})
	}
	svc.OnApplied(context.Background(), events)
	if got := out.stanzas.Load(); got != 2 {
		t.Fatalf("bob's resource got %d stanzas, want the creation and the message", got)
	}
}
