package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// Hostile input, sent as any user could, through the real server: each
// case used to make the server close the component's stream (the harness
// fails any test during which the link was re-established). Expected
// answers follow RFC 6120 and RFC 6122 as the servers apply them.

// TestAddressesTheServerRoutesAreAnswered: a group address that RFC 6122's
// nodeprep accepts (so the server routes it) but a PRECIS parser refuses
// or maps is answered from that very address, and the service goes on.
func TestAddressesTheServerRoutesAreAnswered(t *testing.T) {
	alice := shared.login(t, "alice", "hostile")
	bob := shared.login(t, "bob", "hostile")
	group := groupID("hostile-addr")
	createGroup(alice, group, "Hostile "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	for i, local := range []string{"\u2603", "\u0627\u0644\u0641", "x\u00b2"} {
		to := local + "@" + service
		id := fmt.Sprintf("addr-%d", i)
		res := alice.iq(`<iq type="get" id="`+id+`" to="`+to+`"><query xmlns="`+nsGroupInfo+`"/></iq>`, id)
		wantError(t, res, "cancel", "item-not-found", "not-exists")
		// x² is prepared to x2 by the server (NFKC); the answer comes from
		// the address as the server routed it.
		if want := strings.ReplaceAll(to, "\u00b2", "2"); res.From() != want {
			t.Errorf("the error to %q comes from %q, want %q", to, res.From(), want)
		}
	}
	alice.send(`<message type="groupchat" id="after-addr" to="` + gjid(group) + `"><body>still here</body></message>`)
	bob.expect("a message after the hostile addresses", func(s *xmppclient.Stanza) bool { return s.ID() == "after-addr" && s.Type() == "groupchat" })
}

// TestResultsAndErrorsGetNoAnswer: RFC 6120 §8.2.3 and §8.3.1: an IQ result
// or error, to any address, is never answered.
func TestResultsAndErrorsGetNoAnswer(t *testing.T) {
	alice := shared.login(t, "alice", "hostile")
	for _, st := range []string{
		`<iq type="result" id="r1" to="` + service + `"/>`,
		`<iq type="result" id="r2" to="☃@` + service + `"><query xmlns="` + nsGroupInfo + `"/></iq>`,
		`<iq type="error" id="r3" to="nosuchgroup@` + service + `"><error type="cancel"><item-not-found xmlns="` + nsStanzas + `"/></error></iq>`,
		`<message type="error" id="r4" to="nosuchgroup@` + service + `"><error type="cancel"><item-not-found xmlns="` + nsStanzas + `"/></error></message>`,
	} {
		alice.send(st)
	}
	alice.expectNone("an answer to a result or an error", func(s *xmppclient.Stanza) bool {
		return strings.HasPrefix(s.ID(), "r") && len(s.ID()) == 2
	})
}

// TestLargeHistoryIsPagedUnderTheServersLimit: messages as large as a
// client may send, several of them together over the 512 KiB the server
// accepts from a component, reach an offline member through catch-up and
// MAM in answers the server accepts.
func TestLargeHistoryIsPagedUnderTheServersLimit(t *testing.T) {
	alice := shared.login(t, "alice", "hostile")
	group := groupID("hostile-large")
	createGroup(alice, group, "Large "+group, "bob") // bob stays offline
	before := catchUpPage(alice, "", 0).Attr("position")

	// 60,000 '<' are 240,000 bytes written: under the clients' 256 KiB.
	body := strings.Repeat("<", 60000)
	const n = 3
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("large-%d", i)
		alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + strings.Repeat("&lt;", 60000) + `</body></message>`)
		r := alice.expect("the reflection of "+id, func(s *xmppclient.Stanza) bool { return s.ID() == id })
		if r.Type() != "groupchat" {
			t.Fatalf("message %s refused: %s", id, r.Raw[:min(len(r.Raw), 500)])
		}
	}

	bob := shared.login(t, "bob", "hostile")
	got, after := 0, before
	for page := 0; page < 10 && got < n; page++ {
		q := catchUpPage(bob, after, 100)
		for _, f := range q.ChildrenNamed("urn:xmpp:forward:0", "forwarded") {
			inner, _ := forwardedStanza(t, f)
			if b := inner.Child("jabber:client", "body"); b != nil && inner.Attr("from") == gjid(group)+"/alice" {
				if b.Text != body {
					t.Fatalf("a large message came back changed (%d bytes)", len(b.Text))
				}
				got++
			}
		}
		last := q.Child(nsRSM, "set").Child(nsRSM, "last")
		if last == nil {
			break
		}
		after = last.Text
	}
	if got != n {
		t.Fatalf("catch-up gave %d of %d large messages", got, n)
	}
	if ms := mamAll(t, bob, group); len(ms) < n {
		t.Fatalf("MAM gave %d messages, want at least %d", len(ms), n)
	}
}

