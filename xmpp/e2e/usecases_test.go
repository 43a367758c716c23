package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	nsGC         = "http://jabber.org/protocol/groupchat"
	nsItems      = nsGC + "#items"
	nsGroupInfo  = nsGC + "#groupinfo"
	nsMembers    = nsGC + "#members"
	nsMemberInfo = nsGC + "#memberinfo"
	nsCreate     = nsGC + "#creategroup"
	nsUpdate     = nsGC + "#updategroup"
	nsDelete     = nsGC + "#deletegroup"
	nsAdd        = nsGC + "#addmember"
	nsRemove     = nsGC + "#removemember"
	nsStanzas    = "urn:ietf:params:xml:ns:xmpp-stanzas"
	nsSID        = "urn:xmpp:sid:0"
	nsChatStates = "http://jabber.org/protocol/chatstates"
)

func gjid(group string) string { return group + "@" + service }

// presenceWith matches a presence from the group carrying the operation's <x/>.
func presenceWith(group, ns string) func(*xmppclient.Stanza) bool {
	return func(s *xmppclient.Stanza) bool {
		return s.Is("", "presence") && s.Type() == "" && s.From() == gjid(group) && s.Child(ns, "x") != nil
	}
}

// property returns the value of <properties><property name=...>.
func property(s *xmppclient.Stanza, name string) (string, bool) {
	props := s.Child("", "properties")
	if props == nil {
		return "", false
	}
	for _, p := range props.ChildrenNamed("", "property") {
		if p.Attr("name") == name {
			return p.Text, true
		}
	}
	return "", false
}

// wantError asserts that s is an error of the given type and defined
// condition, with the seed's name (if any) in the groupchat namespace.
func wantError(t *testing.T, s *xmppclient.Stanza, typ, condition, seedName string) {
	t.Helper()
	if s.Type() != "error" {
		t.Fatalf("want an error, got %s", s.Raw)
	}
	e := s.Child("", "error")
	if e == nil {
		t.Fatalf("the error stanza has no <error/> child: %s", s.Raw)
	}
	if e.Attr("type") != typ {
		t.Errorf("error type = %q, want %q in %s", e.Attr("type"), typ, s.Raw)
	}
	if e.Child(nsStanzas, condition) == nil {
		t.Errorf("want defined condition <%s xmlns=%q/> in %s", condition, nsStanzas, s.Raw)
	}
	if seedName != "" && e.Child(nsGC, seedName) == nil {
		t.Errorf("want the seed's condition <%s xmlns=%q/> in %s", seedName, nsGC, s.Raw)
	}
}

// createGroup creates a group as owner with the given members (by user
// name) and waits for the owner's creategroup broadcast.
func createGroup(owner *client, group, name string, members ...string) {
	owner.t.Helper()
	var items strings.Builder
	for _, m := range members {
		fmt.Fprintf(&items, `<item jid="%s@%s" nick="%s" mid="%s" role="member"/>`, m, xmppDomain, m, m)
	}
	owner.send(fmt.Sprintf(`<presence to="%s"><x xmlns="%s"/><properties><property name="name">%s</property><property name="members">%s</property></properties></presence>`,
		gjid(group), nsCreate, name, items.String()))
	owner.expect("the creategroup broadcast", presenceWith(group, nsCreate))
}

func itemsOf(c *client) map[string]*xmppclient.Stanza {
	c.t.Helper()
	id := fmt.Sprintf("items-%d", pingSeq.Add(1))
	res := c.iq(`<iq type="get" id="`+id+`" to="`+service+`"><query xmlns="`+nsItems+`"/></iq>`, id)
	if res.Type() != "result" {
		c.t.Fatalf("#items failed: %s", res.Raw)
	}
	out := map[string]*xmppclient.Stanza{}
	for _, it := range res.Child(nsItems, "query").ChildrenNamed("", "item") {
		out[it.Attr("id")] = it
	}
	return out
}

