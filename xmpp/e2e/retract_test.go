package e2e

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	nsRetract  = "urn:xmpp:message-retract:1"
	nsModerate = "urn:xmpp:message-moderate:1"
)

// TestRetractAndModerate withdraws messages as XEP-0424 (by their sender)
// and XEP-0425 (by the owner) describe: every member is told, the archive
// keeps a tombstone in the message's place and the retraction itself, a
// member without the role is refused, and the audit trail names who
// withdrew what.
func TestRetractAndModerate(t *testing.T) {
	h := privateHarness(t)
	alice := h.login(t, "alice", "pda")
	bob := h.login(t, "bob", "pda")
	carol := h.login(t, "carol", "pda")
	group := groupID("retract")
	createGroup(alice, group, "Retract "+group, "bob", "carol")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	carol.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	isMessage := func(id string) func(*xmppclient.Stanza) bool {
		return func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id && s.Type() != "error" }
	}
	stanzaID := map[string]string{}
	for _, id := range []string{"oops", "spam"} {
		bob.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + id + `</body></message>`)
		m := carol.expect("bob's "+id, isMessage(id))
		stanzaID[id] = strconv.FormatUint(archiveIDOf(t, m), 10)
	}
	bob.expect("the reflection of spam", isMessage("spam"))

	// XEP-0424 §4: bob retracts his message, naming the group's stanza-id.
	bob.send(`<message type="groupchat" id="retract-1" to="` + gjid(group) + `">` +
		`<retract id="` + stanzaID["oops"] + `" xmlns="` + nsRetract + `"/>` +
		`<fallback xmlns="urn:xmpp:fallback:0" for="` + nsRetract + `"/>` +
		`<body>/me retracted a previous message, but it's unsupported by your client.</body>` +
		`<store xmlns="urn:xmpp:hints"/></message>`)
	for _, c := range []*client{alice, bob, carol} {
		r := c.expect("the retraction", isMessage("retract-1"))
		if ret := r.Child(nsRetract, "retract"); ret == nil || ret.Attr("id") != stanzaID["oops"] || r.From() != gjid(group)+"/bob" {
			t.Errorf("%s got the retraction %s", c.name, r.Raw)
		}
	}

	// carol is a member: she may neither retract nor moderate bob's.
	carol.send(`<message type="groupchat" id="retract-2" to="` + gjid(group) + `"><retract id="` + stanzaID["spam"] + `" xmlns="` + nsRetract + `"/></message>`)
	wantError(t, carol.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.ID() == "retract-2" && s.Type() == "error" }), "cancel", "not-allowed", "not-allowed")
	res := carol.iq(`<iq type="set" id="mod-1" to="`+gjid(group)+`"><moderate id="`+stanzaID["spam"]+`" xmlns="`+nsModerate+`"><retract xmlns="`+nsRetract+`"/></moderate></iq>`, "mod-1")
	wantError(t, res, "auth", "forbidden", "")

	// XEP-0425 §4: the owner moderates it, with a reason.
	res = alice.iq(`<iq type="set" id="mod-2" to="`+gjid(group)+`"><moderate id="`+stanzaID["spam"]+`" xmlns="`+nsModerate+`"><retract xmlns="`+nsRetract+`"/>`+
		`<reason>This message contains inappropriate content for this forum</reason></moderate></iq>`, "mod-2")
	if res.Type() != "result" {
		t.Fatalf("moderation: %s", res.Raw)
	}
	for _, c := range []*client{alice, bob, carol} {
		m := c.expect("the moderation", func(s *xmppclient.Stanza) bool {
			return s.Is("", "message") && s.Child(nsRetract, "retract") != nil && s.Child(nsRetract, "retract").Attr("id") == stanzaID["spam"]
		})
		mod := m.Find("{" + nsRetract + "}retract/{" + nsModerate + "}moderated")
		if m.From() != gjid(group) || mod == nil || mod.Attr("by") != gjid(group)+"/alice" ||
			m.Find("{"+nsRetract+"}retract/{"+nsRetract+"}reason").Text != "This message contains inappropriate content for this forum" {
			t.Errorf("%s got the moderation %s", c.name, m.Raw)
		}
	}

	// The archive: tombstones in place of both messages, and the
	// retractions themselves.
	var shown []string
	for _, m := range mamAll(t, carol, group) {
		switch {
		case m.Child(nsRetract, "retracted") != nil:
			if m.Child("", "body") != nil {
				t.Errorf("a tombstone still shows the body: %s", m.String())
			}
			what := "retracted"
			if m.Child(nsRetract, "retracted").Child(nsModerate, "moderated") != nil {
				what = "moderated"
			}
			shown = append(shown, m.ID()+" "+what)
		case m.Child(nsRetract, "retract") != nil:
			shown = append(shown, "retraction of "+m.Child(nsRetract, "retract").Attr("id"))
		default:
			shown = append(shown, m.ID())
		}
	}
	want := []string{"oops retracted", "spam moderated", "retraction of " + stanzaID["oops"], "retraction of " + stanzaID["spam"]}
	if strings.Join(shown, ", ") != strings.Join(want, ", ") {
		t.Errorf("the archive shows %q, want %q", shown, want)
	}
	// Retractions are not unread messages.
	if it := itemsOf(carol)[group]; it == nil || it.Attr("unread") != "2" {
		t.Errorf("carol's unread count counts the two messages only: %v", it)
	}

	out, err := groupchat(t, "audit", "--data", filepath.Join(h.dir, "data"), "--group", group, "--json")
	if err != nil {
		t.Fatalf("audit: %v\n%s", err, out)
	}
	var entries []struct{ Actor, Action, Reason string }
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("audit output: %v\n%s", err, out)
	}
	var trail []string
	for _, e := range entries {
		trail = append(trail, e.Actor+" "+e.Action)
	}
	if got := strings.Join(trail, ", "); got != "alice@"+xmppDomain+" created, bob@"+xmppDomain+" retracted, alice@"+xmppDomain+" moderated" {
		t.Errorf("the audit trail: %s", got)
	}
}
