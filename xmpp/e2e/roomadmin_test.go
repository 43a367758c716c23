package e2e

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	nsMUCAdmin = "http://jabber.org/protocol/muc#admin"
	nsMUCOwner = "http://jabber.org/protocol/muc#owner"
)

// enterRoom sends XEP-0045 §7.2.1's presence and waits for the
// self-presence (status 110).
func enterRoom(c *client, group, nick string) *xmppclient.Stanza {
	c.t.Helper()
	c.send(`<presence to="` + gjid(group) + `/` + nick + `"><x xmlns="` + nsMUC + `"><history maxstanzas="0"/></x></presence>`)
	self := c.expect("the self-presence in "+group, func(s *xmppclient.Stanza) bool {
		return s.Is("", "presence") && (s.Type() == "error" || slices.Contains(statuses(s), "110"))
	})
	if self.Type() == "error" {
		c.t.Fatalf("%s entering %s: %s", c.name, group, self.Raw)
	}
	return self
}

// adminItems lists the items of a muc#admin answer.
func adminItems(s *xmppclient.Stanza) map[string]string {
	out := map[string]string{}
	for _, it := range s.FindAll("{" + nsMUCAdmin + "}query/{" + nsMUCAdmin + "}item") {
		out[it.Attr("jid")] = it.Attr("affiliation") + "/" + it.Attr("nick") + "/" + it.Attr("role")
	}
	return out
}

// occupantPresence matches a presence from an occupant of group.
func occupantPresence(group, nick, typ string) func(*xmppclient.Stanza) bool {
	return func(s *xmppclient.Stanza) bool {
		return s.Is("", "presence") && s.From() == gjid(group)+"/"+nick && s.Type() == typ
	}
}

