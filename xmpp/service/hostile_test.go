package service_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/presence"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/service"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

const (
	alicePhone = "alice@example.test/phone"
	bobPhone   = "bob@example.test/phone"
)

// createGroup makes alice the owner of a group with the given members and
// waits for her creategroup broadcast.
func createGroup(t *testing.T, svc *service.Service, out *outbox, group string, members ...string) {
	t.Helper()
	items := ""
	for _, m := range members {
		items += `<item jid="` + m + `"/>`
	}
	handle(t, svc, `<presence from="`+alicePhone+`" to="`+benchDomain+`"/>`)
	handle(t, svc, `<presence from="`+alicePhone+`" to="`+group+`@`+benchDomain+`"><x xmlns="`+protocol.NSCreate+`"/>`+
		`<properties><property name="name">`+group+`</property></properties>`+items+`</presence>`)
	out.next(t, alicePhone, "the creategroup broadcast", func(n *xmlnode.Node) bool {
		return n.Name.Local == "presence" && n.ChildNS(protocol.NSCreate) != nil
	})
}

// errorCondition is the defined condition of an error stanza, or "".
func errorCondition(n *xmlnode.Node) string {
	e := n.Child("", "error")
	if e == nil || n.Attr("type") != "error" {
		return ""
	}
	for _, c := range e.Children {
		if !c.IsText() && c.Name.Space == protocol.NSStanzas && c.Name.Local != "text" {
			return c.Name.Local
		}
	}
	return ""
}

// TestAddressesTheServerAcceptsAreAnsweredFromThem: Prosody and ejabberd
// route by RFC 6122 stringprep, under which a snowman or a fullwidth letter
// is a valid local part (PRECIS refuses the first and maps the second).
// The answer comes from the address asked, never from an empty or
// unprepared one (outbox fails the test on those).
func TestAddressesTheServerAcceptsAreAnsweredFromThem(t *testing.T) {
	svc, _, out := liveService(t)
	for _, tt := range []struct{ to, wantFrom string }{
		{"\u2603@" + benchDomain, "\u2603@" + benchDomain},                         // a symbol
		{"\u0627\u0644\u0641@" + benchDomain, "\u0627\u0644\u0641@" + benchDomain}, // right-to-left
		{"\u5f20\u4e09@" + benchDomain, "\u5f20\u4e09@" + benchDomain},
	} {
		id := "gi-" + strconv.Itoa(len(tt.to))
		handle(t, svc, `<iq from="`+alicePhone+`" to="`+tt.to+`" type="get" id="`+id+`"><query xmlns="`+protocol.NSGroupInfo+`"/></iq>`)
		res := out.next(t, alicePhone, "the answer to "+id, func(n *xmlnode.Node) bool { return n.Attr("id") == id })
		if res.Attr("from") != tt.wantFrom || errorCondition(res) != "item-not-found" {
			t.Errorf("to %q: got %s, want item-not-found from %q", tt.to, res, tt.wantFrom)
		}
	}
}

// TestAddressesNoServerWouldRouteAreAnsweredFromTheService: an address the
// service cannot take as its own (here written by hand; a server never
// routes it) is answered from the service's address with jid-malformed.
func TestAddressesNoServerWouldRouteAreAnsweredFromTheService(t *testing.T) {
	svc, _, out := liveService(t)
	for i, to := range []string{"a b@" + benchDomain, "x@" + benchDomain + "/\u200b", "@" + benchDomain, ""} {
		id := "bad-" + strconv.Itoa(i)
		handle(t, svc, `<iq from="`+alicePhone+`" to="`+to+`" type="get" id="`+id+`"><ping xmlns="urn:xmpp:ping"/></iq>`)
		res := out.next(t, alicePhone, "the answer to "+id, func(n *xmlnode.Node) bool { return n.Attr("id") == id })
		if res.Attr("from") != benchDomain || errorCondition(res) != "jid-malformed" {
			t.Errorf("to %q: got %s, want jid-malformed from %s", to, res, benchDomain)
		}
	}
}