func TestServiceDiscovery(t *testing.T) {
	alice := shared.login(t, "alice", "pda")

	items := alice.iq(`<iq type="get" id="disco1" to="`+xmppDomain+`"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`, "disco1")
	found := false
	for _, it := range items.FindAll("query/item") {
		if it.Attr("jid") == service {
			found = true
		}
	}
	if !found {
		t.Fatalf("disco#items on the server does not list %s: %s", service, items.Raw)
	}

	info := alice.iq(`<iq type="get" id="disco2" to="`+service+`"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`, "disco2")
	if info.Type() != "result" || info.From() != service {
		t.Fatalf("disco#info: %s", info.Raw)
	}
	q := info.Child("http://jabber.org/protocol/disco#info", "query")
	id := q.Child("", "identity")
	if id == nil || id.Attr("category") != "groupchat" || id.Attr("type") != "text" {
		t.Errorf("want identity groupchat/text, got %s", info.Raw)
	}
	features := map[string]bool{}
	for _, f := range q.ChildrenNamed("", "feature") {
		features[f.Attr("var")] = true
	}
	for _, want := range []string{nsGC, nsSID} {
		if !features[want] {
			t.Errorf("disco#info lacks feature %s: %s", want, info.Raw)
		}
	}

	// The service has no nodes: a query naming one is item-not-found
	// (XEP-0030 §3.2, PROTOCOL.md §3.2), with the query and its node echoed.
	info = alice.iq(`<iq type="get" id="disco3" to="`+service+`"><query xmlns="http://jabber.org/protocol/disco#info" node="urn:example:caps#v1"/></iq>`, "disco3")
	wantError(t, info, "cancel", "item-not-found", "")
	if q := info.Child("http://jabber.org/protocol/disco#info", "query"); q == nil || q.Attr("node") != "urn:example:caps#v1" {
		t.Errorf("the error does not echo the query with its node: %s", info.Raw)
	}
}

func TestCreateGroupAndQueries(t *testing.T) {
	alice := shared.login(t, "alice", "desktop")
	bob := shared.login(t, "bob", "pda")
	group := groupID("coven")

	// The seed's flow: look the name up first; it does not exist.
	res := alice.iq(`<iq type="get" id="find1" to="`+service+`"><query xmlns="`+nsGroupInfo+`"><property name="name" value="Witches `+group+`"/></query></iq>`, "find1")
	wantError(t, res, "cancel", "item-not-found", "not-exists")
	if res.From() != service {
		t.Errorf("the error must come from the address asked, got from=%q", res.From())
	}
	if res.Child(nsGroupInfo, "query") == nil {
		t.Errorf("the error must echo the request's namespace: %s", res.Raw)
	}

	createGroup(alice, group, "Witches "+group, "bob")
	for _, c := range []*client{bob} {
		p := c.expect("the creategroup broadcast", presenceWith(group, nsCreate))
		if v, _ := property(p, "name"); v != "Witches "+group {
			t.Errorf("%s: broadcast name = %q: %s", c.name, v, p.Raw)
		}
		if v, _ := property(p, "id"); v != group {
			t.Errorf("%s: broadcast id = %q: %s", c.name, v, p.Raw)
		}
	}

	// My groups: alice owns it, bob is a member; both see two members.
	if it := itemsOf(alice)[group]; it == nil || it.Attr("role") != "owner" || it.Attr("members") != "2" || it.Attr("name") != "Witches "+group {
		t.Errorf("alice's #items entry: %v", it)
	}
	if it := itemsOf(bob)[group]; it == nil || it.Attr("role") != "member" {
		t.Errorf("bob's #items entry: %v", it)
	}

	// Group info by JID and by name.
	res = bob.iq(`<iq type="get" id="gi1" to="`+gjid(group)+`"><query xmlns="`+nsGroupInfo+`"/></iq>`, "gi1")
	item := res.Find("query/item")
	if res.Type() != "result" || res.From() != gjid(group) || item == nil ||
		item.Attr("jid") != gjid(group) || item.Attr("id") != group || item.Attr("type") != "customized" || item.Attr("members") != "2" {
		t.Errorf("#groupinfo: %s", res.Raw)
	}
	res = bob.iq(`<iq type="get" id="find2" to="`+service+`"><query xmlns="`+nsGroupInfo+`"><property name="name" value="Witches `+group+`"/></query></iq>`, "find2")
	if item := res.Find("query/item"); res.Type() != "result" || item == nil || item.Attr("id") != group {
		t.Errorf("#groupinfo by name: %s", res.Raw)
	}

	// Members and member info.
	res = bob.iq(`<iq type="get" id="mem1" to="`+gjid(group)+`"><query xmlns="`+nsMembers+`"/></iq>`, "mem1")
	members := map[string]*xmppclient.Stanza{}
	for _, it := range res.FindAll("query/item") {
		members[it.Attr("jid")] = it
	}
	if a := members["alice@"+xmppDomain]; a == nil || a.Attr("role") != "owner" || a.Attr("mid") == "" {
		t.Errorf("#members lacks the owner: %s", res.Raw)
	}
	if b := members["bob@"+xmppDomain]; b == nil || b.Attr("role") != "member" || b.Attr("mid") != "bob" || b.Attr("nick") != "bob" {
		t.Errorf("#members lacks bob as given: %s", res.Raw)
	}
	res = alice.iq(`<iq type="get" id="mi1" to="`+gjid(group)+`"><query xmlns="`+nsMemberInfo+`"><property name="nick" value="bob"/></query></iq>`, "mi1")
	if it := res.Find("query/item"); res.Type() != "result" || it == nil || it.Attr("jid") != "bob@"+xmppDomain || it.Attr("mid") != "bob" {
		t.Errorf("#memberinfo: %s", res.Raw)
	}
	res = alice.iq(`<iq type="get" id="mi2" to="`+gjid(group)+`"><query xmlns="`+nsMemberInfo+`"><property name="nick" value="nobody"/></query></iq>`, "mi2")
	wantError(t, res, "cancel", "item-not-found", "not-exists")

	// The id is taken now.
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsCreate + `"/><properties><property name="name">again</property></properties></presence>`)
	p := alice.expect("the conflict error", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" })
	wantError(t, p, "cancel", "conflict", "")
	if p.From() != gjid(group) || p.Child(nsCreate, "x") == nil {
		t.Errorf("a presence error comes from the group and carries the request's <x/>: %s", p.Raw)
	}
}

