package e2e

import (
	"slices"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// slixOccupant is an occupant's presence as member.occupant reports it.
type slixOccupant struct {
	From        string `json:"from"`
	Type        string `json:"type"`
	Affiliation string `json:"affiliation"`
	Role        string `json:"role"`
	JID         string `json:"jid"`
	Statuses    []int  `json:"statuses"`
}

// slixEntry is what room.py reports of entering a room.
type slixEntry struct {
	Self      slixOccupant   `json:"self"`
	Occupants []slixOccupant `json:"occupants"`
	Subject   struct {
		From, Type, Subject string
	} `json:"subject"`
	History []struct {
		slixMessage
		DelayFrom string `json:"delay_from"`
	} `json:"history"`
}

// TestSlixmppEntersAGroupAsARoom: slixmpp's xep_0045 enters a group as a
// members-only, non-anonymous room (XEP-0045 §7.2) without the native
// protocol's directed presence: join_muc_wait completes, every member is
// an occupant with its affiliation and real JID, the self-presence carries
// 110, 100 and 210 (the nick asked for is not the member id), the history
// asked for and the subject (the group's name) follow. It chats with a
// native member both ways under the group's stanza-ids, a private message
// is refused (policy-violation), it leaves (§7.14), misses a message,
// and finds it in the history when it enters again; a user who is not a
// member is refused with registration-required (§7.2.7).
func TestSlixmppEntersAGroupAsARoom(t *testing.T) {
	alice := shared.login(t, "alice", "slix-room")
	bob := shared.login(t, "bob", "slix-room")
	group := groupID("slix-room")
	createGroup(alice, group, "Room "+group, "bob", "carol")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	history := map[string]string{}
	for _, id := range []string{"h1", "h2"} {
		alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + id + `</body></message>`)
		history[id] = itoa(archiveIDOf(t, alice.expect("the reflection of "+id, func(s *xmppclient.Stanza) bool {
			return s.Type() == "groupchat" && s.ID() == id
		})))
	}

	var refused struct {
		Refusal slixError `json:"refusal"`
	}
	runSlixmpp(t, shared, "room", "eve", "slix-room", map[string]any{"group": gjid(group), "nick": "eve", "stranger": true}, &refused)
	if e := refused.Refusal; e.Type != "auth" || e.Condition != "registration-required" || e.From != gjid(group)+"/eve" {
		t.Errorf("a stranger entering: %+v, want auth/registration-required from %s/eve", e, gjid(group))
	}

	finish := startSlixmpp(t, shared, "room", "carol", "slix-room", map[string]any{
		"group": gjid(group), "nick": "Carol", "native": alice.full(),
	})
	alice.heard("carol", "joined")
	alice.send(`<message type="groupchat" id="live" to="` + gjid(group) + `"><body>welcome</body></message>`)
	live := itoa(archiveIDOf(t, alice.expect("the reflection of live", func(s *xmppclient.Stanza) bool { return s.Type() == "groupchat" && s.ID() == "live" })))
	fromRoom := alice.expect("carol's message", func(s *xmppclient.Stanza) bool { return s.Type() == "groupchat" && s.ID() == "from-room" })
	if fromRoom.From() != gjid(group)+"/carol" || fromRoom.ChildText("", "body") != "hello from the room" {
		t.Errorf("alice got the room client's message as %s", fromRoom.Raw)
	}
	alice.expectNone("the private message", func(s *xmppclient.Stanza) bool { return s.ID() == "private" })
	alice.heard("carol", "left")
	alice.send(`<message type="groupchat" id="meanwhile" to="` + gjid(group) + `"><body>while you were out</body></message>`)
	meanwhile := itoa(archiveIDOf(t, alice.expect("the reflection of meanwhile", func(s *xmppclient.Stanza) bool {
		return s.Type() == "groupchat" && s.ID() == "meanwhile"
	})))
	alice.tell("carol@"+xmppDomain+"/slix-room", "posted")

	var got struct {
		Join       slixEntry    `json:"join"`
		Live       slixMessage  `json:"live"`
		Reflection slixMessage  `json:"reflection"`
		Private    slixError    `json:"private"`
		Exit       slixOccupant `json:"exit"`
		Rejoin     slixEntry    `json:"rejoin"`
	}
	finish(&got)

	self := gjid(group) + "/carol"
	for name, e := range map[string]slixEntry{"join": got.Join, "rejoin": got.Rejoin} {
		if s := e.Self; s.From != self || s.Affiliation != "member" || s.Role != "participant" || s.JID != "carol@"+xmppDomain {
			t.Errorf("%s: the self-presence %+v, want %s, member, participant, carol's real JID", name, s, self)
		}
		for _, code := range []int{100, 110, 210} {
			if !slices.Contains(e.Self.Statuses, code) {
				t.Errorf("%s: the self-presence has status codes %v, want 100, 110 and 210", name, e.Self.Statuses)
				break
			}
		}
		occupants := map[string]slixOccupant{}
		for _, o := range e.Occupants {
			occupants[o.From] = o
		}
		for _, w := range []slixOccupant{
			{From: gjid(group) + "/alice", Affiliation: "owner", Role: "moderator", JID: "alice@" + xmppDomain},
			{From: gjid(group) + "/bob", Affiliation: "member", Role: "participant", JID: "bob@" + xmppDomain},
			{From: self, Affiliation: "member", Role: "participant", JID: "carol@" + xmppDomain},
		} {
			// slixmpp reports a presence without type as "available".
			if o, ok := occupants[w.From]; !ok || o.Affiliation != w.Affiliation || o.Role != w.Role || o.JID != w.JID || o.Type != "available" {
				t.Errorf("%s: occupant %s is %+v, want available, %s, %s, real JID %s", name, w.From, o, w.Affiliation, w.Role, w.JID)
			}
		}
		if len(occupants) != 3 {
			t.Errorf("%s: occupants %+v, want the three members", name, e.Occupants)
		}
		if s := e.Subject; s.From != gjid(group) || s.Type != "groupchat" || s.Subject != "Room "+group {
			t.Errorf("%s: the subject %+v, want the group's name from %s", name, s, gjid(group))
		}
	}

	var hist []string
	for _, h := range got.Join.History {
		hist = append(hist, h.ID)
		if h.DelayFrom != gjid(group) || h.archiveID(t, group) != history[h.ID] {
			t.Errorf("history entry %+v: want a delay from %s and the stanza-id %s", h, gjid(group), history[h.ID])
		}
	}
	if !slices.Equal(hist, []string{"h1", "h2"}) {
		t.Errorf("the history on entering: %v, want h1 h2", hist)
	}
	if l := got.Live; l.From != gjid(group)+"/alice" || l.archiveID(t, group) != live {
		t.Errorf("the native member's message in the room: %+v, want from %s/alice with the stanza-id %s", l, gjid(group), live)
	}
	if r := got.Reflection; r.From != self || r.archiveID(t, group) != itoa(archiveIDOf(t, fromRoom)) {
		t.Errorf("the room client's reflection %+v and alice's copy %s carry other stanza-ids", r, fromRoom.Raw)
	}
	if p := got.Private; p.Type != "modify" || p.Condition != "policy-violation" {
		t.Errorf("the private message: %+v, want modify/policy-violation", p)
	}
	if x := got.Exit; x.From != self || x.Type != "unavailable" || !slices.Contains(x.Statuses, 110) {
		t.Errorf("the exit: %+v, want carol's own presence, unavailable, with 110", x)
	}

	var again []string
	for _, h := range got.Rejoin.History {
		again = append(again, h.ID+"@"+h.archiveID(t, group))
	}
	if want := []string{"from-room@" + itoa(archiveIDOf(t, fromRoom)), "meanwhile@" + meanwhile}; !slices.Equal(again, want) {
		t.Errorf("the history on entering again: %v, want %v", again, want)
	}
}
