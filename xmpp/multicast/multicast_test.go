package multicast_test

import (
	"context"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/xmpp/multicast"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

const (
	component = "groupchat.example.org"
	server    = "example.org"
	mcJID     = "multicast.example.org"
)

type recorder struct{ sent []protocol.Outbound }

func (r *recorder) Send(_ context.Context, o protocol.Outbound) error {
	r.sent = append(r.sent, o)
	return nil
}

// last is the last request sent: its to, id and query namespace.
func (r *recorder) last(t *testing.T) (to, id, ns string) {
	t.Helper()
	if len(r.sent) == 0 {
		t.Fatal("nothing sent")
	}
	n, err := xmlnode.Parse(r.sent[len(r.sent)-1].String(), xmlnode.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if n.Name.Local != "iq" || n.Attr("type") != "get" || n.Attr("from") != component {
		t.Fatalf("not a get from the component: %s", r.sent[len(r.sent)-1])
	}
	return n.Attr("to"), n.Attr("id"), n.Children[0].Name.Space
}

// started is a finder with its first search begun, and what it sent.
func started(maxAddresses int) (*multicast.Finder, *recorder) {
	r := &recorder{}
	f := multicast.New(multicast.Config{Domain: component, Server: server, MaxAddresses: maxAddresses})
	f.Attach(r)
	f.Start(context.Background())
	return f, r
}

// stanza parses xml as the link hands a stanza to the service.
func stanza(t *testing.T, xml string) protocol.Stanza {
	t.Helper()
	n, err := xmlnode.Parse(xml, xmlnode.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	st, err := protocol.ParseStanza(n)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func answer(t *testing.T, f *multicast.Finder, xml string) {
	t.Helper()
	st := stanza(t, xml)
	if !protocol.IsMulticastReply(st) {
		t.Fatalf("not a reply of the search: %s", xml)
	}
	f.Reply(context.Background(), st)
}

func info(from, id, body string) string {
	return `<iq type="result" from="` + from + `" to="` + component + `" id="` + id + `"><query xmlns="http://jabber.org/protocol/disco#info">` + body + `</query></iq>`
}

const (
	addressFeature = `<feature var="http://jabber.org/protocol/address"/>`
	limitForm      = `<x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/address</value></field><field var="message"><value>7</value></field></x>`
)

// TestFinderFollowsXEP0033: disco#info of the server; without the feature,
// disco#items of the server and disco#info of each item but the
// component; the first with the feature is the service, with the limit its
// form states, or else the configured one.
func TestFinderFollowsXEP0033(t *testing.T) {
	for _, tt := range []struct {
		name      string
		form      string
		wantLimit int
	}{
		{"stated limit", limitForm, 7},
		{"configured limit", "", 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, r := started(20)
			to, id, ns := r.last(t)
			if to != server || ns != protocol.NSDiscoInfo {
				t.Fatalf("first asked %s %s, want disco#info of %s", to, ns, server)
			}
			answer(t, f, info(server, id, `<identity category="server" type="im"/>`))
			to, id, ns = r.last(t)
			if to != server || ns != protocol.NSDiscoItems {
				t.Fatalf("then asked %s %s, want disco#items of %s", to, ns, server)
			}
			answer(t, f, `<iq type="result" from="`+server+`" to="`+component+`" id="`+id+`"><query xmlns="http://jabber.org/protocol/disco#items">`+
				`<item jid="`+component+`"/><item jid="pubsub.example.org"/><item jid="`+mcJID+`"/></query></iq>`)
			if len(r.sent) != 4 {
				t.Fatalf("%d requests, want 4 (the component itself is not asked)", len(r.sent))
			}
			var pubsubID, mcID string
			for _, o := range r.sent[2:] {
				s := o.String()
				id := s[strings.Index(s, `id="`)+4:]
				id = id[:strings.IndexByte(id, '"')]
				switch o.To {
				case "pubsub.example.org":
					pubsubID = id
				case mcJID:
					mcID = id
				}
			}
			if j, _ := f.Service(); j != "" {
				t.Fatalf("a service before any answer: %s", j)
			}
			answer(t, f, info("pubsub.example.org", pubsubID, `<feature var="http://jabber.org/protocol/pubsub"/>`))
			// An answer from another entity than the one asked is no answer.
			answer(t, f, info("evil.example.net", mcID, addressFeature))
			if j, _ := f.Service(); j != "" {
				t.Fatalf("took an answer from another entity: %s", j)
			}
			answer(t, f, info(mcJID, mcID, addressFeature+tt.form))
			if j, l := f.Service(); j != mcJID || l != tt.wantLimit {
				t.Fatalf("Service = %s, %d; want %s, %d", j, l, mcJID, tt.wantLimit)
			}
		})
	}
}

// TestFinderStartsAgainOnReconnect: the server itself offering the
// feature ends the search at once; a new link forgets the service until
// the new search answers, and answers to the old search are ignored.
func TestFinderStartsAgainOnReconnect(t *testing.T) {
	ctx := context.Background()
	f, r := started(0)
	_, oldID, _ := r.last(t)
	f.Start(ctx)
	_, id, _ := r.last(t)
	answer(t, f, info(server, oldID, addressFeature))
	if j, _ := f.Service(); j != "" {
		t.Fatalf("took an answer of an earlier search: %s", j)
	}
	answer(t, f, info(server, id, addressFeature))
	if j, l := f.Service(); j != server || l != 20 {
		t.Fatalf("Service = %s, %d; want the server with the default 20", j, l)
	}
	sent := len(r.sent)
	f.Start(ctx)
	if j, _ := f.Service(); j != "" || len(r.sent) != sent+1 {
		t.Fatalf("after a reconnect: service %q, %d new requests", j, len(r.sent)-sent)
	}
	// An error from the server still leads to its items; none offering
	// the feature ends the search with none.
	_, id, _ = r.last(t)
	answer(t, f, `<iq type="error" from="`+server+`" to="`+component+`" id="`+id+`"/>`)
	to, id, ns := r.last(t)
	if to != server || ns != protocol.NSDiscoItems {
		t.Fatalf("after an error asked %s %s", to, ns)
	}
	answer(t, f, `<iq type="result" from="`+server+`" to="`+component+`" id="`+id+`"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`)
	if j, _ := f.Service(); j != "" {
		t.Fatalf("a service without one: %s", j)
	}
}

// TestFinderStopsAfterARefusal: an error from the service in use (a
// broadcast it refused as a whole) stops its use until the next search;
// errors from anyone else are not its business.
func TestFinderStopsAfterARefusal(t *testing.T) {
	ctx := context.Background()
	f, r := started(0)
	_, id, _ := r.last(t)
	answer(t, f, info(server, id, `<identity category="server" type="im"/>`))
	_, id, _ = r.last(t)
	answer(t, f, `<iq type="result" from="`+server+`" to="`+component+`" id="`+id+`"><query xmlns="http://jabber.org/protocol/disco#items"><item jid="`+mcJID+`"/></query></iq>`)
	_, id, _ = r.last(t)
	answer(t, f, info(mcJID, id, addressFeature))
	bounce := stanza(t, `<message type="error" from="alice@example.org/phone" to="g@`+component+`/bob" id="m1"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
	if f.Refused(bounce) {
		t.Fatal("a recipient's bounce taken as the service's refusal")
	}
	if j, _ := f.Service(); j != mcJID {
		t.Fatalf("service %q after a recipient's bounce", j)
	}
	refusal := stanza(t, `<message type="error" from="`+mcJID+`" to="g@`+component+`/bob" id="m2"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
	if !f.Refused(refusal) {
		t.Fatal("the service's refusal not taken")
	}
	if j, _ := f.Service(); j != "" {
		t.Fatalf("still using %q after it refused a broadcast", j)
	}
	// The refusals of the stanzas sent before it was dropped still come.
	later := stanza(t, `<presence type="error" from="`+mcJID+`" to="g@`+component+`"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`)
	if !f.Refused(later) {
		t.Fatal("a later refusal by the dropped service not taken")
	}
	if f.Refused(bounce) {
		t.Fatal("a recipient's bounce taken as a refusal after the service was dropped")
	}
	// A new connection starts afresh.
	f.Start(ctx)
	if f.Refused(later) {
		t.Fatal("a refusal taken after the link came up again")
	}
}
