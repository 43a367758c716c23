package service_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/replay"
	"github.com/uuchat/groupchat/xmpp/presence"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/readmodel"
	"github.com/uuchat/groupchat/xmpp/service"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

const (
	trustAlice   = "alice@example.test/phone"
	trustBob     = "bob@example.test/pda"
	trustCarol   = "carol@example.test/tablet"
	trustMallory = "mallory@example.test/evil"
	trustGroup   = "coven@" + benchDomain
)

// first returns the first outgoing stanza match accepts, whoever it is
// addressed to, skipping others.
func (o *outbox) first(t *testing.T, what string, match func(*xmlnode.Node) bool) *xmlnode.Node {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case n := <-o.ch:
			if match(n) {
				return n
			}
		case <-deadline:
			t.Fatalf("no %s", what)
			return nil
		}
	}
}

// covenOf creates trustGroup owned by alice with the other full JIDs as
// members, each online; it returns once every member has the broadcast.
func covenOf(t *testing.T, svc *service.Service, out *outbox, members ...string) {
	t.Helper()
	items := ""
	for _, m := range append([]string{trustAlice}, members...) {
		handle(t, svc, `<presence from="`+m+`" to="`+benchDomain+`"/>`)
		if m != trustAlice {
			items += `<item jid="` + m + `"/>`
		}
	}
	handle(t, svc, `<presence from="`+trustAlice+`" to="`+trustGroup+`"><x xmlns="`+protocol.NSCreate+`"/>`+
		`<properties><property name="name">Coven</property><property name="members">`+items+`</property></properties></presence>`)
	for _, m := range append([]string{trustAlice}, members...) {
		out.next(t, m, "the creategroup broadcast", func(n *xmlnode.Node) bool {
			return n.Name.Local == "presence" && n.ChildNS(protocol.NSCreate) != nil
		})
	}
}

// postAs posts a message with a client id and returns its archive id.
func postAs(t *testing.T, svc *service.Service, out *outbox, from, id string) string {
	t.Helper()
	handle(t, svc, `<message from="`+from+`" to="`+trustGroup+`" type="groupchat" id="`+id+`"><body>`+id+`</body></message>`)
	refl := out.next(t, from, "the reflection of "+id, func(n *xmlnode.Node) bool {
		return n.Name.Local == "message" && n.Attr("id") == id && n.Attr("type") == "groupchat"
	})
	sid := refl.Child(protocol.NSSID, "stanza-id")
	if sid == nil {
		t.Fatalf("the reflection of %s has no archive id", id)
	}
	return sid.Attr("id")
}

// TestReceiptsAndReadersNameTheGenuineMessage: a client id is only the
// sender's, an archive id is the group's. mallory, a member, reuses alice's
// client id after seeing it, and takes alice's archive id as a client id;
// neither redirects a receipt or a #readers query to mallory's messages.
func TestReceiptsAndReadersNameTheGenuineMessage(t *testing.T) {
	svc, _, out := liveService(t)
	covenOf(t, svc, out, trustBob, trustCarol, trustMallory)
	genuine := postAs(t, svc, out, trustAlice, "dup")
	postAs(t, svc, out, trustMallory, "dup")
	postAs(t, svc, out, trustMallory, genuine)
	postAs(t, svc, out, trustMallory, "mine")

	isReceipt := func(n *xmlnode.Node) bool {
		return n.Name.Local == "message" && n.Child(protocol.NSChatStates, "read") != nil
	}
	for _, tt := range []struct {
		name, reader, id string
		// wantTo is whose resource gets the receipt; wantID how it names
		// the message.
		wantTo, wantID string
	}{
		{"by a client id another member reused", trustBob, "dup", trustAlice, "dup"},
		{"by an archive id another member took as client id", trustCarol, genuine, trustAlice, "dup"},
		{"by a client id used once", trustBob, "mine", trustMallory, "mine"},
	} {
		t.Run("receipt "+tt.name, func(t *testing.T) {
			handle(t, svc, `<message from="`+tt.reader+`" to="`+trustGroup+`" type="groupchat"><read xmlns="`+protocol.NSChatStates+`" id="`+tt.id+`"/></message>`)
			r := out.first(t, "the receipt", isReceipt)
			if r.Attr("to") != tt.wantTo || r.Child(protocol.NSChatStates, "read").Attr("id") != tt.wantID {
				t.Fatalf("the receipt of %s went to %s naming %q, want %s naming %q",
					tt.id, r.Attr("to"), r.Child(protocol.NSChatStates, "read").Attr("id"), tt.wantTo, tt.wantID)
			}
		})
	}

	for _, tt := range []struct {
		name, asker, id string
		// wantCondition is the error's, or "" for a result listing wantRead.
		wantCondition string
		wantRead      []string
	}{
		{"the sender by its client id, reused by another", trustAlice, "dup", "", []string{"bob@example.test", "carol@example.test"}},
		{"the sender by the archive id", trustAlice, genuine, "", []string{"bob@example.test", "carol@example.test"}},
		// bob has read up to "mine", carol only up to alice's "dup".
		{"the reuser by the same client id: its own message", trustMallory, "dup", "", []string{"bob@example.test"}},
		{"the reuser by the archive id it took as client id", trustMallory, genuine, "not-allowed", nil},
		{"a client id only another sender used", trustBob, "mine", "item-not-found", nil},
	} {
		t.Run("readers "+tt.name, func(t *testing.T) {
			handle(t, svc, `<iq from="`+tt.asker+`" to="`+trustGroup+`" type="get" id="rd"><query xmlns="`+protocol.NSReaders+`" id="`+tt.id+`"/></iq>`)
			res := out.next(t, tt.asker, "the #readers answer", func(n *xmlnode.Node) bool { return n.Name.Local == "iq" && n.Attr("id") == "rd" })
			if tt.wantCondition != "" {
				if e := res.Child("", "error"); res.Attr("type") != "error" || e == nil || e.Child(protocol.NSStanzas, tt.wantCondition) == nil {
					t.Fatalf("want <%s/>, got %s", tt.wantCondition, res)
				}
				return
			}
			q := res.Child(protocol.NSReaders, "query")
			if res.Attr("type") != "result" || q == nil {
				t.Fatalf("want a result, got %s", res)
			}
			var read []string
			for _, r := range q.ChildrenNamed("", "read") {
				read = append(read, r.Attr("jid"))
			}
			if !slices.Equal(read, tt.wantRead) {
				t.Fatalf("read by %v, want %v: %s", read, tt.wantRead, res)
			}
		})
	}
}

