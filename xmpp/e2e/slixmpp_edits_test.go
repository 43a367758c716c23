package e2e

import (
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	nsCorrect   = "urn:xmpp:message-correct:0"
	nsReactions = "urn:xmpp:reactions:0"
)

// TestSlixmppCorrectionsAndReactionsAreNotUnread: a correction from
// slixmpp's xep_0308 (mentioning bob) and a reaction from its xep_0444 are
// stored like any message (a stanza-id, delivered to every member, in
// MAM) but are not new to anyone: the unread counts hold the original
// only, and the correction's mention does not count (PROTOCOL.md §6.6).
func TestSlixmppCorrectionsAndReactionsAreNotUnread(t *testing.T) {
	alice := shared.login(t, "alice", "slix-edit")
	bob := shared.login(t, "bob", "slix-edit")
	group := groupID("slix-edit")
	createGroup(alice, group, "Edits "+group, "bob", "carol")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	var got struct {
		Original   slixMessage   `json:"original"`
		Correction slixMessage   `json:"correction"`
		Reaction   slixMessage   `json:"reaction"`
		Archived   []slixMessage `json:"archived"`
	}
	runSlixmpp(t, shared, "edits", "carol", "slix-edit", map[string]any{"group": gjid(group), "mention": "bob@" + xmppDomain}, &got)

	aid := got.Original.archiveID(t, group)
	if !got.Correction.has(nsCorrect, "replace") || got.Correction.archiveID(t, group) == "" {
		t.Errorf("the correction's reflection: %+v, want <replace/> and a stanza-id", got.Correction)
	}
	if !got.Reaction.has(nsReactions, "reactions") || got.Reaction.archiveID(t, group) == "" {
		t.Errorf("the reaction's reflection: %+v, want <reactions/> and a stanza-id", got.Reaction)
	}
	var archived []string
	for _, m := range got.Archived {
		archived = append(archived, m.ID)
	}
	if want := []string{got.Original.ID, got.Correction.ID, got.Reaction.ID}; len(archived) != 3 || archived[0] != want[0] || archived[1] != want[1] || archived[2] != want[2] {
		t.Errorf("the archive through slixmpp holds %v, want %v", archived, want)
	}

	for _, c := range []*client{alice, bob} {
		cor := c.expect("the correction", func(s *xmppclient.Stanza) bool { return s.ID() == got.Correction.ID })
		if r := cor.Child(nsCorrect, "replace"); r == nil || r.Attr("id") != got.Original.ID {
			t.Errorf("%s got the correction as %s, want <replace id=%q/>", c.name, cor.Raw, got.Original.ID)
		}
		re := c.expect("the reaction", func(s *xmppclient.Stanza) bool { return s.ID() == got.Reaction.ID })
		if r := re.Child(nsReactions, "reactions"); r == nil || r.Attr("id") != aid || r.ChildText("", "reaction") != "👍" {
			t.Errorf("%s got the reaction as %s, want reactions id=%s", c.name, re.Raw, aid)
		}
		if it := itemsOf(c)[group]; it == nil || it.Attr("unread") != "1" || it.Attr("mentions") != "0" {
			t.Errorf("%s's #items entry: %v, want unread 1 (the original), mentions 0", c.name, it)
		}
	}
}
