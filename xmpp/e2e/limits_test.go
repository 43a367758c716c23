package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

func TestLimitsAreEnforcedAndOthersGoOn(t *testing.T) {
	h := privateHarness(t,
		"GROUPCHAT_MESSAGE_RATE=1", "GROUPCHAT_MESSAGE_BURST=3",
		"GROUPCHAT_MAX_STANZA_BYTES=4096", "GROUPCHAT_MAX_MEMBERS=3",
		"GROUPCHAT_MAX_STANZA_DEPTH=16", "GROUPCHAT_MAX_STANZA_ELEMENTS=100")
	alice := h.login(t, "alice", "pda")
	bob := h.login(t, "bob", "pda")
	group := groupID("limits")
	createGroup(alice, group, "Limits "+group, "bob")

	// A flood from alice: the burst passes, the rest is refused with a wait error.
	for i := 0; i < 6; i++ {
		alice.send(fmt.Sprintf(`<message type="groupchat" id="f%d" to="%s"><body>%d</body></message>`, i, gjid(group), i))
	}
	e := alice.expect("a rate-limit error", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.Type() == "error" })
	wantError(t, e, "wait", "resource-constraint", "")
	// bob is not harmed by alice's flood.
	bob.send(`<message type="groupchat" id="b1" to="` + gjid(group) + `"><body>hi</body></message>`)
	alice.expect("bob's message", func(s *xmppclient.Stanza) bool { return s.ID() == "b1" && s.Type() == "groupchat" })

	// An oversized stanza is refused with policy-violation and never fanned out.
	bob.send(`<message type="groupchat" id="huge" to="` + gjid(group) + `"><body>` + strings.Repeat("y", 8000) + `</body></message>`)
	wantError(t, bob.expect("policy-violation", func(s *xmppclient.Stanza) bool { return s.ID() == "huge" && s.Type() == "error" }), "modify", "policy-violation", "")
	alice.expectNone("the oversized message", func(s *xmppclient.Stanza) bool { return s.ID() == "huge" })

	// The member limit counts everyone.
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsAdd + `"/><item jid="carol@` + xmppDomain + `"/><item jid="dave@` + xmppDomain + `"/></presence>`)
	wantError(t, alice.expect("policy-violation for members", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" }), "modify", "policy-violation", "")

	// Deep nesting and too many elements are refused the same way.
	deep := strings.Repeat("<a>", 20) + strings.Repeat("</a>", 20)
	bob.send(`<message type="groupchat" id="deep" to="` + gjid(group) + `"><body>x</body><x xmlns="urn:example:deep">` + deep + `</x></message>`)
	wantError(t, bob.expect("policy-violation for nesting", func(s *xmppclient.Stanza) bool { return s.ID() == "deep" && s.Type() == "error" }), "modify", "policy-violation", "")
	bob.send(`<message type="groupchat" id="wide" to="` + gjid(group) + `"><body>x</body><x xmlns="urn:example:wide">` + strings.Repeat("<i/>", 150) + `</x></message>`)
	wantError(t, bob.expect("policy-violation for breadth", func(s *xmppclient.Stanza) bool { return s.ID() == "wide" && s.Type() == "error" }), "modify", "policy-violation", "")

	// A creation with more members than the limit, and one with a member
	// listed twice, store nothing.
	big := groupID("big")
	var items strings.Builder
	for _, u := range []string{"bob", "carol", "dave", "eve"} {
		items.WriteString(`<item jid="` + u + `@` + xmppDomain + `"/>`)
	}
	alice.send(`<presence to="` + gjid(big) + `"><x xmlns="` + nsCreate + `"/><properties><property name="name">big</property><property name="members">` + items.String() + `</property></properties></presence>`)
	wantError(t, alice.expect("policy-violation for a big group", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" }), "modify", "policy-violation", "")
	alice.send(`<presence to="` + gjid(big) + `"><x xmlns="` + nsCreate + `"/><properties><property name="name">dup</property><property name="members"><item jid="bob@` + xmppDomain + `"/><item jid="bob@` + xmppDomain + `/x"/></property></properties></presence>`)
	wantError(t, alice.expect("bad-request for duplicates", func(s *xmppclient.Stanza) bool { return s.Is("", "presence") && s.Type() == "error" }), "modify", "bad-request", "")
	res := alice.iq(`<iq type="get" id="nobig" to="`+gjid(big)+`"><query xmlns="`+nsGroupInfo+`"/></iq>`, "nobig")
	wantError(t, res, "cancel", "item-not-found", "not-exists")
}
