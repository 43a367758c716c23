package protocol_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

const mcService = "multicast.shakespeare.lit"

// TestMulticastStanza: the stanza to the multicast service is the
// broadcast's stanza addressed to the service, with the original content
// and, last, one <addresses/> holding a bcc address per recipient
// (XEP-0033 §4, §4.6.3); Size is its written length.
func TestMulticastStanza(t *testing.T) {
	o := protocol.GroupMessage("g@"+service+"/hag", "g@"+service, domain.MessagePosted{ID: "m1", Body: "a < b"}, "7")
	m, ok := o.Multicast(mcService, []string{hagPDA, "witch@shakespeare.lit/c&d"})
	if !ok {
		t.Fatal("a message cannot be multicast")
	}
	want := `<message from="g@` + service + `/hag" id="m1" type="groupchat" to="` + mcService + `"><body>a &lt; b</body>` +
		`<stanza-id xmlns="urn:xmpp:sid:0" by="g@` + service + `" id="7"/>` +
		`<addresses xmlns="http://jabber.org/protocol/address"><address type="bcc" jid="` + hagPDA + `"/>` +
		`<address type="bcc" jid="witch@shakespeare.lit/c&amp;d"/></addresses></message>`
	if got := m.String(); got != want {
		t.Errorf("multicast stanza\n got %s\nwant %s", got, want)
	}
	if m.Size() != len(want) {
		t.Errorf("Size = %d, want %d", m.Size(), len(want))
	}
	if n, err := parseNode(m.String()); err != nil || n.Child(protocol.NSAddress, "addresses") == nil {
		t.Errorf("the stanza does not parse with its addresses: %v", err)
	}
	// The broadcast itself is unchanged, and a copy For one recipient
	// carries no addresses.
	if strings.Contains(o.For(hagPDA).String(), "addresses") || strings.Contains(m.For(hagPDA).String(), "addresses") {
		t.Errorf("a copy for one recipient carries addresses: %s", m.For(hagPDA))
	}
	// A self-closed presence gets its addresses as its content.
	p := protocol.Outbound{Head: []byte(`<presence from="` + service + `" to="`), Tail: []byte(`"/>`), Env: &protocol.Envelope{Kind: "presence", From: service}}
	mp, ok := p.Multicast(mcService, []string{hagPDA})
	wantP := `<presence from="` + service + `" to="` + mcService + `"><addresses xmlns="http://jabber.org/protocol/address"><address type="bcc" jid="` + hagPDA + `"/></addresses></presence>`
	if !ok || mp.String() != wantP || mp.Size() != len(wantP) {
		t.Errorf("presence multicast %v\n got %s (%d)\nwant %s", ok, mp.String(), mp.Size(), wantP)
	}
	// XEP-0033 §3: no addresses in an IQ; none without recipients.
	iq := protocol.MulticastQuery(service, "shakespeare.lit", "x", protocol.NSDiscoInfo)
	if _, ok := iq.Multicast(mcService, []string{hagPDA}); ok {
		t.Error("an IQ was multicast")
	}
	if _, ok := o.Multicast(mcService, nil); ok {
		t.Error("a multicast without recipients")
	}
}