func TestNonMembersAreRefused(t *testing.T) {
	alice := shared.login(t, "alice", "desktop")
	mallory := shared.login(t, "mallory", "laptop")
	group := groupID("private")
	createGroup(alice, group, "Private "+group)

	res := mallory.iq(`<iq type="get" id="m1" to="`+gjid(group)+`"><query xmlns="`+nsMembers+`"/></iq>`, "m1")
	wantError(t, res, "auth", "forbidden", "not-allowed")

	mallory.send(`<message type="groupchat" id="spam1" to="` + gjid(group) + `"><body>spam</body></message>`)
	e := mallory.expect("an error for posting", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "spam1" })
	wantError(t, e, "auth", "forbidden", "not-allowed")

	for _, op := range []struct{ ns, payload string }{
		{nsUpdate, `<properties><property name="name">mine</property></properties>`},
		{nsDelete, ``},
		{nsAdd, `<item jid="mallory@` + xmppDomain + `"/>`},
	} {
		mallory.send(`<presence to="` + gjid(group) + `"><x xmlns="` + op.ns + `"/>` + op.payload + `</presence>`)
		p := mallory.expect("an error for "+op.ns, func(s *xmppclient.Stanza) bool {
			return s.Is("", "presence") && s.Type() == "error" && s.Child(op.ns, "x") != nil
		})
		wantError(t, p, "auth", "forbidden", "not-allowed")
	}

	// A group that does not exist.
	res = mallory.iq(`<iq type="get" id="m2" to="`+gjid("no-such-group")+`"><query xmlns="`+nsGroupInfo+`"/></iq>`, "m2")
	wantError(t, res, "cancel", "item-not-found", "not-exists")
	if res.From() != gjid("no-such-group") {
		t.Errorf("the error must come from the address asked: %s", res.Raw)
	}
}

