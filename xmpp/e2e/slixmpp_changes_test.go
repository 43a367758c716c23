package e2e

import (
	"strconv"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// TestSlixmppGroupChangesArePositioned: the group changes slixmpp receives
// live as a native member each carry one XEP-0359 stanza-id by the group,
// the same as the owner's copy, and chain by their previous attribute: the
// creation names none, each later change names the one before it, past a
// message between them whose position lies between theirs (PROTOCOL.md §5,
// "Detecting missed changes").
func TestSlixmppGroupChangesArePositioned(t *testing.T) {
	alice := shared.login(t, "alice", "slix-changes")
	group := groupID("slix-changes")

	finish := startSlixmpp(t, shared, "changes", "carol", "slix-changes", map[string]any{
		"group": gjid(group), "owner": alice.full(), "between": "between",
	})
	alice.heard("carol", "ready")
	createGroup(alice, group, "Changes "+group, "carol")
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsAdd + `"/><item jid="dave@` + xmppDomain + `" mid="dave"/></presence>`)
	added := alice.expect("the addition", presenceWith(group, nsAdd))
	alice.send(`<message type="groupchat" id="between" to="` + gjid(group) + `"><body>between the changes</body></message>`)
	between := alice.expect("the message", func(s *xmppclient.Stanza) bool { return s.Type() == "groupchat" && s.ID() == "between" })
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsUpdate + `"/><properties><property name="name">Renamed ` + group + `</property></properties></presence>`)
	renamed := alice.expect("the rename", presenceWith(group, nsUpdate))

	var got struct {
		Changes map[string]struct {
			From        string `json:"from"`
			Type        string `json:"type"`
			HasPrevious bool   `json:"has_previous"`
			Previous    string `json:"previous"`
			StanzaIDs   []struct {
				By string `json:"by"`
				ID string `json:"id"`
			} `json:"stanza_ids"`
		} `json:"changes"`
		Between slixMessage `json:"between"`
	}
	finish(&got)

	position := map[string]uint64{}
	for _, op := range []string{"creategroup", "addmember", "updategroup"} {
		c, ok := got.Changes[op]
		if !ok {
			t.Fatalf("slixmpp did not report the %s broadcast: %+v", op, got.Changes)
		}
		if c.From != gjid(group) || c.Type != "available" {
			t.Errorf("the %s broadcast comes from %q as %q, want the bare group JID, available", op, c.From, c.Type)
		}
		if len(c.StanzaIDs) != 1 || c.StanzaIDs[0].By != gjid(group) {
			t.Fatalf("the %s broadcast carries stanza-ids %+v, want one by %s", op, c.StanzaIDs, gjid(group))
		}
		p, err := strconv.ParseUint(c.StanzaIDs[0].ID, 10, 64)
		if err != nil {
			t.Fatalf("the %s broadcast's stanza-id %q is not a position", op, c.StanzaIDs[0].ID)
		}
		position[op] = p
	}
	if c := got.Changes["creategroup"]; c.HasPrevious {
		t.Errorf("the creation names a previous change %q: it is the group's first", c.Previous)
	}
	for _, link := range [][2]string{{"addmember", "creategroup"}, {"updategroup", "addmember"}} {
		if c := got.Changes[link[0]]; !c.HasPrevious || c.Previous != itoa(position[link[1]]) {
			t.Errorf("the %s broadcast names previous=%q, want the %s's position %d", link[0], c.Previous, link[1], position[link[1]])
		}
	}
	// The owner got the same changes at the same positions.
	for op, s := range map[string]*xmppclient.Stanza{"addmember": added, "updategroup": renamed} {
		if sid := s.Child(nsSID, "stanza-id"); sid == nil || sid.Attr("id") != itoa(position[op]) {
			t.Errorf("the owner's %s broadcast is %s, slixmpp's is at %d", op, s.Raw, position[op])
		}
	}
	m := got.Between.archiveID(t, group)
	if m != itoa(archiveIDOf(t, between)) {
		t.Errorf("the message between: slixmpp's stanza-id %s, the owner's %s", m, between.Raw)
	}
	if p, _ := strconv.ParseUint(m, 10, 64); p <= position["addmember"] || p >= position["updategroup"] {
		t.Errorf("the message between the changes is at %d, not between %d and %d", p, position["addmember"], position["updategroup"])
	}
}