// TestOnlyDeliveryErrorsMarkOffline: an error stanza from a resource marks
// it offline only when it is a delivery error (from the full JID, with a
// condition on which Prosody's MUC removes an occupant); nothing else does,
// and no error is answered.
func TestOnlyDeliveryErrorsMarkOffline(t *testing.T) {
	online := presence.NewTracker()
	svc, _, out := liveServiceTracking(t, service.Config{Domain: benchDomain, Limits: domain.DefaultLimits()}, online)
	covenOf(t, svc, out, trustBob)
	const bobBare = "bob@example.test"
	errorWith := func(cond string) string {
		return `<error type="cancel"><` + cond + ` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`
	}
	for _, tt := range []struct {
		name, stanza string
		wantOnline   bool
	}{
		{"message: recipient-unavailable", `<message from="` + trustBob + `" to="` + trustGroup + `" type="error" id="e1">` + errorWith("recipient-unavailable") + `</message>`, false},
		{"message: service-unavailable, as a server bounces groupchat to a gone resource", `<message from="` + trustBob + `" to="` + trustGroup + `" type="error" id="e2">` + errorWith("service-unavailable") + `</message>`, false},
		{"presence: remote-server-timeout", `<presence from="` + trustBob + `" to="` + benchDomain + `" type="error">` + errorWith("remote-server-timeout") + `</presence>`, false},
		{"message: no error element", `<message from="` + trustBob + `" to="` + trustGroup + `" type="error" id="e3"/>`, false},
		{"message: not-acceptable from a client", `<message from="` + trustBob + `" to="` + trustGroup + `" type="error" id="e4">` + errorWith("not-acceptable") + `</message>`, true},
		{"message: feature-not-implemented", `<message from="` + trustBob + `" to="` + trustGroup + `" type="error" id="e5">` + errorWith("feature-not-implemented") + `</message>`, true},
		{"presence: policy-violation", `<presence from="` + trustBob + `" to="` + trustGroup + `" type="error">` + errorWith("policy-violation") + `</presence>`, true},
		{"message: resource-constraint", `<message from="` + trustBob + `" to="` + trustGroup + `" type="error" id="e6">` + errorWith("resource-constraint") + `</message>`, true},
		{"message: a defined condition missing", `<message from="` + trustBob + `" to="` + trustGroup + `" type="error" id="e7"><error type="cancel"/></message>`, true},
		{"message: gone, from the bare JID", `<message from="` + bobBare + `" to="` + trustGroup + `" type="error" id="e8">` + errorWith("gone") + `</message>`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			handle(t, svc, `<presence from="`+trustBob+`" to="`+benchDomain+`"/>`)
			if got := online.Resources(nil, bobBare); !slices.Equal(got, []string{trustBob}) {
				t.Fatalf("before the error bob's resources are %v", got)
			}
			handle(t, svc, tt.stanza)
			if got := online.Resources(nil, bobBare); slices.Contains(got, trustBob) != tt.wantOnline {
				t.Errorf("after the error bob's resources are %v; want online %v", got, tt.wantOnline)
			}
		})
	}
	// No error was answered: the next stanza to bob answers his ping.
	handle(t, svc, `<iq from="`+trustBob+`" to="`+benchDomain+`" type="get" id="ping"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if n := out.next(t, trustBob, "an answer", func(*xmlnode.Node) bool { return true }); n.Attr("id") != "ping" {
		t.Errorf("an error was answered: %s", n)
	}
}

// TestOnlyMembersResourcesAreTracked: a user in no group is not among the
// online resources the service saves and broadcasts to, whatever it sends;
// a group that counts it in (created with it, or adding it) makes its
// resources online before that broadcast, so it receives it, and leaving
// its last group takes them out again, after the broadcast of the removal.
func TestOnlyMembersResourcesAreTracked(t *testing.T) {
	online := presence.NewTracker()
	svc, store, out := liveServiceTracking(t, service.Config{Domain: benchDomain, Limits: domain.DefaultLimits()}, online)
	saved := func(full string) bool {
		fulls, _ := online.Snapshot()
		return slices.Contains(fulls, full)
	}
	isPresence := func(ns string) func(*xmlnode.Node) bool {
		return func(n *xmlnode.Node) bool { return n.Name.Local == "presence" && n.ChildNS(ns) != nil }
	}

	// Before any group: presence and requests of non-members are not kept.
	handle(t, svc, `<presence from="`+trustAlice+`" to="`+benchDomain+`"/>`)
	handle(t, svc, `<presence from="`+trustBob+`" to="`+benchDomain+`"/>`)
	handle(t, svc, `<iq from="`+trustMallory+`" to="`+benchDomain+`" type="get" id="p"><ping xmlns="urn:xmpp:ping"/></iq>`)
	out.next(t, trustMallory, "the ping's answer", func(n *xmlnode.Node) bool { return n.Attr("id") == "p" })
	for _, full := range []string{trustAlice, trustBob, trustMallory} {
		if saved(full) {
			t.Errorf("%s is tracked while a member of no group", full)
		}
	}

	// Created with bob: both get the broadcast and are online now.
	handle(t, svc, `<presence from="`+trustAlice+`" to="`+trustGroup+`"><x xmlns="`+protocol.NSCreate+`"/>`+
		`<properties><property name="name">Coven</property><property name="members"><item jid="`+trustBob+`"/></property></properties></presence>`)
	for _, full := range []string{trustAlice, trustBob} {
		out.next(t, full, "the creategroup broadcast", isPresence(protocol.NSCreate))
		if !saved(full) {
			t.Errorf("%s is not online as a member", full)
		}
	}

	// carol, online before she is added, gets the addition and what follows.
	handle(t, svc, `<presence from="`+trustCarol+`" to="`+benchDomain+`"/>`)
	handle(t, svc, `<presence from="`+trustAlice+`" to="`+trustGroup+`"><x xmlns="`+protocol.NSAdd+`"/><item jid="`+trustCarol+`"/></presence>`)
	out.next(t, trustCarol, "the addmember broadcast", isPresence(protocol.NSAdd))
	postAs(t, svc, out, trustAlice, "welcome")
	out.next(t, trustCarol, "a message after being added", func(n *xmlnode.Node) bool { return n.Attr("id") == "welcome" })

	// carol leaves her only group: told, then no longer tracked.
	handle(t, svc, `<presence from="`+trustCarol+`" to="`+trustGroup+`"><x xmlns="`+protocol.NSRemove+`"/><item jid="`+trustCarol+`"/></presence>`)
	out.next(t, trustCarol, "the removemember broadcast", isPresence(protocol.NSRemove))
	// Broadcasts go in log order: once the next message is reflected, the
	// removal is done with.
	postAs(t, svc, out, trustAlice, "after-leaving")
	if saved(trustCarol) {
		t.Errorf("%s is still tracked after leaving her last group", trustCarol)
	}
	// mallory, never a member, was never made online by anything.
	if saved(trustMallory) || online.IsOnline("mallory@example.test") {
		t.Errorf("%s became online", trustMallory)
	}

	// After a restart, the projections count the memberships again: of
	// the resources saved before, those of members are online again.
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "projections.db")
	if _, err := replay.Rebuild(ctx, store, path, nil); err != nil {
		t.Fatal(err)
	}
	proj, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer proj.Close()
	restarted := presence.NewTracker()
	again := service.New(service.Config{Domain: benchDomain, Limits: domain.DefaultLimits()}, store, readmodel.ReadModel{DB: proj}, restarted, slog.New(slog.DiscardHandler))
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	all := []string{trustAlice, trustBob, trustCarol, trustMallory}
	restarted.Restore(all)
	if got, _ := restarted.Snapshot(); !slices.Equal(got, []string{trustAlice, trustBob}) {
		t.Errorf("after loading the log the online resources are %v, want alice's and bob's", got)
	}
}
