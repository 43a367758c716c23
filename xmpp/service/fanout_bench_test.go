package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/presence"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/service"
)

// discard is a Sender that only counts the stanzas and their bytes.
type discard struct{ stanzas, bytes atomic.Int64 }

func (d *discard) Send(_ context.Context, o protocol.Outbound) error {
	d.stanzas.Add(1)
	d.bytes.Add(int64(len(o.Head) + len(o.To) + len(o.Tail)))
	return nil
}

// BenchmarkBroadcastMessage is the component's work for one group message
// after it is committed: decoding the stored event, rendering the stanza
// once, and handing one copy per online member to the link (the link's own
// cost is BenchmarkSend in xmpp/link). One op is one message to a group of
// 200 members, each online with one resource: 200 stanzas.
func BenchmarkBroadcastMessage(b *testing.B) {
	const members = 200
	const group = "coven"
	online := presence.NewTracker()
	svc := service.New(service.Config{Domain: benchDomain, Limits: domain.DefaultLimits()},
		nil, nil, online, slog.New(slog.DiscardHandler))
	out := &discard{}
	svc.Attach(out)

	created := domain.GroupCreated{GroupID: group, Name: "Coven", Type: domain.TypeCustomized, At: time.Now()}
	for i := 0; i < members; i++ {
		bare := fmt.Sprintf("user%03d@example.test", i)
		role := domain.RoleMember
		if i == 0 {
			role = domain.RoleOwner
		}
		created.Members = append(created.Members, domain.Member{JID: bare, MID: fmt.Sprintf("user%03d", i), Nick: bare, Role: role})
		online.Online(address.MustParse(bare + "/phone"))
	}
	created.By = created.Members[0].JID
	record := func(version uint64, e domain.Event) eventstore.RecordedEvent {
		typ, data, err := domain.EncodeEvent(e)
		if err != nil {
			b.Fatal(err)
		}
		return eventstore.RecordedEvent{Stream: group, Version: version, Position: version + 1, Type: typ, Data: data,
			Metadata: []byte(`{"from":"user001@example.test/phone","id":"hysf1v37"}`)}
	}
	ctx := context.Background()
	svc.OnApplied(ctx, []eventstore.RecordedEvent{record(0, created)})

	msg := []eventstore.RecordedEvent{record(1, domain.MessagePosted{ID: "hysf1v37", Sender: "user001@example.test", MID: "user001",
		Body: "Shall we meet at noon tomorrow, by the station? I will bring the tickets.", At: time.Now()})}
	out.stanzas.Store(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		svc.OnApplied(ctx, msg)
	}
	b.StopTimer()
	if got, want := out.stanzas.Load(), int64(b.N)*members; got != want {
		b.Fatalf("sent %d stanzas, want %d", got, want)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(out.stanzas.Load()), "ns/stanza")
}