func TestGroupMessagesReachEveryOnlineResource(t *testing.T) {
	alicePhone := shared.login(t, "alice", "phone")
	aliceDesk := shared.login(t, "alice", "desk")
	bob := shared.login(t, "bob", "pda")
	group := groupID("fanout")
	createGroup(alicePhone, group, "Fan-out "+group, "bob", "carol") // carol stays offline
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	alicePhone.send(`<message type="groupchat" id="hysf1v37" to="` + gjid(group) + `"><body>Harpier cries: 'tis time, 'tis time.</body></message>`)
	isMsg := func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "hysf1v37" }
	var archiveID string
	for _, c := range []*client{alicePhone, aliceDesk, bob} {
		m := c.expect("the group message", isMsg)
		if m.Type() != "groupchat" || m.From() != gjid(group)+"/alice" || m.To() != c.full() {
			t.Errorf("%s got %s", c.name, m.Raw)
		}
		if m.ChildText("", "body") != "Harpier cries: 'tis time, 'tis time." {
			t.Errorf("%s: body changed: %s", c.name, m.Raw)
		}
		sid := m.Child(nsSID, "stanza-id")
		if sid == nil || sid.Attr("by") != gjid(group) || sid.Attr("id") == "" {
			t.Fatalf("%s: no stanza-id by the group: %s", c.name, m.Raw)
		}
		if archiveID == "" {
			archiveID = sid.Attr("id")
		} else if sid.Attr("id") != archiveID {
			t.Errorf("every copy carries the same archive id: %s vs %s", archiveID, sid.Attr("id"))
		}
	}

	// carol was offline: nothing was lost, her unread counter grew.
	carol := shared.login(t, "carol", "tablet")
	if it := itemsOf(carol)[group]; it == nil || it.Attr("unread") != "1" || it.Attr("mentions") != "0" {
		t.Errorf("carol's #items entry after missing one message: %v", it)
	}
	if it := itemsOf(alicePhone)[group]; it == nil || it.Attr("unread") != "0" {
		t.Errorf("the sender's own message is not unread for it: %v", it)
	}
}

func TestMentionsAndReadReceipts(t *testing.T) {
	alice := shared.login(t, "alice", "pda")
	bob := shared.login(t, "bob", "pda")
	group := groupID("mention")
	createGroup(alice, group, "Mentions "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	alice.send(`<message type="groupchat" id="m1" to="` + gjid(group) + `"><body>@bob look</body><x xmlns="jabber:x:data" type="at" id="bob@` + xmppDomain + `/pda"/></message>`)
	m := bob.expect("the mention", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "m1" })
	if x := m.Child("jabber:x:data", "x"); x == nil || x.Attr("type") != "at" || x.Attr("id") != "bob@"+xmppDomain+"/pda" {
		t.Errorf("the mention must be carried through: %s", m.Raw)
	}
	alice.send(`<message type="groupchat" id="m2" to="` + gjid(group) + `"><body>second</body></message>`)
	bob.expect("the second message", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "m2" })
	if it := itemsOf(bob)[group]; it == nil || it.Attr("unread") != "2" || it.Attr("mentions") != "1" {
		t.Fatalf("bob's counters after a mention and a message: %v", it)
	}

	// bob reads the first message: alice gets the receipt from bob's occupant JID.
	bob.send(`<message type="groupchat" to="` + gjid(group) + `"><read xmlns="` + nsChatStates + `" id="m1"/></message>`)
	r := alice.expect("bob's read receipt", func(s *xmppclient.Stanza) bool {
		return s.Is("", "message") && s.Child(nsChatStates, "read") != nil
	})
	if r.From() != gjid(group)+"/bob" || r.Type() != "groupchat" || r.Child(nsChatStates, "read").Attr("id") != "m1" {
		t.Errorf("read receipt: %s", r.Raw)
	}
	if it := itemsOf(bob)[group]; it == nil || it.Attr("unread") != "1" || it.Attr("mentions") != "0" {
		t.Errorf("after reading the first message one is left unread: %v", it)
	}
	// A read without an id means everything so far.
	bob.send(`<message type="groupchat" to="` + gjid(group) + `"><read xmlns="` + nsChatStates + `"/></message>`)
	alice.expect("bob's second read receipt", func(s *xmppclient.Stanza) bool {
		return s.Is("", "message") && s.Child(nsChatStates, "read") != nil && s.Child(nsChatStates, "read").Attr("id") == "m2"
	})
	if it := itemsOf(bob)[group]; it == nil || it.Attr("unread") != "0" {
		t.Errorf("after reading everything nothing is unread: %v", it)
	}
}

