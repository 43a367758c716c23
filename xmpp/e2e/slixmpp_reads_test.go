package e2e

import (
	"strconv"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// tell sends text one to one to a slixmpp scenario's resource, through
// the XMPP server and not the service: how a test lets a running script
// go on (member.heard).
func (c *client) tell(full, text string) {
	c.t.Helper()
	c.send(`<message type="chat" to="` + full + `"><body>` + xmlEscape(text) + `</body></message>`)
}

// heard waits for the chat message text from user (member.tell).
func (c *client) heard(user, text string) {
	c.t.Helper()
	c.expect(user+" saying "+text, func(s *xmppclient.Stanza) bool {
		bare, _, _ := strings.Cut(s.From(), "/")
		return s.Is("", "message") && s.Type() == "chat" && bare == user+"@"+xmppDomain && s.ChildText("", "body") == text
	})
}

// slixItem is an #items entry as member.items reports it.
type slixItem struct {
	Unread   string `json:"unread"`
	Mentions string `json:"mentions"`
}

// TestSlixmppDisplayedMarkersAreReads: a displayed marker slixmpp's
// xep_0333 writes, naming a message by the group's stanza-id, is a read
// (PROTOCOL.md §6.3): relayed as a signal, recorded (the reader's unread
// count drops to 0, #readers lists it) and forwarded to the sender as the
// seed's <read/>, naming the message by its sender's id.
func TestSlixmppDisplayedMarkersAreReads(t *testing.T) {
	alice := shared.login(t, "alice", "slix-marker")
	bob := shared.login(t, "bob", "slix-marker")
	group := groupID("slix-marker")
	createGroup(alice, group, "Markers "+group, "bob", "carol")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	const resource = "slix-marker"
	ids := []string{"mk1", "mk2"}
	finish := startSlixmpp(t, shared, "markers", "carol", resource, map[string]any{
		"group": gjid(group), "group_id": group, "sender": alice.full(), "ids": ids,
	})
	alice.heard("carol", "ready")
	var last string
	for _, id := range ids {
		alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + id + `</body><markable xmlns="` + nsMarkers + `"/></message>`)
		last = strconv.FormatUint(archiveIDOf(t, alice.expect("the reflection of "+id, func(s *xmppclient.Stanza) bool {
			return s.Type() == "groupchat" && s.ID() == id
		})), 10)
	}

	occupant := gjid(group) + "/carol"
	alice.heard("carol", "displayed")
	marker := alice.expect("carol's marker", func(s *xmppclient.Stanza) bool { return s.Child(nsMarkers, "displayed") != nil })
	if m := marker.Child(nsMarkers, "displayed"); marker.From() != occupant || m.Attr("id") != last || marker.Child(nsSID, "stanza-id") != nil {
		t.Errorf("the marker reached alice as %s, want a signal from %s naming %s", marker.Raw, occupant, last)
	}
	receipt := alice.expect("the receipt", func(s *xmppclient.Stanza) bool { return s.Child(nsChatStates, "read") != nil })
	if receipt.From() != occupant || receipt.Child(nsChatStates, "read").Attr("id") != "mk2" {
		t.Errorf("the receipt is %s, want <read id=\"mk2\"/> (the sender's id) from %s", receipt.Raw, occupant)
	}
	res := alice.iq(`<iq type="get" id="slix-who" to="`+gjid(group)+`"><query xmlns="`+nsReaders+`" id="mk2"/></iq>`, "slix-who")
	if res.Type() != "result" {
		t.Fatalf("#readers: %s", res.Raw)
	}
	q := res.Child(nsReaders, "query")
	read, unread := q.ChildrenNamed("", "read"), q.ChildrenNamed("", "unread")
	if len(read) != 1 || read[0].Attr("jid") != "carol@"+xmppDomain || len(unread) != 1 || unread[0].Attr("jid") != "bob@"+xmppDomain {
		t.Errorf("#readers after carol's marker: %s, want carol read and bob unread", res.Raw)
	}
	alice.tell("carol@"+xmppDomain+"/"+resource, "checked")

	var got struct {
		Before     *slixItem   `json:"before"`
		Marked     string      `json:"marked"`
		Reflection slixMessage `json:"reflection"`
		After      *slixItem   `json:"after"`
	}
	finish(&got)
	if got.Marked != last {
		t.Errorf("slixmpp marked %q, the stanza-id of the last message is %s", got.Marked, last)
	}
	if got.Before == nil || got.Before.Unread != "2" {
		t.Errorf("carol's #items entry before the marker: %+v, want unread 2", got.Before)
	}
	if r := got.Reflection; r.From != occupant || !r.has(nsMarkers, "displayed") || len(r.StanzaIDs) != 0 {
		t.Errorf("the marker's reflection: %+v, want a signal from %s", r, occupant)
	}
	if got.After == nil || got.After.Unread != "0" || got.After.Mentions != "0" {
		t.Errorf("carol's #items entry after the marker: %+v, want unread 0, mentions 0", got.After)
	}
}
