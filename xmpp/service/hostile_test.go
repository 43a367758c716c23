package service_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

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

// FuzzHostileStanzas feeds the service stanzas whose addresses and ids
// come from hard Unicode classes and fails on any stanza it writes that
// the server would refuse (address rules, size) or that is not
// well-formed.
func FuzzHostileStanzas(f *testing.F) {
	hard := []string{
		"\u2603", "\uff41\uff42", "\u0627\u0644\u0641", "\u05d0a", "a\u200bb", "\u200d", "\ufeff", "a\u00a0b", "a b",
		"\u00ad", "x\ufe0f", "\u202ex", "\U0001f642", "e\u0301", "\u00e9", "\u0221", "\ue000", "a&b'c\"d<e>",
		strings.Repeat("a", 1023), strings.Repeat("\u00e9", 512), "", "G", "a@b", "a/b",
	}
	for i, h := range hard {
		f.Add(uint8(i), h, hard[(i+3)%len(hard)], hard[(i+7)%len(hard)])
	}
	const limit = 32 << 10
	var mu sync.Mutex
	var bad []string
	check := senderFunc(func(o protocol.Outbound) {
		if err := checkWritten(o, limit); err != nil {
			mu.Lock()
			bad = append(bad, fmt.Sprintf("%v\n%.300s", err, o.String()))
			mu.Unlock()
		}
	})
	svc, _ := startService(f, service.Config{Domain: benchDomain, Limits: domain.DefaultLimits(), MaxOutboundBytes: limit}, check, presence.NewTracker())
	n, _ := xmlnode.Parse(`<presence from="`+alicePhone+`" to="`+benchDomain+`"/>`, xmlnode.DefaultLimits())
	svc.HandleStanza(context.Background(), n)
	f.Fuzz(func(t *testing.T, kind uint8, local, mid, id string) {
		attr := func(s string) string { return string(xmlnode.AppendAttrValue(nil, s)) }
		to := attr(local + "@" + benchDomain)
		var st string
		switch kind % 8 {
		case 0:
			st = `<iq from="` + alicePhone + `" to="` + to + `" type="get" id="` + attr(id) + `"><query xmlns="` + protocol.NSGroupInfo + `"/></iq>`
		case 1:
			st = `<presence from="` + alicePhone + `" to="` + to + `" id="` + attr(id) + `"><x xmlns="` + protocol.NSCreate + `"/><properties>` +
				`<property name="name">n</property><property name="mid">` + xmlText(mid) + `</property>` +
				`<property name="nick">` + xmlText(id) + `</property></properties><item jid="bob@example.test" mid="` + attr(id) + `"/></presence>`
		case 2:
			st = `<presence from="` + alicePhone + `" to="` + to + `"><x xmlns="` + protocol.NSAdd + `"/><item jid="carol@example.test" mid="` + attr(mid) + `" nick="` + attr(id) + `"/></presence>`
		case 3:
			st = `<message from="` + alicePhone + `" to="` + to + `" type="groupchat" id="` + attr(id) + `"><body>` + xmlText(mid) + `</body></message>`
		case 4:
			st = `<iq from="` + alicePhone + `" to="` + to + `" type="result" id="` + attr(id) + `"/>`
		case 5:
			st = `<iq from="` + alicePhone + `" to="` + to + `" type="get" id="` + attr(id) + `"><query xmlns="` + protocol.NSMembers + `"/></iq>`
		case 6:
			st = `<iq from="` + alicePhone + `" to="` + to + `/` + attr(mid) + `" type="get" id="` + attr(id) + `"><query xmlns="` + protocol.NSDiscoInfo + `"/></iq>`
		case 7:
			st = `<iq from="` + alicePhone + `" to="` + to + `" type="set" id="q"><query xmlns="` + protocol.NSMAM + `" queryid="` + attr(id) + `"/></iq>`
		}
		n, err := xmlnode.Parse(st, xmlnode.DefaultLimits())
		if err != nil {
			return
		}
		svc.HandleStanza(context.Background(), n)
		mu.Lock()
		defer mu.Unlock()
		if len(bad) > 0 {
			t.Fatalf("the service wrote a stanza the server would refuse: %s", bad[0])
		}
	})
}

// senderFunc sends by calling a function, from any goroutine.
type senderFunc func(protocol.Outbound)

func (f senderFunc) Send(_ context.Context, o protocol.Outbound) error {
	f(o)
	return nil
}
