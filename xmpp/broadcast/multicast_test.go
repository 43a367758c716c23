package broadcast_test

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/broadcast"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

const mcService = "multicast.example.org"

// TestBatches: ceil(n/limit) batches in order, addresses the edge would
// refuse on their own.
func TestBatches(t *testing.T) {
	a, b, c, d, e := "a@example.org/1", "b@example.org/1", "c@example.org/1", "d@example.org/1", "e@example.org/1"
	bad := "Bad@example.org/1" // not in its prepared form
	tests := []struct {
		name    string
		to      []string
		limit   int
		single  []string
		batches [][]string
	}{
		{"none", nil, 20, nil, nil},
		{"one", []string{a}, 20, nil, [][]string{{a}}},
		{"under the limit", []string{a, b, c}, 20, nil, [][]string{{a, b, c}}},
		{"exactly the limit", []string{a, b, c, d}, 4, nil, [][]string{{a, b, c, d}}},
		{"one over", []string{a, b, c, d, e}, 4, nil, [][]string{{a, b, c, d}, {e}}},
		{"limit two", []string{a, b, c, d, e}, 2, nil, [][]string{{a, b}, {c, d}, {e}}},
		{"limit one", []string{a, b}, 1, nil, [][]string{{a}, {b}}},
		{"limit zero counts as one", []string{a, b}, 0, nil, [][]string{{a}, {b}}},
		{"an unprepared address alone", []string{a, bad, b}, 20, []string{bad}, [][]string{{a, b}}},
		{"an empty address alone", []string{"", a}, 20, []string{""}, [][]string{{a}}},
		{"only bad ones", []string{bad}, 20, []string{bad}, nil},
	}
	for _, tt := range tests {
		single, batches := broadcast.Batches(tt.to, tt.limit)
		if !slices.Equal(single, tt.single) || !reflect.DeepEqual(batches, tt.batches) {
			t.Errorf("%s: Batches = %q, %q; want %q, %q", tt.name, single, batches, tt.single, tt.batches)
		}
		for _, bt := range batches {
			if len(bt) > max(tt.limit, 1) {
				t.Errorf("%s: a batch of %d over the limit %d", tt.name, len(bt), tt.limit)
			}
		}
	}
}

type fixedService struct {
	jid   string
	limit int
}

func (f fixedService) Service() (string, int) { return f.jid, f.limit }

// edge records what passes the edge's check, as the link does.
type edge struct {
	recorder
	refuseTo string
}

func (e *edge) Send(ctx context.Context, o protocol.Outbound) error {
	if err := protocol.CheckOutbound(o, service, 0); err != nil {
		return err
	}
	if o.To == e.refuseTo {
		return protocol.ErrOutboundTooLarge
	}
	return e.recorder.Send(ctx, o)
}

// TestFanOutThroughMulticast: with a multicast service, a message to
// three online resources with a limit of two goes as two stanzas to the
// service carrying the resources as bcc addresses; without one (or when
// the service's stanza is refused), one stanza per resource.
func TestFanOutThroughMulticast(t *testing.T) {
	msg := protocol.GroupMessage(covenJID+"/alice", covenJID, aliceSays, "9")
	t.Run("service", func(t *testing.T) {
		var logged bytes.Buffer
		w := newWorld(t, []domain.Event{created}, slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})))
		link := &edge{}
		w.b.Attach(link)
		w.b.AttachMulticast(fixedService{mcService, 2})
		w.b.FanOut(context.Background(), coven, msg, []domain.Member{alice, bob})
		if len(link.sent) != 2 {
			t.Fatalf("%d stanzas sent, want 2: %v", len(link.sent), link.sent)
		}
		var got []string
		for _, o := range link.sent {
			s := o.String()
			if o.To != mcService || !strings.HasPrefix(s, `<message from="`+covenJID+`/alice" id="hysf1v37" type="groupchat" to="`+mcService+`">`) ||
				!strings.Contains(s, `<addresses xmlns="http://jabber.org/protocol/address">`) || !strings.Contains(s, `<body>`) {
				t.Errorf("multicast stanza %s", s)
			}
			if strings.Count(s, `type="bcc"`) != len(o.Bcc) || strings.Contains(s, `type="to"`) || strings.Contains(s, `type="cc"`) {
				t.Errorf("not bcc only: %s", s)
			}
			got = append(got, o.Bcc...)
		}
		slices.Sort(got)
		if want := []string{aliceDesk, alicePhone, bobPDA}; !slices.Equal(got, want) {
			t.Errorf("addresses %v, want %v", got, want)
		}
		if n := strings.Count(logged.String(), broadcast.LogMulticast); n != 2 {
			t.Errorf("%d multicast stanzas logged, want 2:\n%s", n, logged.String())
		}
	})
	t.Run("none found", func(t *testing.T) {
		w := newWorld(t, []domain.Event{created}, nil)
		link := &edge{}
		w.b.Attach(link)
		w.b.AttachMulticast(fixedService{})
		w.b.FanOut(context.Background(), coven, msg, []domain.Member{alice, bob})
		want := []string{aliceDesk, alicePhone, bobPDA}
		var got []string
		for _, o := range link.sent {
			if len(o.Bcc) > 0 {
				t.Errorf("multicast without a service: %s", o)
			}
			got = append(got, o.To)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("sent to %v, want %v", got, want)
		}
	})
	t.Run("refused", func(t *testing.T) {
		w := newWorld(t, []domain.Event{created}, nil)
		link := &edge{refuseTo: mcService}
		w.b.Attach(link)
		w.b.AttachMulticast(fixedService{mcService, 20})
		w.b.FanOut(context.Background(), coven, msg, []domain.Member{alice, bob})
		var got []string
		for _, o := range link.sent {
			got = append(got, o.To)
		}
		slices.Sort(got)
		if want := []string{aliceDesk, alicePhone, bobPDA}; !slices.Equal(got, want) {
			t.Errorf("after a refused multicast, sent to %v, want %v", got, want)
		}
	})
	t.Run("group changes too", func(t *testing.T) {
		// A change and the messages after it take one path, so that
		// every resource gets them in the order they were made.
		w := newWorld(t, []domain.Event{created}, nil)
		link := &edge{}
		w.b.Attach(link)
		w.b.AttachMulticast(fixedService{mcService, 20})
		w.apply(t, carolAdded, eventstore.Meta{})
		w.apply(t, carolSays, eventstore.Meta{})
		if len(link.sent) != 2 {
			t.Fatalf("%d stanzas sent, want the change and the message, each once through the service: %v", len(link.sent), link.sent)
		}
		for i, kind := range []string{"presence", "message"} {
			o := link.sent[i]
			if o.To != mcService || !strings.HasPrefix(o.String(), "<"+kind+" ") {
				t.Errorf("stanza %d: %s, want a %s to %s", i, o, kind, mcService)
			}
			got := slices.Sorted(slices.Values(o.Bcc))
			if want := []string{aliceDesk, alicePhone, bobPDA, carolTablet}; !slices.Equal(got, want) {
				t.Errorf("the %s went to %v, want %v", kind, got, want)
			}
		}
	})
}