func TestUpdateGroup(t *testing.T) {
	alice := shared.login(t, "alice", "pda")
	bob := shared.login(t, "bob", "pda")
	group := groupID("rename")
	createGroup(alice, group, "Old "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	// A plain member may not rename.
	bob.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsUpdate + `"/><properties><property name="name">Bob's</property></properties></presence>`)
	e := bob.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" })
	wantError(t, e, "cancel", "not-allowed", "not-allowed")
	if e.Child(nsUpdate, "x") == nil {
		t.Errorf("the error echoes #updategroup: %s", e.Raw)
	}

	alice.send(`<presence id="rename1" to="` + gjid(group) + `"><x xmlns="` + nsUpdate + `"/><properties><property name="name">New ` + group + `</property></properties></presence>`)
	reply := alice.expect("the update reply with the id", func(s *xmppclient.Stanza) bool {
		_, hasID := property(s, "id")
		return presenceWith(group, nsUpdate)(s) && hasID
	})
	if reply.ID() != "rename1" {
		t.Errorf("the reply to the requester carries the request's id: %s", reply.Raw)
	}
	if v, _ := property(reply, "name"); v != "New "+group {
		t.Errorf("reply name: %s", reply.Raw)
	}
	if v, _ := property(reply, "id"); v != group {
		t.Errorf("reply id: %s", reply.Raw)
	}
	b := bob.expect("the update broadcast", presenceWith(group, nsUpdate))
	if v, _ := property(b, "name"); v != "New "+group {
		t.Errorf("broadcast name: %s", b.Raw)
	}
	if it := itemsOf(bob)[group]; it == nil || it.Attr("name") != "New "+group {
		t.Errorf("#items shows the new name: %v", it)
	}
}

func TestAddAndRemoveMembers(t *testing.T) {
	alice := shared.login(t, "alice", "pda")
	bob := shared.login(t, "bob", "pda")
	dave := shared.login(t, "dave", "pda")
	group := groupID("members")
	createGroup(alice, group, "Members "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	// A plain member may not add.
	bob.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsAdd + `"/><item jid="eve@` + xmppDomain + `" nick="eve" mid="eve" role="member"/></presence>`)
	wantError(t, bob.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" }), "cancel", "not-allowed", "not-allowed")

	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsAdd + `"/><item jid="dave@` + xmppDomain + `/pda" nick="Dave" mid="dave" role="member"/></presence>`)
	for _, c := range []*client{alice, bob, dave} {
		p := c.expect("the addmember broadcast", presenceWith(group, nsAdd))
		it := p.Child("", "item")
		if it == nil || it.Attr("jid") != "dave@"+xmppDomain || it.Attr("mid") != "dave" || it.Attr("nick") != "Dave" || it.Attr("role") != "member" {
			t.Errorf("%s: addmember broadcast: %s", c.name, p.Raw)
		}
	}
	// The seed's example (the owner adds itself as owner) is refused for the role.
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsAdd + `"/><item jid="alice@` + xmppDomain + `/pda" nick="nick name" mid="memberid" role="owner"/></presence>`)
	e := alice.expect("the refusal of a second owner", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" })
	wantError(t, e, "cancel", "not-allowed", "not-allowed")
	if e.Child(nsAdd, "x") == nil {
		t.Errorf("the error echoes #addmember: %s", e.Raw)
	}
	// Adding someone twice is a conflict.
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsAdd + `"/><item jid="dave@` + xmppDomain + `"/></presence>`)
	wantError(t, alice.expect("the conflict", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" }), "cancel", "conflict", "")

	// dave now takes part.
	dave.send(`<message type="groupchat" id="d1" to="` + gjid(group) + `"><body>hello</body></message>`)
	bob.expect("dave's message", func(s *xmppclient.Stanza) bool {
		return s.Is("", "message") && s.ID() == "d1" && s.From() == gjid(group)+"/dave"
	})

	// The owner removes dave: everyone, dave included, is told.
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsRemove + `"/><item jid="dave@` + xmppDomain + `"/></presence>`)
	for _, c := range []*client{alice, bob, dave} {
		p := c.expect("the removemember broadcast", presenceWith(group, nsRemove))
		if it := p.Child("", "item"); it == nil || it.Attr("jid") != "dave@"+xmppDomain {
			t.Errorf("%s: removemember broadcast: %s", c.name, p.Raw)
		}
	}
	// A removed member is refused.
	dave.send(`<message type="groupchat" id="d2" to="` + gjid(group) + `"><body>still here?</body></message>`)
	wantError(t, dave.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "d2" }), "auth", "forbidden", "not-allowed")
	res := dave.iq(`<iq type="get" id="dm" to="`+gjid(group)+`"><query xmlns="`+nsMembers+`"/></iq>`, "dm")
	wantError(t, res, "auth", "forbidden", "not-allowed")
	if _, ok := itemsOf(dave)[group]; ok {
		t.Errorf("a removed member's #items must not list the group")
	}

	// bob leaves by removing himself.
	bob.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsRemove + `"/><item jid="bob@` + xmppDomain + `"/></presence>`)
	for _, c := range []*client{alice, bob} {
		c.expect("bob's leave", func(s *xmppclient.Stanza) bool {
			return presenceWith(group, nsRemove)(s) && s.Child("", "item") != nil && s.Child("", "item").Attr("jid") == "bob@"+xmppDomain
		})
	}
}