// TestResultsAndErrorsAreNeverAnswered: RFC 6120 §8.2.3 and §8.3.1, for
// valid and invalid addresses alike, and for an oversized stanza.
func TestResultsAndErrorsAreNeverAnswered(t *testing.T) {
	svc, _, out := liveService(t)
	for _, st := range []string{
		`<iq from="` + alicePhone + `" to="\u2603 x@` + benchDomain + `" type="result" id="r1"/>`,
		`<iq from="` + alicePhone + `" to="g@` + benchDomain + `" type="result" id="r2"><query xmlns="` + protocol.NSGroupInfo + `"/></iq>`,
		`<iq from="` + alicePhone + `" to="` + benchDomain + `" type="error" id="r3"><ping xmlns="urn:xmpp:ping"/></iq>`,
		`<message from="` + alicePhone + `" to="a b@` + benchDomain + `" type="error" id="r4"/>`,
		`<presence from="` + alicePhone + `" to="\u200b@` + benchDomain + `" type="error" id="r5"/>`,
	} {
		handle(t, svc, st)
	}
	top, _ := xmlnode.Parse(`<iq from="`+alicePhone+`" to="`+benchDomain+`" type="result" id="r6"/>`, xmlnode.DefaultLimits())
	svc.HandleOversized(context.Background(), top, &xmlnode.LimitError{})
	// A ping answered after them shows nothing was sent for them.
	handle(t, svc, `<iq from="`+alicePhone+`" to="`+benchDomain+`" type="get" id="ping"><ping xmlns="urn:xmpp:ping"/></iq>`)
	got := out.next(t, alicePhone, "the ping's answer", func(*xmlnode.Node) bool { return true })
	if got.Attr("id") != "ping" {
		t.Fatalf("the service answered a result or an error: %s", got)
	}
}

// TestListsArePagedUnderTheStanzaLimit: a member list larger than one
// stanza may hold comes in pages, each under the limit, with an XEP-0059
// <set/>; paging on with <after/> gives every member exactly once.
func TestListsArePagedUnderTheStanzaLimit(t *testing.T) {
	const limit = 16 << 10
	svc, _, out := liveServiceWith(t, service.Config{Domain: benchDomain, Limits: domain.DefaultLimits(), MaxOutboundBytes: limit})
	var members []string
	for i := 0; i < 150; i++ {
		members = append(members, fmt.Sprintf("user%03d@example.test", i))
	}
	createGroup(t, svc, out, "big", members[:75]...)
	items := ""
	for _, m := range members[75:] {
		items += `<item jid="` + m + `" nick="` + strings.Repeat("n", 100) + `"/>`
	}
	handle(t, svc, `<presence from="`+alicePhone+`" to="big@`+benchDomain+`"><x xmlns="`+protocol.NSAdd+`"/>`+items+`</presence>`)
	out.next(t, alicePhone, "the addmember broadcast", func(n *xmlnode.Node) bool { return n.ChildNS(protocol.NSAdd) != nil })

	seen := map[string]int{}
	after := ""
	for page := 0; page < 50; page++ {
		set := ""
		if after != "" {
			set = `<set xmlns="http://jabber.org/protocol/rsm"><after>` + after + `</after></set>`
		}
		id := "m" + strconv.Itoa(page)
		handle(t, svc, `<iq from="`+alicePhone+`" to="big@`+benchDomain+`" type="get" id="`+id+`"><query xmlns="`+protocol.NSMembers+`">`+set+`</query></iq>`)
		res := out.next(t, alicePhone, "members page "+id, func(n *xmlnode.Node) bool { return n.Attr("id") == id })
		if n := len(res.String()); n > limit {
			t.Fatalf("page %d is %d bytes, over the limit %d", page, n, limit)
		}
		q := res.Child(protocol.NSMembers, "query")
		for _, it := range q.ChildrenNamed("", "item") {
			seen[it.Attr("jid")]++
		}
		rsm := q.Child(protocol.NSRSM, "set")
		if rsm == nil {
			t.Fatalf("a cut list must say so with a <set/>: %.300s", res)
		}
		if c := rsm.Child(protocol.NSRSM, "count"); c == nil || c.Text != "151" {
			t.Fatalf("count: %s", rsm)
		}
		last := rsm.Child(protocol.NSRSM, "last")
		if last == nil {
			break
		}
		after = last.Text
	}
	if len(seen) != 151 {
		t.Fatalf("paging gave %d distinct members, want 151", len(seen))
	}
	for j, n := range seen {
		if n != 1 {
			t.Fatalf("%s came %d times", j, n)
		}
	}
}

