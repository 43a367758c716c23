package e2e

import (
	"strconv"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	nsHints     = "urn:xmpp:hints"
	nsReference = "urn:xmpp:reference:0"
)

// messageID matches a message with the given stanza id.
func messageID(id string) func(*xmppclient.Stanza) bool {
	return func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id }
}

// wantCounters checks a member's #items entry for the group.
func wantCounters(t *testing.T, c *client, group, unread, mentions string) {
	t.Helper()
	if it := itemsOf(c)[group]; it == nil || it.Attr("unread") != unread || it.Attr("mentions") != mentions {
		t.Errorf("%s's counters: want unread=%s mentions=%s, got %v", c.name, unread, mentions, it)
	}
}

// TestDisplayedMarkerIsARead: an XEP-0333 displayed marker naming a
// message by its stanza-id (as §5 requires in groups) is relayed live to
// the members, as MUC clients expect, and is also the reader's read: the
// sender gets the seed's <read/> receipt, the reader's unread count drops
// and #readers lists it. A marker naming no message is only relayed.
func TestDisplayedMarkerIsARead(t *testing.T) {
	alice := shared.login(t, "alice", "markers")
	bob := shared.login(t, "bob", "markers")
	carol := shared.login(t, "carol", "markers")
	group := groupID("markers")
	createGroup(alice, group, "Markers "+group, "bob", "carol")
	for _, c := range []*client{bob, carol} {
		c.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	}
	alice.send(`<message type="groupchat" id="d1" to="` + gjid(group) + `"><body>first</body><markable xmlns="` + nsMarkers + `"/></message>`)
	first := strconv.FormatUint(archiveIDOf(t, bob.expect("the first message", messageID("d1"))), 10)
	alice.send(`<message type="groupchat" id="d2" to="` + gjid(group) + `"><body>second</body><markable xmlns="` + nsMarkers + `"/></message>`)
	bob.expect("the second message", messageID("d2"))
	wantCounters(t, bob, group, "2", "0")

	// As Conversations sends it: in no thread, with an origin-id.
	bob.send(`<message type="groupchat" id="dm1" to="` + gjid(group) + `"><displayed xmlns="` + nsMarkers + `" id="` + first + `"/>` +
		`<origin-id xmlns="` + nsSID + `" id="dm1-o"/></message>`)
	for _, c := range []*client{alice, carol} {
		m := c.expect("bob's marker", messageID("dm1"))
		d := m.Child(nsMarkers, "displayed")
		if m.From() != gjid(group)+"/bob" || d == nil || d.Attr("id") != first || m.Child(nsSID, "stanza-id") != nil {
			t.Errorf("%s: the marker comes live from bob's occupant JID, naming the stanza-id: %s", c.name, m.Raw)
		}
	}
	r := alice.expect("bob's read receipt", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.Child(nsChatStates, "read") != nil })
	if r.From() != gjid(group)+"/bob" || r.Child(nsChatStates, "read").Attr("id") != "d1" {
		t.Errorf("the receipt names alice's message by her id: %s", r.Raw)
	}
	carol.expectNone("a receipt for alice", func(s *xmppclient.Stanza) bool { return s.Child(nsChatStates, "read") != nil })
	wantCounters(t, bob, group, "1", "0")

	res := alice.iq(`<iq type="get" id="dm-who" to="`+gjid(group)+`"><query xmlns="`+nsReaders+`" id="d1"/></iq>`, "dm-who")
	q := res.Child(nsReaders, "query")
	if res.Type() != "result" || q == nil {
		t.Fatalf("#readers: %s", res.Raw)
	}
	if read := q.ChildrenNamed("", "read"); len(read) != 1 || read[0].Attr("jid") != "bob@"+xmppDomain {
		t.Errorf("bob read d1: %s", res.Raw)
	}
	if unread := q.ChildrenNamed("", "unread"); len(unread) != 1 || unread[0].Attr("jid") != "carol@"+xmppDomain {
		t.Errorf("carol did not: %s", res.Raw)
	}

	// A marker naming no message of the group: relayed, and no error.
	bob.send(`<message type="groupchat" id="dm2" to="` + gjid(group) + `"><displayed xmlns="` + nsMarkers + `" id="no-such-message"/></message>`)
	carol.expect("bob's second marker", messageID("dm2"))
	bob.expectNone("an error for a marker", func(s *xmppclient.Stanza) bool { return s.ID() == "dm2" && s.Type() == "error" })
	wantCounters(t, bob, group, "1", "0")

	if ids := mamIDs(t, carol, group); len(ids) != 2 || ids[0] != "d1" || ids[1] != "d2" {
		t.Errorf("markers are not archived: %v", ids)
	}
}

