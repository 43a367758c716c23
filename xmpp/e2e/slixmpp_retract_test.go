package e2e

import (
	"strconv"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// slixWithdrawal is a message as retract.py reports it: member.describe's
// fields, and what its <retract/> or <retracted/> says.
type slixWithdrawal struct {
	slixMessage
	Retract   *slixRetract `json:"retract"`
	Retracted *slixRetract `json:"retracted"`
}

type slixRetract struct {
	ID          string `json:"id"`
	Stamp       string `json:"stamp"`
	ModeratedBy string `json:"moderated_by"`
	Reason      string `json:"reason"`
}

// itoa is an archive id as the stanzas carry it.
func itoa(id uint64) string { return strconv.FormatUint(id, 10) }

// TestSlixmppRetractionAndModeration: slixmpp retracts its own message by
// the group's stanza-id (XEP-0424 §4) and the Go members receive the
// retraction from its occupant JID; the owner moderates another of its
// messages (XEP-0425 §4) and slixmpp receives that from the group's bare
// JID, naming the moderator's occupant JID and the reason; MAM through
// slixmpp shows both messages as tombstones in their places, without a
// body, and both retractions at their own positions (PROTOCOL.md §6.7).
func TestSlixmppRetractionAndModeration(t *testing.T) {
	alice := shared.login(t, "alice", "slix-retract")
	bob := shared.login(t, "bob", "slix-retract")
	group := groupID("slix-retract")
	createGroup(alice, group, "Retract "+group, "bob", "carol")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	const reason = "This message contains inappropriate content for this forum"
	occupant := gjid(group) + "/carol"
	finish := startSlixmpp(t, shared, "retract", "carol", "slix-retract", map[string]any{
		"group": gjid(group), "owner": alice.full(),
	})
	oops := alice.expect("oops", func(s *xmppclient.Stanza) bool { return s.ID() == "oops" && s.Type() == "groupchat" })
	spam := alice.expect("spam", func(s *xmppclient.Stanza) bool { return s.ID() == "spam" && s.Type() == "groupchat" })
	oopsID, spamID := archiveIDOf(t, oops), archiveIDOf(t, spam)
	for _, c := range []*client{alice, bob} {
		r := c.expect("the retraction", func(s *xmppclient.Stanza) bool { return s.ID() == "slix-retract" })
		if ret := r.Child(nsRetract, "retract"); ret == nil || ret.Attr("id") != itoa(oopsID) || r.From() != occupant || r.Child(nsSID, "stanza-id") == nil {
			t.Errorf("%s got the retraction as %s, want <retract id=%d/> from %s with its stanza-id", c.name, r.Raw, oopsID, occupant)
		}
	}
	alice.heard("carol", "retracted")
	res := alice.iq(`<iq type="set" id="slix-mod" to="`+gjid(group)+`"><moderate id="`+itoa(spamID)+`" xmlns="`+nsModerate+`"><retract xmlns="`+nsRetract+`"/>`+
		`<reason>`+reason+`</reason></moderate></iq>`, "slix-mod")
	if res.Type() != "result" {
		t.Fatalf("moderation: %s", res.Raw)
	}

	var got struct {
		Posted     map[string]slixMessage `json:"posted"`
		Retraction slixWithdrawal         `json:"retraction"`
		Moderation slixWithdrawal         `json:"moderation"`
		Archived   []slixWithdrawal       `json:"archived"`
	}
	finish(&got)
	if got.Posted["oops"].archiveID(t, group) != itoa(oopsID) || got.Posted["spam"].archiveID(t, group) != itoa(spamID) {
		t.Errorf("slixmpp's reflections %+v carry other stanza-ids than alice's copies (%d, %d)", got.Posted, oopsID, spamID)
	}
	retractionID := got.Retraction.archiveID(t, group)
	if r := got.Retraction; r.From != occupant || r.Retract == nil || r.Retract.ID != itoa(oopsID) {
		t.Errorf("slixmpp's retraction came back as %+v", r)
	}
	m := got.Moderation
	moderationID := m.archiveID(t, group)
	if m.From != gjid(group) || m.Type != "groupchat" || m.Retract == nil || m.Retract.ID != itoa(spamID) ||
		m.Retract.ModeratedBy != gjid(group)+"/alice" || m.Retract.Reason != reason {
		t.Errorf("slixmpp got the moderation as %+v, want from %s, retract id=%d moderated by %s/alice with the reason", m, gjid(group), spamID, gjid(group))
	}

	if len(got.Archived) != 4 {
		t.Fatalf("the archive through slixmpp holds %d messages, want 4: %+v", len(got.Archived), got.Archived)
	}
	for i, w := range []struct {
		id, aid, retractedBy string
	}{{"oops", itoa(oopsID), ""}, {"spam", itoa(spamID), gjid(group) + "/alice"}} {
		a := got.Archived[i]
		if a.ID != w.id || a.archiveID(t, group) != w.aid || a.From != occupant {
			t.Errorf("archive entry %d is %q at %v from %s, want %s at %s from %s", i, a.ID, a.StanzaIDs, a.From, w.id, w.aid, occupant)
		}
		if a.Body != "" || a.Retracted == nil || a.Retracted.Stamp == "" || a.Retracted.ModeratedBy != w.retractedBy {
			t.Errorf("archive entry %d (%s) is %+v, want a tombstone without a body, moderated by %q", i, w.id, a, w.retractedBy)
		}
	}
	if r := got.Archived[0].Retracted; r != nil && r.ID != "slix-retract" {
		t.Errorf("the tombstone of oops names the retraction %q, want its id slix-retract (XEP-0424 §5)", r.ID)
	}
	if r := got.Archived[1].Retracted; r != nil && r.Reason != reason {
		t.Errorf("the tombstone of spam gives the reason %q, want %q", r.Reason, reason)
	}
	for i, w := range []struct{ aid, names string }{{retractionID, itoa(oopsID)}, {moderationID, itoa(spamID)}} {
		a := got.Archived[2+i]
		if a.archiveID(t, group) != w.aid || a.Retract == nil || a.Retract.ID != w.names {
			t.Errorf("archive entry %d is %+v, want the retraction at %s naming %s", 2+i, a, w.aid, w.names)
		}
	}
}