// TestCatchUpIsPagedUnderTheStanzaLimit: a few large messages no longer
// make one catch-up answer larger than the server accepts; the pages hold
// what fits and paging on reaches every message.
func TestCatchUpIsPagedUnderTheStanzaLimit(t *testing.T) {
	const limit = 100 << 10
	svc, _, out := liveServiceWith(t, service.Config{Domain: benchDomain, Limits: domain.DefaultLimits(), MaxOutboundBytes: limit})
	createGroup(t, svc, out, "large", "bob@example.test")
	body := strings.Repeat("<&>", 3000) // 9 KB of text, 39 KB written: two fit in a page
	for i := 0; i < 5; i++ {
		id := "big" + strconv.Itoa(i)
		handle(t, svc, `<message from="`+alicePhone+`" to="large@`+benchDomain+`" type="groupchat" id="`+id+`"><body>`+xmlText(body)+`</body></message>`)
		r := out.next(t, alicePhone, "the reflection of "+id, func(n *xmlnode.Node) bool { return n.Attr("id") == id })
		if r.Attr("type") != "groupchat" {
			t.Fatalf("message %s refused: %s", id, r)
		}
	}
	got := 0
	after := "0"
	for page := 0; page < 20 && got < 5; page++ {
		id := "cu" + strconv.Itoa(page)
		handle(t, svc, `<iq from="`+bobPhone+`" to="`+benchDomain+`" type="get" id="`+id+`"><query xmlns="`+protocol.NSCatchUp+`">`+
			`<set xmlns="http://jabber.org/protocol/rsm"><after>`+after+`</after></set></query></iq>`)
		res := out.next(t, bobPhone, "catch-up page "+id, func(n *xmlnode.Node) bool { return n.Attr("id") == id })
		if n := len(res.String()); n > limit {
			t.Fatalf("page %d is %d bytes, over the limit %d", page, n, limit)
		}
		q := res.Child(protocol.NSCatchUp, "query")
		if q == nil {
			t.Fatalf("no catch-up answer: %.500s", res)
		}
		for _, f := range q.ChildrenNamed(protocol.NSForward, "forwarded") {
			if m := f.Child("jabber:client", "message"); m != nil && m.Child("jabber:client", "body") != nil {
				if m.Child("jabber:client", "body").Text != body {
					t.Fatal("a message's body came back changed")
				}
				got++
			}
		}
		last := q.Child(protocol.NSRSM, "set").Child(protocol.NSRSM, "last")
		if last == nil {
			break
		}
		after = last.Text
	}
	if got != 5 {
		t.Fatalf("catch-up gave %d of 5 messages", got)
	}
}

// TestMessagesThatCouldNotBeDeliveredAreRefused: a message whose delivery
// (with its archive wrapper) would exceed the limit is refused
// policy-violation, and nothing is stored or fanned out.
func TestMessagesThatCouldNotBeDeliveredAreRefused(t *testing.T) {
	const limit = 48 << 10
	svc, _, out := liveServiceWith(t, service.Config{Domain: benchDomain, Limits: domain.DefaultLimits(), MaxOutboundBytes: limit})
	createGroup(t, svc, out, "small")
	body := strings.Repeat("&", 8<<10) // 8 KiB of text, 40 KiB written
	handle(t, svc, `<message from="`+alicePhone+`" to="small@`+benchDomain+`" type="groupchat" id="huge"><body>`+xmlText(body)+`</body></message>`)
	res := out.next(t, alicePhone, "the answer", func(n *xmlnode.Node) bool { return n.Attr("id") == "huge" })
	if errorCondition(res) != "policy-violation" {
		t.Fatalf("want policy-violation, got %s", res)
	}
}