func TestDeleteGroup(t *testing.T) {
	alice := shared.login(t, "alice", "pda")
	bob := shared.login(t, "bob", "pda")
	group := groupID("delete")
	createGroup(alice, group, "Delete "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	bob.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsDelete + `"/></presence>`)
	e := bob.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" })
	wantError(t, e, "cancel", "not-allowed", "not-allowed")
	if e.Child(nsDelete, "x") == nil {
		t.Errorf("the error echoes #deletegroup: %s", e.Raw)
	}

	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsDelete + `"/></presence>`)
	for _, c := range []*client{alice, bob} {
		c.expect("the deletegroup broadcast", presenceWith(group, nsDelete))
	}
	res := bob.iq(`<iq type="get" id="gone" to="`+gjid(group)+`"><query xmlns="`+nsGroupInfo+`"/></iq>`, "gone")
	wantError(t, res, "cancel", "item-not-found", "not-exists")
	if _, ok := itemsOf(alice)[group]; ok {
		t.Errorf("a deleted group must be gone from #items")
	}
	res = alice.iq(`<iq type="get" id="gone2" to="`+service+`"><query xmlns="`+nsGroupInfo+`"><property name="name" value="Delete `+group+`"/></query></iq>`, "gone2")
	wantError(t, res, "cancel", "item-not-found", "not-exists")
	bob.send(`<message type="groupchat" id="late" to="` + gjid(group) + `"><body>hello?</body></message>`)
	wantError(t, bob.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "late" }), "cancel", "item-not-found", "not-exists")
}

func TestResentMessageIsNotDuplicated(t *testing.T) {
	alice := shared.login(t, "alice", "pda")
	bob := shared.login(t, "bob", "pda")
	group := groupID("dedup")
	createGroup(alice, group, "Dedup "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	msg := `<message type="groupchat" id="once" to="` + gjid(group) + `"><body>only once</body></message>`
	alice.send(msg)
	first := alice.expect("the reflection", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "once" })
	alice.send(msg) // a resend after a flaky reconnect
	again := alice.expect("the original's reflection", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "once" })
	if a, b := first.Child(nsSID, "stanza-id").Attr("id"), again.Child(nsSID, "stanza-id").Attr("id"); a != b {
		t.Errorf("the resend must get the original archive id: %s then %s", a, b)
	}
	alice.send(`<message type="groupchat" id="after" to="` + gjid(group) + `"><body>next</body></message>`)
	bob.expect("the message", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "once" })
	bob.expect("the next message", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "after" })
	for _, s := range bob.Pending() {
		if s.Is("", "message") && s.ID() == "once" {
			t.Fatalf("bob got the resent message twice: %s", s.Raw)
		}
	}
	if it := itemsOf(bob)[group]; it == nil || it.Attr("unread") != "2" {
		t.Errorf("two messages stored, not three: %v", it)
	}
}