// TestLookAlikeMemberIDsAreRefused: member ids become occupant addresses;
// ids the server would prepare into the same address (a no-break space and
// a space, fullwidth and plain letters) conflict, invisible ones are bad
// requests, and a symbol or a right-to-left id works end to end.
func TestLookAlikeMemberIDsAreRefused(t *testing.T) {
	alice := shared.login(t, "alice", "hostile")
	carol := shared.login(t, "carol", "hostile")
	group := groupID("hostile-mid")
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsCreate + `"/><properties><property name="name">Mids</property></properties>` +
		`<item jid="bob@` + xmppDomain + `" mid="a b"/></presence>`)
	alice.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	add := func(mid string) *xmppclient.Stanza {
		alice.send(`<presence to="` + gjid(group) + `" id="add"><x xmlns="` + nsAdd + `"/><item jid="carol@` + xmppDomain + `" mid="` + mid + `"/></presence>`)
		return alice.expect("the answer to adding carol as "+mid, func(s *xmppclient.Stanza) bool {
			return s.Is("", "presence") && s.Child(nsAdd, "x") != nil
		})
	}
	for _, tt := range []struct{ mid, condition string }{
		{"a\u00a0b", "conflict"},      // no-break space: the same address as "a b"
		{"\uff41 \uff42", "conflict"}, // fullwidth letters: the same address as "a b"
		{"\u200b", "bad-request"},     // zero-width space: no address at all
		{"x\u200dy", "bad-request"},   // a joiner the server would drop
		{"a\u202eb", "bad-request"},   // a right-to-left override
	} {
		res := add(tt.mid)
		wantError(t, res, errType(tt.condition), tt.condition, "")
	}
	if res := add("\u2603"); res.Type() == "error" {
		t.Fatalf("a snowman is a valid member id: %s", res.Raw)
	}
	carol.expect("carol's addmember broadcast", presenceWith(group, nsAdd))
	carol.send(`<message type="groupchat" id="snow" to="` + gjid(group) + `"><body>☃</body></message>`)
	m := alice.expect("carol's message", func(s *xmppclient.Stanza) bool { return s.ID() == "snow" && s.Type() == "groupchat" })
	if m.From() != gjid(group)+"/\u2603" {
		t.Fatalf("carol's message comes from %q", m.From())
	}
}

