package protocol_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// TestCheckOutbound: what Prosody's component session and router refuse
// (mod_component: a from outside the component's host closes the stream;
// stanza_router: addresses that do not prepare), and the size limit.
func TestCheckOutbound(t *testing.T) {
	m := domain.MessagePosted{ID: "m1", Body: "hello"}
	msg := func(from, to string) protocol.Outbound {
		return protocol.GroupMessage(from, "g@"+service, m, "7").For(to)
	}
	tests := []struct {
		name string
		o    protocol.Outbound
		max  int
		want error
	}{
		{"an occupant to a full JID", msg("g@"+service+"/hag", hagPDA), 0, nil},
		{"the service itself", protocol.GroupPresence(service, protocol.NSCreate, protocol.Change{}, nil, nil).For(hagPDA), 0, nil},
		{"a symbol in the local part", msg("\u2603@"+service+"/hag", hagPDA), 0, nil},
		{"an emoji resource", msg("g@"+service+"/\U0001f642", hagPDA), 0, nil},
		{"under the limit", msg("g@"+service+"/hag", hagPDA), 4096, nil},
		{"empty from", msg("", hagPDA), 0, protocol.ErrOutboundFrom},
		{"from the user's server", msg("shakespeare.lit", hagPDA), 0, protocol.ErrOutboundFrom},
		{"from a subdomain of the service", msg("g@x."+service, hagPDA), 0, protocol.ErrOutboundFrom},
		{"from with a trailing dot", msg("g@"+service+".", hagPDA), 0, protocol.ErrOutboundFrom},
		{"unprepared local part", msg("G@"+service, hagPDA), 0, protocol.ErrOutboundFrom},
		{"zero-width resource", msg("g@"+service+"/\u200b", hagPDA), 0, protocol.ErrOutboundFrom},
		{"compatibility form in the resource", msg("g@"+service+"/\uff41", hagPDA), 0, protocol.ErrOutboundFrom},
		{"control character in the resource", msg("g@"+service+"/a\u0007", hagPDA), 0, protocol.ErrOutboundFrom},
		{"empty to", msg("g@"+service+"/hag", ""), 0, protocol.ErrOutboundTo},
		{"unprepared to", msg("g@"+service+"/hag", "Hag66@shakespeare.lit/pda"), 0, protocol.ErrOutboundTo},
		{"a part of 1,024 bytes", msg("g@"+service+"/"+strings.Repeat("a", 1024), hagPDA), 0, protocol.ErrOutboundFrom},
		{"over the limit", msg("g@"+service+"/hag", hagPDA), 100, protocol.ErrOutboundTooLarge},
	}
	for _, tt := range tests {
		err := protocol.CheckOutbound(tt.o, service, tt.max)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: CheckOutbound = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestTooLargeReply: an IQ result that cannot be sent becomes an error to
// the same requester with the same id, from the same address; other
// stanzas do not.
func TestTooLargeReply(t *testing.T) {
	st, _, err := parseRequest(`<iq from="` + hagPDA + `" to="` + groupJID + `" type="get" id="big1"><query xmlns="` + protocol.NSMembers + `"/></iq>`)
	if err != nil {
		t.Fatal(err)
	}
	res := protocol.IQResult(st, []byte(strings.Repeat("<x/>", 100)))
	e, ok := protocol.TooLargeReply(res, 200)
	if !ok {
		t.Fatal("an IQ result was not turned into an error")
	}
	n, err := parseNode(e.String())
	if err != nil {
		t.Fatal(err)
	}
	if n.Attr("type") != "error" || n.Attr("id") != "big1" || n.Attr("to") != hagPDA || n.Attr("from") != groupJID {
		t.Fatalf("error envelope: %s", e)
	}
	if c := n.Child("", "error").Child(protocol.NSStanzas, "policy-violation"); c == nil {
		t.Fatalf("want policy-violation: %s", e)
	}
	if _, ok := protocol.TooLargeReply(protocol.GroupPresence(groupJID, protocol.NSCreate, protocol.Change{}, nil, nil).For(hagPDA), 10); ok {
		t.Fatal("a presence was turned into an IQ error")
	}
}

func BenchmarkCheckOutbound(b *testing.B) {
	m := domain.MessagePosted{ID: "hysf1v37", Body: "Shall we meet at noon tomorrow, by the station? I will bring the tickets."}
	o := protocol.GroupMessage("coven@"+service+"/alice", "coven@"+service, m, "123456").For("bob@example.test/phone")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := protocol.CheckOutbound(o, service, 458752); err != nil {
			b.Fatal(err)
		}
	}
}
