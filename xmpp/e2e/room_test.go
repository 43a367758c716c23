package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const nsMUC = "http://jabber.org/protocol/muc"

// statuses lists the MUC status codes of a presence or message.
func statuses(s *xmppclient.Stanza) []string {
	var out []string
	for _, st := range s.FindAll("{" + nsMUCUser + "}x/{" + nsMUCUser + "}status") {
		out = append(out, st.Attr("code"))
	}
	return out
}

// TestRoomFrontDoor enters a group as a XEP-0045 room, as a MUC client
// does (the stanzas of XEP-0045 §7.2 and §7.14), and chats in it with the
// group's native members.
func TestRoomFrontDoor(t *testing.T) {
	h := privateHarness(t)
	alice := h.login(t, "alice", "pda")
	carol := h.login(t, "carol", "pda")
	group, other := groupID("room"), groupID("room-other")
	createGroup(alice, group, "The Coven", "bob", "carol")
	createGroup(alice, other, "Elsewhere", "bob")
	carol.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	for _, id := range []string{"h1", "h2"} {
		alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + id + `</body></message>`)
		alice.expect("the reflection of "+id, func(s *xmppclient.Stanza) bool { return s.ID() == id })
	}

	// bob's MUC client never speaks the native protocol: it enters.
	bob := h.login(t, "bob", "muc")
	bob.send(`<presence id="n13mt3l" to="` + gjid(group) + `/Bobby"><x xmlns="` + nsMUC + `"><history maxstanzas="5"/></x></presence>`)
	var order []string
	occupants := map[string]*xmppclient.Stanza{}
	for len(order) < 3 {
		p := bob.expect("an occupant's presence", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") })
		if p.Type() == "error" {
			t.Fatalf("entering the room: %s", p.Raw)
		}
		order = append(order, p.From())
		occupants[p.From()] = p
	}
	self := occupants[gjid(group)+"/bob"]
	if self == nil || order[2] != gjid(group)+"/bob" {
		t.Fatalf("the self-presence comes last, from bob's member id: %v", order)
	}
	if got := statuses(self); !slices.Contains(got, "110") || !slices.Contains(got, "100") || !slices.Contains(got, "210") {
		t.Errorf("the self-presence says 110 (you), 100 (non-anonymous) and 210 (nick assigned): %v in %s", got, self.Raw)
	}
	if self.ID() != "n13mt3l" {
		t.Errorf("the self-presence reflects the entering presence's id (§7.2.3): %s", self.Raw)
	}
	for occupant, want := range map[string][3]string{
		gjid(group) + "/alice": {"owner", "moderator", "alice@" + xmppDomain},
		gjid(group) + "/carol": {"member", "participant", "carol@" + xmppDomain},
		gjid(group) + "/bob":   {"member", "participant", "bob@" + xmppDomain},
	} {
		it := occupants[occupant].Find("{" + nsMUCUser + "}x/{" + nsMUCUser + "}item")
		if it == nil || it.Attr("affiliation") != want[0] || it.Attr("role") != want[1] || it.Attr("jid") != want[2] {
			t.Errorf("%s shows as %v, want %v", occupant, it, want)
		}
	}
	// Then the history asked for, then the subject (XEP-0045 §7.2.16).
	for _, id := range []string{"h1", "h2"} {
		m := bob.expect("history "+id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id })
		if d := m.Child("urn:xmpp:delay", "delay"); d == nil || d.Attr("from") != gjid(group) || m.From() != gjid(group)+"/alice" {
			t.Errorf("room history is delayed, from the occupant: %s", m.Raw)
		}
	}
	subject := bob.expect("the subject", func(s *xmppclient.Stanza) bool { return s.Child("", "subject") != nil })
	if subject.ChildText("", "subject") != "The Coven" || subject.From() != gjid(group) || subject.Type() != "groupchat" {
		t.Errorf("the subject is the group's name, from the room: %s", subject.Raw)
	}

	// Both fronts chat in one group: one log, one set of stanza-ids.
	alice.send(`<message type="groupchat" id="live1" to="` + gjid(group) + `"><body>welcome</body></message>`)
	live := bob.expect("alice's message", func(s *xmppclient.Stanza) bool { return s.ID() == "live1" })
	if live.From() != gjid(group)+"/alice" || live.Child(nsSID, "stanza-id") == nil {
		t.Errorf("a native member's message, as the room's occupant sees it: %s", live.Raw)
	}
	bob.send(`<message type="groupchat" id="muc1" to="` + gjid(group) + `"><body>thank you</body></message>`)
	for _, c := range []*client{alice, carol, bob} {
		m := c.expect("bob's message", func(s *xmppclient.Stanza) bool { return s.ID() == "muc1" })
		if m.From() != gjid(group)+"/bob" || m.Child(nsSID, "stanza-id") == nil {
			t.Errorf("%s got bob's message as %s", c.name, m.Raw)
		}
	}

	// A member added comes in as an occupant; the native broadcast is
	// not for the MUC client. Another group's traffic is not either.
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsAdd + `"/><item jid="dave@` + xmppDomain + `" mid="dave"/></presence>`)
	dave := bob.expect("dave coming in", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.From() == gjid(group)+"/dave" })
	if it := dave.Find("{" + nsMUCUser + "}x/{" + nsMUCUser + "}item"); it == nil || it.Attr("affiliation") != "member" {
		t.Errorf("an added member is a new member occupant: %s", dave.Raw)
	}
	alice.send(`<message type="groupchat" id="elsewhere" to="` + gjid(other) + `"><body>not for the room</body></message>`)
	alice.expect("the reflection", func(s *xmppclient.Stanza) bool { return s.ID() == "elsewhere" })
	bob.sync()
	for _, s := range bob.Pending() {
		if s.Child(nsAdd, "x") != nil || s.ID() == "elsewhere" {
			t.Errorf("the MUC client got what is not its room's: %s", s.Raw)
		}
	}

	// The nick is the member id, and says so (§7.12); another is refused
	// as nicks locked down are (§7.6).
	nick := bob.iq(`<iq type="get" id="rn1" to="`+gjid(group)+`"><query xmlns="`+nsDiscoInfo+`" node="x-roomuser-item"/></iq>`, "rn1")
	if id := nick.Find("{" + nsDiscoInfo + "}query/{" + nsDiscoInfo + "}identity"); id == nil || id.Attr("category") != "conference" || id.Attr("name") != "bob" {
		t.Errorf("bob's reserved nick: %s", nick.Raw)
	}
	bob.send(`<presence id="nc1" to="` + gjid(group) + `/Robert"/>`)
	nc := bob.expect("the refused nick change", func(s *xmppclient.Stanza) bool { return s.ID() == "nc1" })
	if nc.From() != gjid(group)+"/Robert" || nc.Child(nsMUC, "x") == nil {
		t.Errorf("the refusal of a nick change: %s", nc.Raw)
	}
	wantError(t, nc, "cancel", "not-acceptable", "")

	// No private messages through the group (XEP-0045 §7.5, refused as
	// Prosody's rooms refuse them).
	bob.send(`<message type="chat" id="pm1" to="` + gjid(group) + `/alice"><body>psst</body></message>`)
	wantError(t, bob.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.ID() == "pm1" }), "modify", "policy-violation", "")

	// A stranger is refused as by a members-only room (§7.2.7).
	eve := h.login(t, "eve", "muc")
	eve.send(`<presence id="e1" to="` + gjid(group) + `/eve"><x xmlns="` + nsMUC + `"/></presence>`)
	refusal := eve.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" })
	if refusal.From() != gjid(group)+"/eve" || refusal.Child(nsMUC, "x") == nil {
		t.Errorf("the refusal comes from the occupant JID asked for, echoing <x/>: %s", refusal.Raw)
	}
	wantError(t, refusal, "auth", "registration-required", "")

	// Leaving (§7.14): the self-presence, unavailable; nothing after it.
	bob.send(`<presence type="unavailable" to="` + gjid(group) + `/Bobby"/>`)
	gone := bob.expect("the exit", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "unavailable" })
	if gone.From() != gjid(group)+"/bob" || !slices.Contains(statuses(gone), "110") {
		t.Errorf("the exit is bob's own presence with 110: %s", gone.Raw)
	}
	alice.send(`<message type="groupchat" id="after" to="` + gjid(group) + `"><body>are you there?</body></message>`)
	carol.expect("the message", func(s *xmppclient.Stanza) bool { return s.ID() == "after" })
	bob.expectNone("a message after leaving", func(s *xmppclient.Stanza) bool { return s.ID() == "after" })
	// Membership stays: the group still lists bob.
	if it := itemsOf(h.login(t, "bob", "native"))[group]; it == nil || !strings.Contains(it.Attr("name"), "Coven") {
		t.Errorf("bob is still a member after leaving the room: %v", it)
	}
}