// TestRoomsWithHostileNicks: a member enters its group's room (XEP-0045
// §7.2) with nicks the server routes (RFC 6122 resourceprep) that are hard
// to write back: each entry gets the self-presence from the member's own
// occupant JID (its member id, PROTOCOL.md §11.1), a nick change to the
// hard nick the refusal of §7.6 from the address as the server prepared
// it, and a room that cannot be a group a jid-malformed from the occupant
// JID asked for (§11.5). The room goes on: its other occupant gets what
// is said afterwards, and the link holds (the harness checks).
func TestRoomsWithHostileNicks(t *testing.T) {
	alice := shared.login(t, "alice", "hostile-nick")
	group := groupID("hostile-nick")
	// bob's member id is "ab": nicks the server prepares to "ab" are his
	// own occupant JID.
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsCreate + `"/><properties><property name="name">Nicks</property></properties>` +
		`<item jid="bob@` + xmppDomain + `" mid="ab"/><item jid="carol@` + xmppDomain + `" mid="carol"/></presence>`)
	alice.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	carol := shared.login(t, "carol", "hostile-nick-muc")
	enterRoom(carol, group, "carol")
	carol.drain()
	bob := shared.login(t, "bob", "hostile-nick-muc")
	own := gjid(group) + "/ab"

	long := strings.Repeat("\u00e9", 511) + "n" // 1,023 bytes, the most a resource may have
	for i, tt := range []struct {
		name, room, nick string
		// routed is the nick as the server prepares it.
		routed string
		// refused is the condition of a refused entry, or "" for an entry.
		refused string
	}{
		{name: "a symbol", nick: "\u2603", routed: "\u2603"},
		{name: "right-to-left", nick: "\u0627\u0644\u0641", routed: "\u0627\u0644\u0641"},
		{name: "a zero-width joiner inside", nick: "a\u200db", routed: "ab"}, // mapped to nothing
		{name: "a no-break space", nick: "a\u00a0b", routed: "a b"},          // NFKC: a space
		{name: "1,023 bytes", nick: long, routed: long},
		{name: "fullwidth letters", nick: "\uff41\uff42", routed: "ab"}, // NFKC
		{name: "a room that cannot be a group (257 bytes)", room: strings.Repeat("r", 257), nick: long, routed: long, refused: "jid-malformed"},
	} {
		room := gjid(group)
		if tt.room != "" {
			room = tt.room + "@" + service
		}
		join := fmt.Sprintf("join-%d", i)
		bob.send(`<presence id="` + join + `" to="` + room + `/` + tt.nick + `"><x xmlns="` + nsMUC + `"><history maxstanzas="0"/></x></presence>`)
		self := bob.expect("the answer to entering with "+tt.name, func(s *xmppclient.Stanza) bool {
			return s.Is("", "presence") && (s.Type() == "error" || slices.Contains(statuses(s), "110"))
		})
		if tt.refused != "" {
			if self.From() != room+"/"+tt.routed || self.Child(nsMUC, "x") == nil {
				t.Errorf("%s: the refusal comes from the occupant JID asked for, echoing <x/>: %.300s", tt.name, self.Raw)
			}
			wantError(t, self, "modify", tt.refused, "")
			continue
		}
		if self.Type() == "error" {
			t.Fatalf("%s: a member's entry is refused: %.300s", tt.name, self.Raw)
		}
		got := statuses(self)
		if self.From() != own || self.ID() != join || !slices.Contains(got, "100") ||
			slices.Contains(got, "210") != (tt.routed != "ab") {
			t.Errorf("%s: want the self-presence from %s, id %s, with 100, 110 and 210 only for another nick than ab; got %v in %.300s",
				tt.name, own, join, got, self.Raw)
		}
		subject := bob.expect("the subject", func(s *xmppclient.Stanza) bool { return s.Child("", "subject") != nil })
		if subject.From() != gjid(group) || subject.ChildText("", "subject") != "Nicks" {
			t.Errorf("%s: the subject is the group's name, from the room: %s", tt.name, subject.Raw)
		}

		// A nick change (§7.6) to the hard nick: refused from it unless
		// the server made it bob's own nick, when it is a status and gets
		// no answer. The reserved nick, asked next of the same group,
		// comes after any answer.
		change, reserved := fmt.Sprintf("nick-%d", i), fmt.Sprintf("rn-%d", i)
		bob.send(`<presence id="` + change + `" to="` + room + `/` + tt.nick + `"/>`)
		rn := bob.iq(`<iq type="get" id="`+reserved+`" to="`+room+`"><query xmlns="`+nsDiscoInfo+`" node="x-roomuser-item"/></iq>`, reserved)
		if id := rn.Find("{" + nsDiscoInfo + "}query/{" + nsDiscoInfo + "}identity"); id == nil || id.Attr("name") != "ab" {
			t.Errorf("%s: bob's reserved nick: %s", tt.name, rn.Raw)
		}
		var refusal *xmppclient.Stanza
		for _, s := range bob.Pending() {
			if s.ID() == change {
				refusal = s
			}
		}
		switch {
		case tt.routed == "ab" && refusal != nil:
			t.Errorf("%s: a presence to one's own occupant JID is not answered: %s", tt.name, refusal.Raw)
		case tt.routed != "ab" && refusal == nil:
			t.Errorf("%s: no answer to a nick change", tt.name)
		case tt.routed != "ab":
			if refusal.From() != room+"/"+tt.routed || refusal.Child(nsMUC, "x") == nil {
				t.Errorf("%s: the refusal comes from the nick asked for, echoing <x/>: %.300s", tt.name, refusal.Raw)
			}
			wantError(t, refusal, "cancel", "not-acceptable", "")
		}

		// Leaving (§7.14) from the occupant JID the room gave.
		bob.send(`<presence type="unavailable" to="` + own + `"/>`)
		gone := bob.expect("the exit", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "unavailable" })
		if gone.From() != own || !slices.Contains(statuses(gone), "110") {
			t.Errorf("%s: the exit is bob's own presence with 110: %s", tt.name, gone.Raw)
		}
		bob.drain()
	}

	// Others see nothing of an entry or an exit (§11.1); what bob says
	// reaches the room's other occupant.
	carol.expectNone("bob's entries", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.From() == own })
	bob.send(`<message type="groupchat" id="after-nicks" to="` + gjid(group) + `"><body>still here</body></message>`)
	m := carol.expect("bob's message", func(s *xmppclient.Stanza) bool { return s.ID() == "after-nicks" })
	if m.Type() != "groupchat" || m.From() != own {
		t.Errorf("the occupant gets bob's message from his occupant JID: %s", m.Raw)
	}
}

func errType(condition string) string {
	if condition == "conflict" {
		return "cancel"
	}
	return "modify"
}
