package e2e

import (
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// change is where a group presence places its change: its archive id and
// the group's previous change.
type change struct{ id, previous string }

func changeOf(t *testing.T, s *xmppclient.Stanza, ns string) change {
	t.Helper()
	x, sid := s.Child(ns, "x"), s.Child(nsSID, "stanza-id")
	if x == nil || sid == nil || sid.Attr("id") == "" {
		t.Fatalf("a group change carries its <x/> and stanza-id: %s", s.Raw)
	}
	if sid.Attr("by") != s.Attr("from") {
		t.Errorf("stanza-id by %q, want the group %q", sid.Attr("by"), s.Attr("from"))
	}
	return change{sid.Attr("id"), x.Attr("previous")}
}

// TestMissedChangeIsDetected: the group changes a member receives chain by
// their previous positions, past the messages between them; a member that
// misses one (as a phone under ejabberd's client state indication does,
// which keeps only the last presence from the group) sees from the next
// one's previous that it did, and its catch-up from the last change it
// holds returns the missed change, placed in the chain as it was broadcast.
func TestMissedChangeIsDetected(t *testing.T) {
	alice := shared.login(t, "alice", "pda")
	bob := shared.login(t, "bob", "phone")
	group := groupID("chain")
	createGroup(alice, group, "Chain "+group, "bob")
	created := changeOf(t, bob.expect("the creation", presenceWith(group, nsCreate)), nsCreate)
	if created.previous != "" {
		t.Errorf("a creation names no previous change, got %q", created.previous)
	}

	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsAdd + `"/><item jid="carol@` + xmppDomain + `" mid="carol"/></presence>`)
	added := changeOf(t, bob.expect("the addition", presenceWith(group, nsAdd)), nsAdd)
	alice.send(`<message type="groupchat" id="between" to="` + gjid(group) + `"><body>between the changes</body></message>`)
	bob.expect("the message", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "between" })
	alice.send(`<presence id="ren-chain" to="` + gjid(group) + `"><x xmlns="` + nsUpdate + `"/><properties><property name="name">Renamed ` + group + `</property></properties></presence>`)
	// The test reads the rename to check the chain; bob's phone, as if it
	// were dropped, never holds it.
	renamed := changeOf(t, bob.expect("the rename", presenceWith(group, nsUpdate)), nsUpdate)
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsRemove + `"/><item jid="carol@` + xmppDomain + `"/></presence>`)
	removed := changeOf(t, bob.expect("the removal", presenceWith(group, nsRemove)), nsRemove)

	// The chain, live.
	if added.previous != created.id || renamed.previous != added.id || removed.previous != renamed.id {
		t.Fatalf("the changes do not chain: created %+v, added %+v, renamed %+v, removed %+v", created, added, renamed, removed)
	}
	// The requester's reply places the rename as its broadcast does.
	reply := alice.expect("the rename's reply", func(s *xmppclient.Stanza) bool {
		return presenceWith(group, nsUpdate)(s) && s.ID() == "ren-chain"
	})
	if got := changeOf(t, reply, nsUpdate); got != renamed {
		t.Errorf("the reply places the rename at %+v, the broadcast at %+v", got, renamed)
	}

	// bob holds the addition; the removal names another previous change.
	held := added
	if removed.previous == held.id {
		t.Fatalf("the removal names the held change %s: the hole is not visible", held.id)
	}
	page := catchUpPage(bob, held.id, 100)
	var caught []change
	for _, f := range page.ChildrenNamed(nsForward, "forwarded") {
		s, _ := forwardedStanza(t, f)
		if s.Name.Local != "presence" || s.Attr("from") != gjid(group) {
			continue
		}
		for _, ns := range []string{nsUpdate, nsRemove} {
			if s.Child(ns, "x") != nil {
				caught = append(caught, changeOf(t, s, ns))
			}
		}
	}
	if want := []change{renamed, removed}; len(caught) != 2 || caught[0] != want[0] || caught[1] != want[1] {
		t.Fatalf("catch-up after %s forwarded the changes %+v, want %+v", held.id, caught, want)
	}
	if caught[0].previous != held.id {
		t.Errorf("the missed change names %s, want the held %s: the chain is whole again", caught[0].previous, held.id)
	}
}