// TestRoomAdministration manages a group through its room with XEP-0045's
// stanzas (§7.8.2, §9, §10): the owner's MUC client lists, adds, removes,
// invites, renames and destroys; a native member sees the seed's
// broadcasts and a MUC occupant the occupants' presences, both of the same
// events.
func TestRoomAdministration(t *testing.T) {
	h := shared
	group := groupID("roomadmin")
	aliceNative := h.login(t, "alice", "admin-native")
	createGroup(aliceNative, group, "Witches", "bob")
	bobNative := h.login(t, "bob", "admin-native")
	alice := h.login(t, "alice", "admin-muc")
	bob := h.login(t, "bob", "admin-muc")
	enterRoom(alice, group, "alice")
	enterRoom(bob, group, "bob")

	// §9.5, §10.5, §10.8: the lists, members' nicks and roles included;
	// no one is an outcast.
	lists := map[string]map[string]string{
		"member":  {"bob@" + xmppDomain: "member/bob/participant"},
		"admin":   {},
		"owner":   {"alice@" + xmppDomain: "owner/alice/moderator"},
		"outcast": {},
	}
	for aff, want := range lists {
		res := alice.iq(`<iq id="list-`+aff+`" to="`+gjid(group)+`" type="get"><query xmlns="`+nsMUCAdmin+`"><item affiliation="`+aff+`"/></query></iq>`, "list-"+aff)
		if got := adminItems(res); res.Type() != "result" || !maps.Equal(got, want) {
			t.Errorf("the %s list is %v, want %v: %s", aff, got, want, res.Raw)
		}
	}

	// §9.3: the owner grants membership; the nick is the member id.
	// Invitations go to the bare JID, as XEP-0045's examples send them:
	// the server delivers them to a user's available resources (or
	// keeps them offline), so the invitees announce themselves.
	carol := h.login(t, "carol", "admin-native")
	carol.send(`<presence/>`)
	res := alice.iq(`<iq id="member1" to="`+gjid(group)+`" type="set"><query xmlns="`+nsMUCAdmin+`">`+
		`<item affiliation="member" jid="carol@`+xmppDomain+`" nick="thirdwitch"><reason>A worthy witch indeed!</reason></item></query></iq>`, "member1")
	if res.Type() != "result" {
		t.Fatalf("granting membership: %s", res.Raw)
	}
	added := bobNative.expect("the #addmember broadcast", presenceWith(group, nsAdd))
	if it := added.Child("", "item"); it == nil || it.Attr("jid") != "carol@"+xmppDomain || it.Attr("mid") != "thirdwitch" {
		t.Errorf("the native broadcast names carol as thirdwitch: %s", added.Raw)
	}
	in := bob.expect("carol's occupant presence", occupantPresence(group, "thirdwitch", ""))
	if it := in.Find("{" + nsMUCUser + "}x/{" + nsMUCUser + "}item"); it == nil || it.Attr("affiliation") != "member" || it.Attr("jid") != "carol@"+xmppDomain {
		t.Errorf("carol comes in as a member: %s", in.Raw)
	}
	// §9.5: the room invites who it made a member.
	inv := carol.expect("the invitation", func(s *xmppclient.Stanza) bool {
		return s.Is("", "message") && s.From() == gjid(group) && s.Find("{"+nsMUCUser+"}x/{"+nsMUCUser+"}invite") != nil
	})
	if from := inv.Find("{" + nsMUCUser + "}x/{" + nsMUCUser + "}invite").Attr("from"); from != "alice@"+xmppDomain {
		t.Errorf("the invitation is from alice: %s", inv.Raw)
	}

	// A member without the privilege is refused (§9.3 and §7.8.2:
	// forbidden), an invitation's <x/> echoed.
	res = bob.iq(`<iq id="member2" to="`+gjid(group)+`" type="set"><query xmlns="`+nsMUCAdmin+`"><item affiliation="member" jid="dave@`+xmppDomain+`"/></query></iq>`, "member2")
	wantError(t, res, "auth", "forbidden", "")
	bob.send(`<message id="inv-bob" to="` + gjid(group) + `"><x xmlns="` + nsMUCUser + `"><invite to="dave@` + xmppDomain + `"/></x></message>`)
	refused := bob.expect("the refused invitation", func(s *xmppclient.Stanza) bool { return s.ID() == "inv-bob" })
	wantError(t, refused, "auth", "forbidden", "")
	if refused.Find("{"+nsMUCUser+"}x/{"+nsMUCUser+"}invite") == nil {
		t.Errorf("the refusal echoes the invitation: %s", refused.Raw)
	}
	// Roles follow affiliations: a kick (§8.2) is refused, not ignored.
	res = alice.iq(`<iq id="kick1" to="`+gjid(group)+`" type="set"><query xmlns="`+nsMUCAdmin+`"><item nick="bob" role="none"/></query></iq>`, "kick1")
	wantError(t, res, "cancel", "not-allowed", "")

	// §7.8.2: a mediated invitation adds the invitee and tells it.
	dave := h.login(t, "dave", "admin-native")
	dave.send(`<presence/>`)
	alice.send(`<message id="inv-alice" to="` + gjid(group) + `"><x xmlns="` + nsMUCUser + `"><invite to="dave@` + xmppDomain + `"><reason>Hey Dave, this is the place for all good witches!</reason></invite></x></message>`)
	inv = dave.expect("the invitation", func(s *xmppclient.Stanza) bool {
		return s.Is("", "message") && s.From() == gjid(group) && s.Find("{"+nsMUCUser+"}x/{"+nsMUCUser+"}invite") != nil
	})
	if it := inv.Find("{" + nsMUCUser + "}x/{" + nsMUCUser + "}invite"); it.Attr("from") != "alice@"+xmppDomain || it.ChildText("", "reason") != "Hey Dave, this is the place for all good witches!" {
		t.Errorf("the invitation names alice and her reason: %s", inv.Raw)
	}
	bobNative.expect("dave's #addmember", func(s *xmppclient.Stanza) bool {
		return presenceWith(group, nsAdd)(s) && s.Child("", "item") != nil && s.Child("", "item").Attr("jid") == "dave@"+xmppDomain
	})
	bob.expect("dave's occupant presence", occupantPresence(group, "dave", ""))

	// §9.4: revoking membership removes; occupants see 321.
	res = alice.iq(`<iq id="member3" to="`+gjid(group)+`" type="set"><query xmlns="`+nsMUCAdmin+`"><item affiliation="none" jid="dave@`+xmppDomain+`"/></query></iq>`, "member3")
	if res.Type() != "result" {
		t.Fatalf("revoking membership: %s", res.Raw)
	}
	bobNative.expect("the #removemember broadcast", presenceWith(group, nsRemove))
	gone := bob.expect("dave going", occupantPresence(group, "dave", "unavailable"))
	if !slices.Contains(statuses(gone), "321") {
		t.Errorf("a member removed leaves with 321: %s", gone.Raw)
	}

	// §10.6, §10.7: the owner grants admin status to a member and
	// revokes it: both fronts see the role change.
	for _, step := range []struct{ affiliation, role string }{{"admin", "moderator"}, {"member", "participant"}} {
		res = alice.iq(`<iq id="role-`+step.affiliation+`" to="`+gjid(group)+`" type="set"><query xmlns="`+nsMUCAdmin+`"><item affiliation="`+step.affiliation+`" jid="bob@`+xmppDomain+`"/></query></iq>`, "role-"+step.affiliation)
		if res.Type() != "result" {
			t.Fatalf("making bob %s: %s", step.affiliation, res.Raw)
		}
		upd := bobNative.expect("the role change", func(s *xmppclient.Stanza) bool {
			it := s.Child("", "item")
			return presenceWith(group, nsUpdate)(s) && it != nil && it.Attr("jid") == "bob@"+xmppDomain && it.Attr("role") == step.affiliation
		})
		if upd.Child(nsSID, "stanza-id") == nil {
			t.Errorf("a role change is a change of the group, with its archive id: %s", upd.Raw)
		}
		bob.expect("bob's new affiliation", func(s *xmppclient.Stanza) bool {
			it := s.Find("{" + nsMUCUser + "}x/{" + nsMUCUser + "}item")
			return occupantPresence(group, "bob", "")(s) && it != nil && it.Attr("affiliation") == step.affiliation && it.Attr("role") == step.role
		})
	}

	// §10.2: the configuration form, a rename, seen by both fronts.
	res = alice.iq(`<iq id="config1" to="`+gjid(group)+`" type="get"><query xmlns="`+nsMUCOwner+`"/></iq>`, "config1")
	var name string
	for _, f := range res.FindAll("{" + nsMUCOwner + "}query/{jabber:x:data}x/{jabber:x:data}field") {
		if f.Attr("var") == "muc#roomconfig_roomname" {
			name = f.ChildText("", "value")
		}
	}
	if res.Type() != "result" || name != "Witches" {
		t.Errorf("the form names the room Witches: %s", res.Raw)
	}
	res = bob.iq(`<iq id="config2" to="`+gjid(group)+`" type="get"><query xmlns="`+nsMUCOwner+`"/></iq>`, "config2")
	wantError(t, res, "auth", "forbidden", "")
	res = alice.iq(`<iq id="config3" to="`+gjid(group)+`" type="set"><query xmlns="`+nsMUCOwner+`"><x xmlns="jabber:x:data" type="submit">`+
		`<field var="FORM_TYPE"><value>http://jabber.org/protocol/muc#roomconfig</value></field>`+
		`<field var="muc#roomconfig_roomname"><value>The Coven</value></field></x></query></iq>`, "config3")
	if res.Type() != "result" {
		t.Fatalf("renaming: %s", res.Raw)
	}
	upd := bobNative.expect("the #updategroup broadcast", presenceWith(group, nsUpdate))
	if v, _ := property(upd, "name"); v != "The Coven" {
		t.Errorf("the native broadcast names the group The Coven: %s", upd.Raw)
	}
	bob.expect("the new name as the subject", func(s *xmppclient.Stanza) bool {
		return s.From() == gjid(group) && s.ChildText("", "subject") == "The Coven"
	})
	bob.expect("the 104 notice", func(s *xmppclient.Stanza) bool {
		return s.Is("", "message") && slices.Contains(statuses(s), "104")
	})
	res = alice.iq(`<iq id="config4" to="`+gjid(group)+`" type="set"><query xmlns="`+nsMUCOwner+`"><x xmlns="jabber:x:data" type="submit">`+
		`<field var="muc#roomconfig_membersonly"><value>0</value></field></x></query></iq>`, "config4")
	wantError(t, res, "modify", "not-acceptable", "")

	// §8.1: the subject is the group's name; a member may not change it.
	bob.send(`<message id="subj1" to="` + gjid(group) + `" type="groupchat"><subject>Fire Burn and Cauldron Bubble!</subject></message>`)
	refused = bob.expect("the refused subject change", func(s *xmppclient.Stanza) bool { return s.ID() == "subj1" })
	wantError(t, refused, "auth", "forbidden", "")
	alice.send(`<message id="subj2" to="` + gjid(group) + `" type="groupchat"><subject>Fire Burn and Cauldron Bubble!</subject></message>`)
	upd = bobNative.expect("the #updategroup broadcast", presenceWith(group, nsUpdate))
	if v, _ := property(upd, "name"); v != "Fire Burn and Cauldron Bubble!" {
		t.Errorf("a subject change renames the group: %s", upd.Raw)
	}
	fire := func(s *xmppclient.Stanza) bool {
		return s.From() == gjid(group) && s.ChildText("", "subject") == "Fire Burn and Cauldron Bubble!"
	}
	bob.expect("the new subject", fire)
	alice.expect("her new subject", fire)
	// The subject it has already: reflected to the sender, nothing stored.
	alice.send(`<message id="subj3" to="` + gjid(group) + `" type="groupchat"><subject>Fire Burn and Cauldron Bubble!</subject></message>`)
	alice.expect("the subject reflected", fire)

	// §10.9: only the owner destroys; the group is deleted.
	res = bob.iq(`<iq id="begone1" to="`+gjid(group)+`" type="set"><query xmlns="`+nsMUCOwner+`"><destroy/></query></iq>`, "begone1")
	wantError(t, res, "auth", "forbidden", "")
	res = alice.iq(`<iq id="begone2" to="`+gjid(group)+`" type="set"><query xmlns="`+nsMUCOwner+`"><destroy><reason>Macbeth doth come.</reason></destroy></query></iq>`, "begone2")
	if res.Type() != "result" {
		t.Fatalf("destroying: %s", res.Raw)
	}
	bobNative.expect("the #deletegroup broadcast", presenceWith(group, nsDelete))
	destroyed := bob.expect("the room's destruction", occupantPresence(group, "bob", "unavailable"))
	if d := destroyed.Find("{" + nsMUCUser + "}x/{" + nsMUCUser + "}destroy"); d == nil || d.ChildText("", "reason") != "Macbeth doth come." {
		t.Errorf("the destruction carries <destroy/> with the owner's reason: %s", destroyed.Raw)
	}
	if _, ok := itemsOf(bobNative)[group]; ok {
		t.Errorf("a destroyed room's group is gone from #items")
	}
}

