package e2e

import (
	"strings"
	"testing"

	"github.com/uuchat/groupchat/internal/xmppclient"
)

const nsMarkers = "urn:xmpp:chat-markers:0"

// signals are bodiless messages as clients send them: a signal (XEP-0085,
// XEP-0184, XEP-0333) with the envelope metadata clients add (Monal and
// Smack put an origin-id on every message; XEP-0333 sends markers in the
// message's thread; XEP-0334 hints; XEP-0203 delays).
var signals = []struct{ id, payload string }{
	{"s-composing", `<composing xmlns="` + nsChatStates + `"/><origin-id xmlns="` + nsSID + `" id="s-composing-o"/>`},
	{"s-displayed", `<thread>Act IV, Scene I</thread><displayed xmlns="` + nsMarkers + `" id="1"/><origin-id xmlns="` + nsSID + `" id="s-displayed-o"/>`},
	{"s-received", `<received xmlns="urn:xmpp:receipts" id="x"/><store xmlns="urn:xmpp:hints"/><delay xmlns="urn:xmpp:delay" stamp="2002-09-10T23:08:25Z"/>`},
}

// TestSignalsWithEnvelopeMetadataStayLive: what is archived and counted
// is decided by content. A chat state, marker or receipt carrying an
// origin-id, a thread, a hint or a delay reaches the members live, as it
// was sent, and is neither archived nor unread.
func TestSignalsWithEnvelopeMetadataStayLive(t *testing.T) {
	alice := shared.login(t, "alice", "signals")
	bob := shared.login(t, "bob", "signals")
	group := groupID("signals")
	createGroup(alice, group, "Signals "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	for _, sg := range signals {
		alice.send(`<message type="groupchat" id="` + sg.id + `" to="` + gjid(group) + `">` + sg.payload + `</message>`)
		m := bob.expect("alice's "+sg.id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == sg.id })
		if m.From() != gjid(group)+"/alice" || m.Child(nsSID, "stanza-id") != nil {
			t.Errorf("%s comes from alice's occupant JID without an archive id: %s", sg.id, m.Raw)
		}
		if strings.Contains(sg.payload, "origin-id") && m.Child(nsSID, "origin-id") == nil {
			t.Errorf("the envelope passes through: %s", m.Raw)
		}
	}
	alice.send(`<message type="groupchat" id="real" to="` + gjid(group) + `"><body>real</body></message>`)
	bob.expect("the message", func(s *xmppclient.Stanza) bool { return s.ID() == "real" })
	if ids := mamIDs(t, bob, group); len(ids) != 1 || ids[0] != "real" {
		t.Errorf("only the message is archived, got %v", ids)
	}
	if it := itemsOf(bob)[group]; it == nil || it.Attr("unread") != "1" {
		t.Errorf("only the message is unread: %v", it)
	}
	// The seed's receipt keeps working with the same metadata.
	bob.send(`<message type="groupchat" to="` + gjid(group) + `"><thread>t</thread><read xmlns="` + nsChatStates + `" id="real"/><origin-id xmlns="` + nsSID + `" id="r-o"/></message>`)
	alice.expect("bob's receipt", func(s *xmppclient.Stanza) bool {
		r := s.Child(nsChatStates, "read")
		return s.Is("", "message") && r != nil && r.Attr("id") == "real"
	})
	if it := itemsOf(bob)[group]; it == nil || it.Attr("unread") != "0" {
		t.Errorf("the receipt with metadata is recorded: %v", it)
	}
}

// TestSignalsWithEnvelopeMetadataAreNotPushed: an offline member is
// notified of the message, not of the signals around it. grace is in no
// other test, so no resource of hers left behind counts as online.
func TestSignalsWithEnvelopeMetadataAreNotPushed(t *testing.T) {
	h := pushHarness(t)
	a := loginApp(t, h)
	a.createNode("grace-signals")
	grace := h.login(t, "grace", "signals")
	grace.enablePush("grace-signals", false)
	grace.goOffline()

	bob := h.login(t, "bob", "signals")
	group := groupID("push-signals")
	createGroup(bob, group, "Signals "+group, "grace")
	var burst string
	for _, sg := range signals {
		burst += `<message type="groupchat" id="` + sg.id + `" to="` + gjid(group) + `">` + sg.payload + `</message>`
	}
	bob.send(burst + `<message type="groupchat" id="p1" to="` + gjid(group) + `"><body>one</body></message>`)
	sender := bob.expect("the reflection of p1", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "p1" }).From()
	wantNotification(t, "the burst", a.nextPublish("grace-signals"), "1", sender, "")
}