// TestReferenceMentionsCount: XEP-0372 mentions count like the seed's: a
// user's JID mentions that member, an occupant JID of the group (RFC 5122,
// percent-encoded) the member with that mid.
func TestReferenceMentionsCount(t *testing.T) {
	alice := shared.login(t, "alice", "refs")
	bob := shared.login(t, "bob", "refs")
	carol := shared.login(t, "carol", "refs")
	group := groupID("refs")
	createGroup(alice, group, "References "+group, "bob", "carol")
	for _, c := range []*client{bob, carol} {
		c.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	}
	alice.send(`<message type="groupchat" id="ref1" to="` + gjid(group) + `"><body>Hello bob, how are you?</body>` +
		`<reference xmlns="` + nsReference + `" begin="6" end="9" type="mention" uri="xmpp:bob@` + xmppDomain + `"/></message>`)
	m := bob.expect("the mention", messageID("ref1"))
	if ref := m.Child(nsReference, "reference"); ref == nil || ref.Attr("uri") != "xmpp:bob@"+xmppDomain {
		t.Errorf("the reference passes through: %s", m.Raw)
	}
	// %63 is "c": carol's occupant JID as a client may encode it.
	alice.send(`<message type="groupchat" id="ref2" to="` + gjid(group) + `"><body>carol?</body>` +
		`<reference xmlns="` + nsReference + `" begin="0" end="5" type="mention" uri="xmpp:` + gjid(group) + `/%63arol"/></message>`)
	carol.expect("the occupant mention", messageID("ref2"))
	bob.expect("the second message", messageID("ref2"))
	wantCounters(t, bob, group, "2", "1")
	wantCounters(t, carol, group, "2", "1")
	wantCounters(t, alice, group, "0", "0")
}

// TestCorrectionsAndReactionsAreNotUnread: an XEP-0308 correction and an
// XEP-0444 reaction are archived and delivered like messages, and change
// no unread or mention count, even when the correction adds a mention.
func TestCorrectionsAndReactionsAreNotUnread(t *testing.T) {
	alice := shared.login(t, "alice", "amend")
	bob := shared.login(t, "bob", "amend")
	group := groupID("amend")
	createGroup(alice, group, "Amendments "+group, "bob", "carol") // carol stays offline
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	alice.send(`<message type="groupchat" id="bad1" to="` + gjid(group) + `"><body>But soft, what light through yonder door breaks?</body></message>`)
	orig := strconv.FormatUint(archiveIDOf(t, bob.expect("the message", messageID("bad1"))), 10)
	wantCounters(t, bob, group, "1", "0")

	alice.send(`<message type="groupchat" id="good1" to="` + gjid(group) + `"><body>But soft, what light through yonder window breaks, bob?</body>` +
		`<replace xmlns="urn:xmpp:message-correct:0" id="bad1"/>` +
		`<reference xmlns="` + nsReference + `" type="mention" uri="xmpp:bob@` + xmppDomain + `"/></message>`)
	c := bob.expect("the correction", messageID("good1"))
	if c.Child("urn:xmpp:message-correct:0", "replace") == nil || c.Child(nsSID, "stanza-id") == nil {
		t.Errorf("the correction is delivered as a message, with an archive id: %s", c.Raw)
	}
	bob.send(`<message type="groupchat" id="react1" to="` + gjid(group) + `"><reactions xmlns="urn:xmpp:reactions:0" id="` + orig + `">` +
		`<reaction>👋</reaction></reactions><store xmlns="` + nsHints + `"/></message>`)
	alice.expect("bob's reaction", messageID("react1"))
	bob.expect("the reflection of the reaction", messageID("react1"))

	wantCounters(t, bob, group, "1", "0")
	wantCounters(t, alice, group, "0", "0")
	carol := shared.login(t, "carol", "amend")
	wantCounters(t, carol, group, "1", "0")
	if ids := mamIDs(t, carol, group); len(ids) != 3 || ids[0] != "bad1" || ids[1] != "good1" || ids[2] != "react1" {
		t.Errorf("the correction and the reaction are archived: %v", ids)
	}
}

// TestStorageHints: XEP-0334 no-store on a message is honoured (delivered
// live, not archived, not counted); store on a signal archives it, still
// without counting it.
func TestStorageHints(t *testing.T) {
	alice := shared.login(t, "alice", "hints")
	bob := shared.login(t, "bob", "hints")
	group := groupID("hints")
	createGroup(alice, group, "Hints "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	alice.send(`<message type="groupchat" id="ns1" to="` + gjid(group) + `"><body>V unir avtug'f pybnx</body><no-store xmlns="` + nsHints + `"/></message>`)
	m := bob.expect("the no-store message", messageID("ns1"))
	if m.From() != gjid(group)+"/alice" || m.ChildText("", "body") != "V unir avtug'f pybnx" || m.Child(nsSID, "stanza-id") != nil {
		t.Errorf("a no-store message comes live, with its body and no archive id: %s", m.Raw)
	}
	alice.expect("the reflection of the no-store message", messageID("ns1"))

	alice.send(`<message type="groupchat" id="st1" to="` + gjid(group) + `"><composing xmlns="` + nsChatStates + `"/><store xmlns="` + nsHints + `"/></message>`)
	if s := bob.expect("the stored chat state", messageID("st1")); s.Child(nsSID, "stanza-id") == nil {
		t.Errorf("a signal with a store hint is archived: %s", s.Raw)
	}
	if ids := mamIDs(t, bob, group); len(ids) != 1 || ids[0] != "st1" {
		t.Errorf("the archive holds the stored signal only, got %v", ids)
	}
	wantCounters(t, bob, group, "0", "0")
}
