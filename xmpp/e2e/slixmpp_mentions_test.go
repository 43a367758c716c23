package e2e

import (
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// TestSlixmppReferencesAreMentions: a message from slixmpp with XEP-0372
// mention references, one naming a member by JID and one by occupant JID
// (percent-encoded, RFC 5122), raises both members' mention counters
// (PROTOCOL.md §6.2) and reaches them with the references unchanged; the
// member not mentioned only gets an unread message.
func TestSlixmppReferencesAreMentions(t *testing.T) {
	alice := shared.login(t, "alice", "slix-mention")
	bob := shared.login(t, "bob", "slix-mention")
	dave := shared.login(t, "dave", "slix-mention")
	group := groupID("slix-mention")
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsCreate + `"/><properties><property name="name">Mentions</property><property name="members">` +
		`<item jid="bob@` + xmppDomain + `" mid="bob" role="member"/>` +
		`<item jid="carol@` + xmppDomain + `" mid="carol" role="member"/>` +
		`<item jid="dave@` + xmppDomain + `" mid="second witch" role="member"/>` +
		`</property></properties></presence>`)
	for _, c := range []*client{alice, bob, dave} {
		c.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	}

	const id, body = "slix-mention-1", "Hello Bob, and you, second witch"
	refs := []map[string]any{
		{"begin": 6, "end": 9, "uri": "xmpp:bob@" + xmppDomain},
		{"begin": 20, "end": 32, "uri": "xmpp:" + gjid(group) + "/second%20witch"},
	}
	var got struct {
		Reflection slixMessage `json:"reflection"`
	}
	runSlixmpp(t, shared, "mentions", "carol", "slix-mention", map[string]any{
		"group": gjid(group), "id": id, "body": body, "references": refs,
	}, &got)
	if r := got.Reflection; r.Body != body || r.archiveID(t, group) == "" || !r.has(nsReference, "reference") {
		t.Errorf("the reflection: %+v", r)
	}

	for _, c := range []*client{bob, dave} {
		m := c.expect("the mention", func(s *xmppclient.Stanza) bool { return s.ID() == id })
		var uris []string
		for _, r := range m.ChildrenNamed(nsReference, "reference") {
			uris = append(uris, r.Attr("uri"))
		}
		if len(uris) != 2 || uris[0] != refs[0]["uri"] || uris[1] != refs[1]["uri"] {
			t.Errorf("%s got the references %v, want them unchanged: %s", c.name, uris, m.Raw)
		}
	}
	for _, w := range []struct {
		c                *client
		unread, mentions string
	}{{bob, "1", "1"}, {dave, "1", "1"}, {alice, "1", "0"}} {
		if it := itemsOf(w.c)[group]; it == nil || it.Attr("unread") != w.unread || it.Attr("mentions") != w.mentions {
			t.Errorf("%s's #items entry: %v, want unread %s, mentions %s", w.c.name, it, w.unread, w.mentions)
		}
	}
}
