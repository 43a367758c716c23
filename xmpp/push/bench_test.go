package push

import (
	"context"
	"fmt"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/presence"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// benchMembers is a group of the default largest size.
func benchMembers() []domain.Member {
	ms := make([]domain.Member, 1000)
	for i := range ms {
		ms[i] = domain.Member{JID: fmt.Sprintf("user%d@example.org", i), MID: fmt.Sprint(i)}
	}
	return ms
}

// BenchmarkFanOutLookups is the baseline: the presence lookups the
// broadcaster already does for every member of a 1,000-member group.
func BenchmarkFanOutLookups(b *testing.B) {
	members := benchMembers()
	online := presence.NewTracker()
	for _, m := range members[:500] {
		online.Join(m.JID)
		online.Online(address.MustParse(m.JID + "/phone"))
	}
	var to []string
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, m := range members {
			to = online.Resources(to[:0], m.JID)
		}
	}
}

// BenchmarkMessage is what offering one message of a 1,000-member group
// to the notifier costs the broadcaster, with half the members online.
func BenchmarkMessage(b *testing.B) {
	members := benchMembers()
	for _, registered := range []int{0, 100, 1000} {
		b.Run(fmt.Sprintf("registered=%d", registered), func(b *testing.B) {
			online := presence.NewTracker()
			for _, m := range members[:500] {
				online.Join(m.JID)
				online.Online(address.MustParse(m.JID + "/phone"))
			}
			n := NewNotifier(Config{QueueSize: 1 << 16}, NewSettings(&memStore{}, domain.DefaultPushLimits()), online, nil)
			for _, m := range members[len(members)-registered:] {
				if err := n.Settings().Do(context.Background(), domain.EnablePush{User: m.JID, JID: "push.example.org", Node: m.MID}); err != nil {
					b.Fatal(err)
				}
			}
			msg := domain.MessagePosted{Sender: members[0].JID, Body: "hello"}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n.Message("g", "g@groupchat.example.org/0", msg, members)
				queued(n)
			}
		})
	}
}

// BenchmarkPublishRender renders one notification.
func BenchmarkPublishRender(b *testing.B) {
	sum := protocol.Summary{MessageCount: 3, LastSender: "g@groupchat.example.org/bob", LastBody: "hello there"}
	for i := 0; i < b.N; i++ {
		_ = protocol.PushPublish("groupchat.example.org", "push-1", "node", sum, "")
	}
}