func xmlText(s string) string {
	return string(xmlnode.AppendText(nil, s))
}

// The fuzzing user's other resources: alice's MUC client, in the room of
// the group she owns, and one that enters and leaves; a stranger whose
// question to a group after each input is answered once the group's shard
// has dealt with the input.
const (
	aliceRoom    = "alice@example.test/room"
	aliceAway    = "alice@example.test/away"
	barrier      = "zed@example.test/barrier"
	ownedGroup   = "\u2603" // a symbol: every answer from the room is from an address PRECIS refuses
	hostileCases = 17
)

// FuzzHostileStanzas feeds the service stanzas whose addresses and ids
// come from hard Unicode classes and fails on any stanza it writes that
// the server would refuse (address rules, size) or that is not
// well-formed. Cases 8 on are XEP-0045's own stanzas; with kind >= 128
// they go to a group alice owns, with other members and alice in its
// room, so that they reach the deciding code rather than a refusal to a
// stranger.
func FuzzHostileStanzas(f *testing.F) {
	hard := []string{
		"\u2603", "\uff41\uff42", "\u0627\u0644\u0641", "\u05d0a", "a\u200bb", "\u200d", "\ufeff", "a\u00a0b", "a b",
		"\u00ad", "x\ufe0f", "\u202ex", "\U0001f642", "e\u0301", "\u00e9", "\u0221", "\ue000", "a&b'c\"d<e>",
		strings.Repeat("a", 1023), strings.Repeat("\u00e9", 512), "", "G", "a@b", "a/b",
	}
	for i, h := range hard {
		f.Add(uint8(i), h, hard[(i+3)%len(hard)], hard[(i+7)%len(hard)])
	}
	// Every front-door case with every hard string as the nick (or the
	// JID, the subject), as the id (or the added member's nick, the
	// reason), and as the group's local part.
	for c := uint8(8); c < hostileCases; c++ {
		for i, h := range hard {
			other := hard[(i+5)%len(hard)]
			f.Add(128+c, h, h, other)
			f.Add(128+c, h, other, h)
			f.Add(c, h, h, h)
		}
	}
	const limit = 32 << 10
	var (
		mu    sync.Mutex
		bad   []string
		ready atomic.Bool
	)
	// Answers to the barrier, and to alice's room resource while setting
	// up, come back to the fuzz function.
	seen := make(chan *xmlnode.Node, 1024)
	check := senderFunc(func(o protocol.Outbound) {
		if err := checkWritten(o, limit); err != nil {
			mu.Lock()
			bad = append(bad, fmt.Sprintf("%v\n%.300s", err, o.String()))
			mu.Unlock()
			return
		}
		if o.To == barrier || (!ready.Load() && o.To == aliceRoom) {
			if n, err := xmlnode.Parse(o.String(), xmlnode.DefaultLimits()); err == nil {
				select {
				case seen <- n:
				default:
				}
			}
		}
	})
	svc, _ := startService(f, service.Config{Domain: benchDomain, Limits: domain.DefaultLimits(), MaxOutboundBytes: limit}, check, presence.NewTracker())
	send := func(st string) bool {
		n, err := xmlnode.Parse(st, xmlnode.DefaultLimits())
		if err != nil {
			return false
		}
		svc.HandleStanza(context.Background(), n)
		return true
	}
	// next is the first stanza seen that match accepts, or nil.
	next := func(match func(*xmlnode.Node) bool) *xmlnode.Node {
		// A guard against hanging, not a speed assertion.
		deadline := time.After(30 * time.Second)
		for {
			select {
			case n := <-seen:
				if match(n) {
					return n
				}
			case <-deadline:
				return nil
			}
		}
	}

	// alice owns a group whose members' ids are hard too, and is in its
	// room; her entry must show the other members, not create the room.
	own := ownedGroup + "@" + benchDomain
	send(`<presence from="` + alicePhone + `" to="` + benchDomain + `"/>`)
	send(`<presence from="` + alicePhone + `" to="` + own + `"><x xmlns="` + protocol.NSCreate + `"/>` +
		`<properties><property name="name">owned</property></properties>` +
		`<item jid="bob@example.test" mid="` + "\u0627\u0644\u0641" + `"/><item jid="carol@example.test" mid="a b"/></presence>`)
	send(`<presence from="` + aliceRoom + `" to="` + own + `/alice"><x xmlns="` + protocol.NSMUC + `"/></presence>`)
	occupants := 0
	self := next(func(n *xmlnode.Node) bool {
		if n.Name.Local != "presence" {
			return false
		}
		if n.Attr("type") == "error" || hasStatus(n, "110") {
			return true
		}
		occupants++
		return false
	})
	if self == nil || self.Attr("type") == "error" || hasStatus(self, "201") || occupants != 2 {
		f.Fatalf("alice must enter a group she owns with two other members (%d seen): %s", occupants, self)
	}
	ready.Store(true)

	var barriers atomic.Int64
	f.Fuzz(func(t *testing.T, kind uint8, local, mid, id string) {
		attr := func(s string) string { return string(xmlnode.AppendAttrValue(nil, s)) }
		group := local
		if kind >= 128 {
			group = ownedGroup
		}
		to := attr(group + "@" + benchDomain)
		nick := to + "/" + attr(mid)
		user := attr(mid + "@example.test")
		var sts []string
		switch (kind & 127) % hostileCases {
		case 0:
			sts = []string{`<iq from="` + alicePhone + `" to="` + to + `" type="get" id="` + attr(id) + `"><query xmlns="` + protocol.NSGroupInfo + `"/></iq>`}
		case 1:
			sts = []string{`<presence from="` + alicePhone + `" to="` + to + `" id="` + attr(id) + `"><x xmlns="` + protocol.NSCreate + `"/><properties>` +
				`<property name="name">n</property><property name="mid">` + xmlText(mid) + `</property>` +
				`<property name="nick">` + xmlText(id) + `</property></properties><item jid="bob@example.test" mid="` + attr(id) + `"/></presence>`}
		case 2:
			sts = []string{`<presence from="` + alicePhone + `" to="` + to + `"><x xmlns="` + protocol.NSAdd + `"/><item jid="carol@example.test" mid="` + attr(mid) + `" nick="` + attr(id) + `"/></presence>`}
		case 3:
			sts = []string{`<message from="` + alicePhone + `" to="` + to + `" type="groupchat" id="` + attr(id) + `"><body>` + xmlText(mid) + `</body></message>`}
		case 4:
			sts = []string{`<iq from="` + alicePhone + `" to="` + to + `" type="result" id="` + attr(id) + `"/>`}
		case 5:
			sts = []string{`<iq from="` + alicePhone + `" to="` + to + `" type="get" id="` + attr(id) + `"><query xmlns="` + protocol.NSMembers + `"/></iq>`}
		case 6:
			sts = []string{`<iq from="` + alicePhone + `" to="` + nick + `" type="get" id="` + attr(id) + `"><query xmlns="` + protocol.NSDiscoInfo + `"/></iq>`}
		case 7:
			sts = []string{`<iq from="` + alicePhone + `" to="` + to + `" type="set" id="q"><query xmlns="` + protocol.NSMAM + `" queryid="` + attr(id) + `"/></iq>`}
		case 8: // entering (XEP-0045 §7.2.1), or creating an instant room (§10.1)
			sts = []string{`<presence from="` + aliceRoom + `" to="` + nick + `" id="` + attr(id) + `"><x xmlns="` + protocol.NSMUC + `">` +
				`<history maxstanzas="` + strconv.Itoa(len(id)%8) + `"/></x></presence>`}
		case 9: // a nick change while in the room (§7.6)
			sts = []string{`<presence from="` + aliceRoom + `" to="` + nick + `" id="` + attr(id) + `"/>`}
		case 10: // entering, then leaving (§7.14)
			sts = []string{
				`<presence from="` + aliceAway + `" to="` + nick + `"><x xmlns="` + protocol.NSMUC + `"/></presence>`,
				`<presence from="` + aliceAway + `" to="` + to + `/` + attr(id) + `" type="unavailable"/>`,
			}
		case 11: // a role change: kick, voice, moderator (§8.2–8.6)
			role := []string{"none", "visitor", "participant", "moderator"}[len(id)%4]
			sts = []string{`<iq from="` + aliceRoom + `" to="` + to + `" type="set" id="` + attr(id) + `"><query xmlns="` + protocol.NSMUCAdmin + `">` +
				`<item nick="` + attr(mid) + `" role="` + role + `"><reason>` + xmlText(id) + `</reason></item></query></iq>`}
		case 12: // granting membership with a nick (§9.3), then revoking it (§9.4)
			sts = []string{
				`<iq from="` + aliceRoom + `" to="` + to + `" type="set" id="` + attr(id) + `"><query xmlns="` + protocol.NSMUCAdmin + `">` +
					`<item jid="` + user + `" affiliation="member" nick="` + attr(id) + `"/></query></iq>`,
				`<iq from="` + aliceRoom + `" to="` + to + `" type="set" id="none"><query xmlns="` + protocol.NSMUCAdmin + `">` +
					`<item jid="` + user + `" affiliation="none"/></query></iq>`,
			}
		case 13: // a mediated invitation (§7.8.2), then the invitee removed again
			sts = []string{
				`<message from="` + aliceRoom + `" to="` + to + `" id="` + attr(id) + `"><x xmlns="` + protocol.NSMUCUser + `">` +
					`<invite to="` + user + `"><reason>` + xmlText(id) + `</reason></invite></x></message>`,
				`<iq from="` + aliceRoom + `" to="` + to + `" type="set" id="none"><query xmlns="` + protocol.NSMUCAdmin + `">` +
					`<item jid="` + user + `" affiliation="none"/></query></iq>`,
			}
		case 14: // a subject change (§8.1)
			sts = []string{`<message from="` + aliceRoom + `" to="` + to + `" type="groupchat" id="` + attr(id) + `"><subject>` + xmlText(mid) + `</subject></message>`}
		case 15: // a private message to an occupant (§7.5)
			sts = []string{`<message from="` + aliceRoom + `" to="` + nick + `" type="chat" id="` + attr(id) + `"><body>` + xmlText(id) + `</body></message>`}
		case 16: // the configuration form (§10.2)
			sts = []string{`<iq from="` + aliceRoom + `" to="` + to + `" type="get" id="` + attr(id) + `"><query xmlns="` + protocol.NSMUCOwner + `"/></iq>`}
		}
		sent := false
		for _, st := range sts {
			sent = send(st) || sent
		}
		answered := true
		if sent {
			// The group's shard answers in order: once the barrier's
			// question is answered, so is everything before it, and a
			// stanza refused here is this input's.
			bid := "barrier-" + strconv.FormatInt(barriers.Add(1), 10)
			send(`<iq from="` + barrier + `" to="` + to + `" type="get" id="` + bid + `"><query xmlns="` + protocol.NSGroupInfo + `"/></iq>`)
			answered = next(func(n *xmlnode.Node) bool { return n.Attr("id") == bid }) != nil
		}
		mu.Lock()
		found := bad
		bad = nil
		mu.Unlock()
		if len(found) > 0 {
			t.Fatalf("the service wrote a stanza the server would refuse: %s", found[0])
		}
		if !answered {
			t.Fatal("the group's shard did not answer a question after this input")
		}
	})
}

// hasStatus reports whether a MUC presence carries the status code.
func hasStatus(n *xmlnode.Node, code string) bool {
	x := n.Child(protocol.NSMUCUser, "x")
	if x == nil {
		return false
	}
	for _, s := range x.ChildrenNamed(protocol.NSMUCUser, "status") {
		if s.Attr("code") == code {
			return true
		}
	}
	return false
}

// senderFunc sends by calling a function, from any goroutine.
type senderFunc func(protocol.Outbound)

func (f senderFunc) Send(_ context.Context, o protocol.Outbound) error {
	f(o)
	return nil
}