func TestErrorsAndUnknownRequests(t *testing.T) {
	alice := shared.login(t, "alice", "pda")

	res := alice.iq(`<iq type="get" id="u1" to="`+service+`"><query xmlns="urn:example:unknown"/></iq>`, "u1")
	wantError(t, res, "cancel", "service-unavailable", "")

	// An error is never answered: the next answer alice gets is the ping's.
	alice.send(`<message type="error" id="e1" to="` + gjid("whatever") + `"><error type="cancel"><service-unavailable xmlns="` + nsStanzas + `"/></error></message>`)
	alice.send(`<iq type="error" id="e2" to="` + service + `"><error type="cancel"><bad-request xmlns="` + nsStanzas + `"/></error></iq>`)
	alice.expectNone("an answer to an error", func(s *xmppclient.Stanza) bool { return s.ID() == "e1" || s.ID() == "e2" })

	// Malformed requests.
	alice.send(`<presence to="` + gjid(groupID("bad")) + `"><x xmlns="` + nsCreate + `"/><properties><property name="name"></property></properties></presence>`)
	wantError(t, alice.expect("bad-request for a missing name", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" }), "modify", "bad-request", "")
	alice.send(`<presence to="` + gjid(groupID("bad")) + `"><x xmlns="` + nsCreate + `"/><properties><property name="name">x</property><property name="members"><item jid="not a jid@@"/></property></properties></presence>`)
	wantError(t, alice.expect("bad-request for a bad JID", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" }), "modify", "bad-request", "")
	alice.send(`<message type="chat" id="c1" to="` + gjid(groupID("bad")) + `"><body>hi</body></message>`)
	wantError(t, alice.expect("bad-request for a chat message", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "c1" }), "modify", "bad-request", "")

	// Over the body limit (64 KiB by default).
	group := groupID("limits")
	createGroup(alice, group, "Limits "+group)
	alice.send(`<message type="groupchat" id="big" to="` + gjid(group) + `"><body>` + strings.Repeat("x", 64<<10+1) + `</body></message>`)
	wantError(t, alice.expect("policy-violation", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "big" }), "modify", "policy-violation", "")
	if it := itemsOf(alice)[group]; it == nil || it.Attr("members") != strconv.Itoa(1) {
		t.Errorf("the group is intact: %v", it)
	}
}

func TestChatStatesAreRelayedNotArchived(t *testing.T) {
	alice := shared.login(t, "alice", "pda")
	bob := shared.login(t, "bob", "pda")
	group := groupID("typing")
	createGroup(alice, group, "Typing "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	alice.send(`<message type="groupchat" id="t1" to="` + gjid(group) + `"><composing xmlns="` + nsChatStates + `"/></message>`)
	m := bob.expect("alice typing", func(s *xmppclient.Stanza) bool {
		return s.Is("", "message") && s.Child(nsChatStates, "composing") != nil
	})
	if m.From() != gjid(group)+"/alice" || m.Type() != "groupchat" || m.Child(nsSID, "stanza-id") != nil {
		t.Errorf("a chat state comes from the occupant, live only: %s", m.Raw)
	}
	if ids := mamIDs(t, bob, group); len(ids) != 0 {
		t.Errorf("chat states are not archived: %v", ids)
	}
	if it := itemsOf(bob)[group]; it == nil || it.Attr("unread") != "0" {
		t.Errorf("chat states are not unread: %v", it)
	}

	// A deleted group's history is gone for queries.
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsDelete + `"/></presence>`)
	bob.expect("the deletegroup broadcast", presenceWith(group, nsDelete))
	res := bob.iq(`<iq type="set" id="mamgone" to="`+gjid(group)+`"><query xmlns="urn:xmpp:mam:2" queryid="g"/></iq>`, "mamgone")
	wantError(t, res, "cancel", "item-not-found", "not-exists")
}

func TestSystemGroupsAreMadeByAdministrators(t *testing.T) {
	eve := shared.login(t, "eve", "admin")
	alice := shared.login(t, "alice", "pda")
	group := groupID("system")
	createGroup(eve, group, "Announcements "+group, "alice")
	alice.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	res := alice.iq(`<iq type="get" id="sys" to="`+gjid(group)+`"><query xmlns="`+nsGroupInfo+`"/></iq>`, "sys")
	if it := res.Find("query/item"); it == nil || it.Attr("type") != "system" {
		t.Errorf("a group an administrator makes is a system group: %s", res.Raw)
	}
	// A user asking for a system group is refused.
	alice.send(`<presence to="` + gjid(groupID("fake")) + `"><x xmlns="` + nsCreate + `"/><properties><property name="name">fake</property><property name="type">system</property></properties></presence>`)
	wantError(t, alice.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" }), "cancel", "not-allowed", "not-allowed")
}

// TestReadReceiptsGoToTheSenderOnly checks the receipt and mention rules the
// basic test leaves out: a mention by bare JID counts, one of the sender
// itself does not; a receipt reaches only the sender of the message read,
// not the reader's other resources nor the other members; and a non-member's
// receipt is refused as such, whether or not the message it names exists.
func TestReadReceiptsGoToTheSenderOnly(t *testing.T) {
	alice := shared.login(t, "alice", "rr")
	bobPda := shared.login(t, "bob", "rr-pda")
	bobDesk := shared.login(t, "bob", "rr-desk")
	carol := shared.login(t, "carol", "rr")
	mallory := shared.login(t, "mallory", "rr")
	group := groupID("receipts")
	createGroup(alice, group, "Receipts "+group, "bob", "carol")
	for _, c := range []*client{bobPda, bobDesk, carol} {
		c.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	}
	read := func(id string) string {
		attr := ""
		if id != "" {
			attr = ` id="` + id + `"`
		}
		return `<read xmlns="` + nsChatStates + `"` + attr + `/>`
	}
	refused := func(id, payload string) {
		t.Helper()
		mallory.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `">` + payload + `</message>`)
		e := mallory.expect("an error for a non-member's receipt", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id })
		wantError(t, e, "auth", "forbidden", "not-allowed")
		if e.From() != gjid(group) {
			t.Errorf("the error comes from the group: %s", e.Raw)
		}
	}

	// Nothing posted yet: a non-member's receipt is still refused.
	refused("mr0", read(""))

	alice.send(`<message type="groupchat" id="rr1" to="` + gjid(group) + `"><body>@bob and me</body>` +
		`<x xmlns="jabber:x:data" type="at" id="bob@` + xmppDomain + `"/>` +
		`<x xmlns="jabber:x:data" type="at" id="` + alice.full() + `"/></message>`)
	for _, c := range []*client{alice, bobPda, bobDesk, carol} {
		c.expect("the message", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "rr1" })
	}
	for _, want := range []struct {
		c                *client
		unread, mentions string
	}{{alice, "0", "0"}, {bobPda, "1", "1"}, {carol, "1", "0"}} {
		if it := itemsOf(want.c)[group]; it == nil || it.Attr("unread") != want.unread || it.Attr("mentions") != want.mentions {
			t.Errorf("%s's counters: want unread=%s mentions=%s, got %v", want.c.name, want.unread, want.mentions, it)
		}
	}

	// A non-member naming a message, existing or not, is refused as a non-member.
	refused("mr1", read("rr1"))
	refused("mr2", read("no-such-message"))

	isRead := func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.Child(nsChatStates, "read") != nil }
	bobPda.send(`<message type="groupchat" to="` + gjid(group) + `">` + read("rr1") + `</message>`)
	r := alice.expect("bob's receipt", isRead)
	if r.From() != gjid(group)+"/bob" || r.Type() != "groupchat" || r.To() != alice.full() || r.Child(nsChatStates, "read").Attr("id") != "rr1" {
		t.Errorf("receipt: %s", r.Raw)
	}
	for _, c := range []*client{bobPda, bobDesk, carol} {
		c.expectNone("bob's receipt", isRead)
	}
	if it := itemsOf(bobDesk)[group]; it == nil || it.Attr("unread") != "0" || it.Attr("mentions") != "0" {
		t.Errorf("bob's counters after reading: %v", it)
	}
}