// TestCheckOutboundMulticast: the edge checks a multicast stanza's to (the
// service) and every address by the rules of any to.
func TestCheckOutboundMulticast(t *testing.T) {
	o := protocol.GroupMessage("g@"+service+"/hag", "g@"+service, domain.MessagePosted{ID: "m1", Body: "hi"}, "7")
	mc := func(to string, bcc ...string) protocol.Outbound {
		m, ok := o.Multicast(to, bcc)
		if !ok {
			t.Fatalf("cannot multicast to %s", to)
		}
		return m
	}
	tests := []struct {
		name string
		o    protocol.Outbound
		max  int
		want error
	}{
		{"prepared addresses", mc(mcService, hagPDA, "witch@shakespeare.lit/\U0001f642"), 0, nil},
		{"a bare address", mc(mcService, hag), 0, nil},
		{"an unprepared address", mc(mcService, hagPDA, "Hag66@shakespeare.lit/pda"), 0, protocol.ErrOutboundAddress},
		{"an empty address", mc(mcService, hagPDA, ""), 0, protocol.ErrOutboundAddress},
		{"a zero-width resource", mc(mcService, "witch@shakespeare.lit/\u200b"), 0, protocol.ErrOutboundAddress},
		{"a part of 1,024 bytes", mc(mcService, "witch@shakespeare.lit/"+strings.Repeat("a", 1024)), 0, protocol.ErrOutboundAddress},
		{"an unprepared service", mc("Multicast.shakespeare.lit", hagPDA), 0, protocol.ErrOutboundTo},
		{"the addresses count in the size", mc(mcService, hagPDA, hagPDA, hagPDA), o.For(hagPDA).Size() + 60, protocol.ErrOutboundTooLarge},
	}
	for _, tt := range tests {
		err := protocol.CheckOutbound(tt.o, service, tt.max)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: CheckOutbound = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestParseMulticastInfo reads disco#info answers as XEP-0033 §2 and
// XEP-0128 shape them; the limits form is the one ejabberd's mod_multicast
// writes for its "limits" option.
func TestParseMulticastInfo(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want protocol.MulticastInfo
	}{
		{"a service with limits", `<iq type="result" from="` + mcService + `" id="a"><query xmlns="http://jabber.org/protocol/disco#info">` +
			`<identity category="service" type="multicast" name="Multicast"/><feature var="http://jabber.org/protocol/address"/>` +
			`<x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/address</value></field>` +
			`<field var="message"><value>100</value></field><field var="presence"><value>50</value></field></x></query></iq>`,
			protocol.MulticastInfo{Supported: true, MessageLimit: 100, PresenceLimit: 50}},
		{"a service without limits", `<iq type="result" id="a"><query xmlns="http://jabber.org/protocol/disco#info">` +
			`<feature var="http://jabber.org/protocol/address"/></query></iq>`, protocol.MulticastInfo{Supported: true}},
		{"another form's fields", `<iq type="result" id="a"><query xmlns="http://jabber.org/protocol/disco#info">` +
			`<feature var="http://jabber.org/protocol/address"/><x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>urn:xmpp:other</value></field>` +
			`<field var="message"><value>100</value></field></x></query></iq>`, protocol.MulticastInfo{Supported: true}},
		{"a bad limit", `<iq type="result" id="a"><query xmlns="http://jabber.org/protocol/disco#info">` +
			`<feature var="http://jabber.org/protocol/address"/><x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/address</value></field>` +
			`<field var="message"><value>-3</value></field></x></query></iq>`, protocol.MulticastInfo{Supported: true}},
		{"a server without the feature", `<iq type="result" id="a"><query xmlns="http://jabber.org/protocol/disco#info">` +
			`<identity category="server" type="im"/><feature var="http://jabber.org/protocol/disco#items"/></query></iq>`, protocol.MulticastInfo{}},
		{"an error", `<iq type="error" id="a"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`, protocol.MulticastInfo{}},
	}
	for _, tt := range tests {
		n, err := parseNode(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := protocol.ParseMulticastInfo(n); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	n, _ := parseNode(`<iq type="result" id="b"><query xmlns="http://jabber.org/protocol/disco#items">` +
		`<item jid="` + mcService + `"/><item jid="pubsub.shakespeare.lit" name="PubSub"/><item jid="shakespeare.lit" node="announce"/></query></iq>`)
	if got, want := protocol.ParseDiscoItems(n), []string{mcService, "pubsub.shakespeare.lit"}; !slices.Equal(got, want) {
		t.Errorf("items %v, want %v", got, want)
	}
}

func TestIsMulticastReply(t *testing.T) {
	id := protocol.MulticastID(3, 1)
	cases := []struct {
		in   string
		want bool
	}{
		{`<iq from="shakespeare.lit" to="` + service + `" type="result" id="` + id + `"/>`, true},
		{`<iq from="shakespeare.lit" to="` + service + `" type="error" id="` + id + `"/>`, true},
		{`<iq from="shakespeare.lit" to="` + service + `" type="get" id="` + id + `"/>`, false},
		{`<iq from="shakespeare.lit" to="g@` + service + `" type="result" id="` + id + `"/>`, false},
		{`<iq from="shakespeare.lit" to="` + service + `" type="result" id="push-7"/>`, false},
		{`<iq from="shakespeare.lit" to="` + service + `" type="result" id="mcast-x-1"/>`, false},
	}
	for _, c := range cases {
		st, _, _ := parseRequest(c.in)
		if got := protocol.IsMulticastReply(st); got != c.want {
			t.Errorf("%s: %v, want %v", c.in, got, c.want)
		}
	}
	if r, ok := protocol.MulticastRound(id); !ok || r != 3 {
		t.Errorf("round of %s = %d, %v", id, r, ok)
	}
	q := protocol.MulticastQuery(service, "shakespeare.lit", id, protocol.NSDiscoItems).String()
	if want := `<iq from="` + service + `" id="` + id + `" type="get" to="shakespeare.lit"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`; q != want {
		t.Errorf("query %s, want %s", q, want)
	}
}
