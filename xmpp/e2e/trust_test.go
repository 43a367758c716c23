package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const nsMarkers = "urn:xmpp:chat-markers:0"

// signals are bodiless messages as clients send them: a signal (XEP-0085,
// XEP-0184, XEP-0333) with the envelope metadata clients add (Monal and
// Smack put an origin-id on every message; XEP-0333 sends markers in the
// message's thread; XEP-0334 hints other than store, which archives a
// signal; XEP-0203 delays). The marker names no message of the group, so
// it is a read of nothing.
var signals = []struct{ id, payload string }{
	{"s-composing", `<composing xmlns="` + nsChatStates + `"/><origin-id xmlns="` + nsSID + `" id="s-composing-o"/>`},
	{"s-displayed", `<thread>Act IV, Scene I</thread><displayed xmlns="` + nsMarkers + `" id="1"/><origin-id xmlns="` + nsSID + `" id="s-displayed-o"/>`},
	{"s-received", `<received xmlns="urn:xmpp:receipts" id="x"/><no-copy xmlns="urn:xmpp:hints"/><delay xmlns="urn:xmpp:delay" stamp="2002-09-10T23:08:25Z"/>`},
}

// TestSignalsWithEnvelopeMetadataStayLive: what is archived and counted
// is decided by content. A chat state, marker or receipt carrying an
// origin-id, a thread, a hint or a delay reaches the members live, as it
// was sent, and is neither archived nor unread.
func TestSignalsWithEnvelopeMetadataStayLive(t *testing.T) {
	alice := shared.login(t, "alice", "signals")
	bob := shared.login(t, "bob", "signals")
	group := groupID("signals")
	createGroup(alice, group, "Signals "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	for _, sg := range signals {
		alice.send(`<message type="groupchat" id="` + sg.id + `" to="` + gjid(group) + `">` + sg.payload + `</message>`)
		m := bob.expect("alice's "+sg.id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == sg.id })
		if m.From() != gjid(group)+"/alice" || m.Child(nsSID, "stanza-id") != nil {
			t.Errorf("%s comes from alice's occupant JID without an archive id: %s", sg.id, m.Raw)
		}
		if strings.Contains(sg.payload, "origin-id") && m.Child(nsSID, "origin-id") == nil {
			t.Errorf("the envelope passes through: %s", m.Raw)
		}
	}
	alice.send(`<message type="groupchat" id="real" to="` + gjid(group) + `"><body>real</body></message>`)
	bob.expect("the message", func(s *xmppclient.Stanza) bool { return s.ID() == "real" })
	if ids := mamIDs(t, bob, group); len(ids) != 1 || ids[0] != "real" {
		t.Errorf("only the message is archived, got %v", ids)
	}
	if it := itemsOf(bob)[group]; it == nil || it.Attr("unread") != "1" {
		t.Errorf("only the message is unread: %v", it)
	}
	// The seed's receipt keeps working with the same metadata.
	bob.send(`<message type="groupchat" to="` + gjid(group) + `"><thread>t</thread><read xmlns="` + nsChatStates + `" id="real"/><origin-id xmlns="` + nsSID + `" id="r-o"/></message>`)
	alice.expect("bob's receipt", func(s *xmppclient.Stanza) bool {
		r := s.Child(nsChatStates, "read")
		return s.Is("", "message") && r != nil && r.Attr("id") == "real"
	})
	if it := itemsOf(bob)[group]; it == nil || it.Attr("unread") != "0" {
		t.Errorf("the receipt with metadata is recorded: %v", it)
	}
}

// TestSignalsWithEnvelopeMetadataAreNotPushed: an offline member is
// notified of the message, not of the signals around it. grace is in no
// other test, so no resource of hers left behind counts as online.
func TestSignalsWithEnvelopeMetadataAreNotPushed(t *testing.T) {
	h := pushHarness(t)
	a := loginApp(t, h)
	a.createNode("grace-signals")
	grace := h.login(t, "grace", "signals")
	grace.enablePush("grace-signals", false)
	grace.goOffline()

	bob := h.login(t, "bob", "signals")
	group := groupID("push-signals")
	createGroup(bob, group, "Signals "+group, "grace")
	var burst string
	for _, sg := range signals {
		burst += `<message type="groupchat" id="` + sg.id + `" to="` + gjid(group) + `">` + sg.payload + `</message>`
	}
	bob.send(burst + `<message type="groupchat" id="p1" to="` + gjid(group) + `"><body>one</body></message>`)
	sender := bob.expect("the reflection of p1", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "p1" }).From()
	wantNotification(t, "the burst", a.nextPublish("grace-signals"), "1", sender, "")
}