// TestInstantRoom creates a group by entering a room that does not exist
// (XEP-0045 §10.1.1–10.1.2): the entrant owns it, the native protocol lists
// it.
func TestInstantRoom(t *testing.T) {
	h := shared
	room := groupID("instant")
	eve := h.login(t, "eve", "instant-muc")
	eve.send(`<presence id="create1" to="` + gjid(room) + `/firstwitch"><x xmlns="` + nsMUC + `"/></presence>`)
	self := eve.expect("the self-presence", func(s *xmppclient.Stanza) bool {
		return s.Is("", "presence") && (s.ID() == "create1" || s.From() == gjid(room)+"/firstwitch")
	})
	if self.Type() == "error" {
		t.Fatalf("creating a room: %s", self.Raw)
	}
	for _, code := range []string{"100", "110", "201"} {
		if !slices.Contains(statuses(self), code) {
			t.Errorf("the creator's self-presence lacks status %s: %s", code, self.Raw)
		}
	}
	if it := self.Find("{" + nsMUCUser + "}x/{" + nsMUCUser + "}item"); it == nil || it.Attr("affiliation") != "owner" || it.Attr("role") != "moderator" {
		t.Errorf("the creator is the owner and a moderator: %s", self.Raw)
	}
	subject := eve.expect("the subject", func(s *xmppclient.Stanza) bool { return s.Child("", "subject") != nil })
	if subject.ChildText("", "subject") != room {
		t.Errorf("a new room is named after its id: %s", subject.Raw)
	}
	// §10.1.2: the owner accepts the instant room.
	res := eve.iq(`<iq id="create2" to="`+gjid(room)+`" type="set"><query xmlns="`+nsMUCOwner+`"><x xmlns="jabber:x:data" type="submit"/></query></iq>`, "create2")
	if res.Type() != "result" {
		t.Errorf("accepting the instant room: %s", res.Raw)
	}
	it := itemsOf(h.login(t, "eve", "instant-native"))[room]
	if it == nil || it.Attr("role") != "owner" || it.Attr("name") != room {
		t.Errorf("#items lists the new group, owned by eve: %v", it)
	}
	// A room address that cannot be a group id is refused as malformed.
	long := strings.Repeat("a", 300)
	eve.send(`<presence id="create3" to="` + long + `@` + service + `/firstwitch"><x xmlns="` + nsMUC + `"/></presence>`)
	wantError(t, eve.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.ID() == "create3" }), "modify", "jid-malformed", "")
}