// TestAnotherMemberCannotHijackReceiptsOrReaders: an archive id names the
// message it is the archive id of, and a client id the earliest message
// with it (for #readers: the asker's own). mallory reuses alice's client
// id after seeing it, and uses alice's archive id as a client id: bob's and
// carol's receipts still reach alice, and alice still learns who read her
// message.
func TestAnotherMemberCannotHijackReceiptsOrReaders(t *testing.T) {
	alice := shared.login(t, "alice", "hijack")
	bob := shared.login(t, "bob", "hijack")
	carol := shared.login(t, "carol", "hijack")
	mallory := shared.login(t, "mallory", "hijack")
	group := groupID("hijack")
	createGroup(alice, group, "Hijack "+group, "bob", "carol", "mallory")
	for _, c := range []*client{bob, carol, mallory} {
		c.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	}
	post := func(c *client, id string) string {
		t.Helper()
		c.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + id + `</body></message>`)
		refl := c.expect("the reflection of "+id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id })
		return strconv.FormatUint(archiveIDOf(t, refl), 10)
	}
	genuine := post(alice, "dup")
	post(mallory, "dup")
	post(mallory, genuine)

	isReceipt := func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.Child(nsChatStates, "read") != nil }
	for _, r := range []struct {
		reader *client
		id     string
	}{{bob, "dup"}, {carol, genuine}} {
		r.reader.send(`<message type="groupchat" to="` + gjid(group) + `"><read xmlns="` + nsChatStates + `" id="` + r.id + `"/></message>`)
		got := alice.expect("the receipt naming "+r.id, isReceipt)
		if got.From() != gjid(group)+"/"+r.reader.name || got.Child(nsChatStates, "read").Attr("id") != "dup" {
			t.Errorf("the receipt of %s naming %s: %s", r.reader.name, r.id, got.Raw)
		}
	}
	mallory.expectNone("a receipt meant for alice", isReceipt)

	readers := func(c *client, id string) *xmppclient.Stanza {
		t.Helper()
		qid := fmt.Sprintf("rd-%d", pingSeq.Add(1))
		return c.iq(`<iq type="get" id="`+qid+`" to="`+gjid(group)+`"><query xmlns="`+nsReaders+`" id="`+id+`"/></iq>`, qid)
	}
	for _, id := range []string{"dup", genuine} {
		res := readers(alice, id)
		if res.Type() != "result" {
			t.Fatalf("alice asking who read %s: %s", id, res.Raw)
		}
		var read []string
		for _, r := range res.Child(nsReaders, "query").ChildrenNamed("", "read") {
			read = append(read, r.Attr("jid"))
		}
		if want := []string{"bob@" + xmppDomain, "carol@" + xmppDomain}; !slices.Equal(read, want) {
			t.Errorf("alice's message %s was read by %v, want %v", id, read, want)
		}
	}
	// mallory's own "dup" is mallory's to ask about; alice's archive id is not.
	if res := readers(mallory, "dup"); res.Type() != "result" {
		t.Errorf("mallory asking about its own dup: %s", res.Raw)
	}
	wantError(t, readers(mallory, genuine), "cancel", "not-allowed", "not-allowed")
	wantError(t, readers(bob, "dup"), "cancel", "item-not-found", "not-exists")
}

// settle returns once the service has taken everything c sent before:
// the refusal of a ping to an occupant comes back on the same route, and
// a refused request does not make c online (unlike sync's ping).
func settle(c *client) {
	c.t.Helper()
	id := fmt.Sprintf("settle-%d", pingSeq.Add(1))
	if res := c.iq(`<iq type="get" id="`+id+`" to="nobody@`+service+`/x"><ping xmlns="urn:xmpp:ping"/></iq>`, id); res.Type() != "error" {
		c.t.Fatalf("the occupant ping must be refused: %s", res.Raw)
	}
}

// TestOnlyDeliveryErrorsMarkAResourceOffline: a client answering the
// service with an error it means as a refusal (not-acceptable, policy
// violation) stays online; an error that says the resource is gone
// (recipient-unavailable, as Prosody's MUC reads it) takes it offline
// until its next directed presence.
func TestOnlyDeliveryErrorsMarkAResourceOffline(t *testing.T) {
	alice := shared.login(t, "alice", "errors")
	bob := shared.login(t, "bob", "errors")
	carol := shared.login(t, "carol", "errors")
	group := groupID("errors")
	createGroup(alice, group, "Errors "+group, "bob", "carol")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	errorWith := func(cond string) string {
		return `<error type="cancel"><` + cond + ` xmlns="` + nsStanzas + `"/></error>`
	}
	isMessage := func(id string) func(*xmppclient.Stanza) bool {
		return func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id }
	}
	// post has alice post id; carol, who joined after bob, has it when it
	// returns, so whatever went to bob went before.
	post := func(id string) {
		t.Helper()
		alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + id + `</body></message>`)
		carol.expect(id, isMessage(id))
	}
	post("before")
	bob.expect("before", isMessage("before"))
	bob.send(`<message type="error" id="before" to="` + gjid(group) + `">` + errorWith("not-acceptable") + `</message>`)
	bob.send(`<presence type="error" to="` + gjid(group) + `">` + errorWith("policy-violation") + `</presence>`)
	settle(bob)
	post("after-refusals")
	bob.expect("a message after refusing one", isMessage("after-refusals"))

	bob.send(`<message type="error" id="after-refusals" to="` + gjid(group) + `">` + errorWith("recipient-unavailable") + `</message>`)
	settle(bob)
	post("while-gone")
	settle(bob)
	for _, s := range bob.Pending() {
		if isMessage("while-gone")(s) {
			t.Fatalf("bob must not receive a message after his delivery error, got %s", s.Raw)
		}
	}

	bob.send(`<presence to="` + service + `"/>`)
	settle(bob)
	post("back")
	bob.expect("a message after his presence", isMessage("back"))
}

// savedOnline is the service's saved list of online resources, empty
// before it first saved one.
func savedOnline(t *testing.T, h *harness) []string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(h.dir, "data", "online.json")); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return onlineList(t, h)
}

// TestOnlyMembersResourcesAreTracked: the service keeps (and saves) the
// online resources of members only, at most --max-resources-per-user per
// user, forgetting the least recently seen. A user in no group that is
// online is still told when a group adds it, and gets its messages from
// then on.
func TestOnlyMembersResourcesAreTracked(t *testing.T) {
	h := privateHarness(t, "GROUPCHAT_MAX_RESOURCES_PER_USER=2")
	dave := h.login(t, "dave", "laptop")
	dave.sync() // any request too
	alice := h.login(t, "alice", "desk")
	bob1 := h.login(t, "bob", "one")
	group := groupID("tracked")
	createGroup(alice, group, "Tracked "+group, "bob")
	bob1.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	waitFor(t, "the service to save alice's and bob's resources", func() bool {
		got := savedOnline(t, h)
		return slices.Contains(got, alice.full()) && slices.Contains(got, bob1.full())
	})
	if got := savedOnline(t, h); slices.Contains(got, dave.full()) {
		t.Fatalf("dave, a member of no group, is saved as online: %v", got)
	}

	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsAdd + `"/><item jid="` + dave.bare() + `"/></presence>`)
	dave.expect("the addmember broadcast", presenceWith(group, nsAdd))
	waitFor(t, "the service to save dave's resource", func() bool { return slices.Contains(savedOnline(t, h), dave.full()) })

	// bob's third resource pushes out the one he used least recently.
	bob2 := h.login(t, "bob", "two")
	bob1.sync()
	bob3 := h.login(t, "bob", "three")
	alice.send(`<message type="groupchat" id="three" to="` + gjid(group) + `"><body>who gets this?</body></message>`)
	isThree := func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "three" }
	// dave joined after bob: once he has it, bob's copies went out.
	dave.expect("the message", isThree)
	bob1.expect("the message on the resource used lately", isThree)
	bob3.expect("the message on the newest resource", isThree)
	settle(bob2)
	for _, s := range bob2.Pending() {
		if isThree(s) {
			t.Fatalf("bob's least recently seen resource must be forgotten past the limit of 2, got %s", s.Raw)
		}
	}
	waitFor(t, "the service to save bob's resources without "+bob2.full(), func() bool {
		got := savedOnline(t, h)
		return !slices.Contains(got, bob2.full()) && slices.Contains(got, bob3.full())
	})
}
