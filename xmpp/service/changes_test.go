package service_test

import (
	"strconv"
	"testing"

	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// changeMarks is what places a group change in its group's chain: the
// operation's <x/> (with previous) and the stanza-id.
func changeMarks(t *testing.T, p *xmlnode.Node) (x, sid *xmlnode.Node) {
	t.Helper()
	for _, c := range p.Children {
		switch {
		case c.IsText():
		case c.Name.Local == "x":
			x = c
		case c.Name.Space == protocol.NSSID && c.Name.Local == "stanza-id":
			sid = c
		}
	}
	if x == nil || sid == nil {
		t.Fatalf("a change lacks its <x/> or stanza-id: %s", p)
	}
	return x, sid
}

// TestCatchUpForwardsChangesAsBroadcast: every group change a member
// received live comes back in catch-up with the same stanza-id and the
// same previous change, whichever page it is on, and the changes chain:
// each names the one before it, past the messages and receipts between.
func TestCatchUpForwardsChangesAsBroadcast(t *testing.T) {
	svc, _, out := liveService(t)
	group := "chain@" + benchDomain
	handle(t, svc, `<presence from="`+bobPhone+`" to="`+benchDomain+`"/>`)
	createGroup(t, svc, out, "chain", "bob@example.test")
	isChange := func(n *xmlnode.Node) bool {
		if n.Name.Local != "presence" || n.Attr("type") != "" {
			return false
		}
		for _, ns := range []string{protocol.NSCreate, protocol.NSUpdate, protocol.NSAdd, protocol.NSRemove} {
			if n.ChildNS(ns) != nil {
				return true
			}
		}
		return false
	}
	var live []*xmlnode.Node
	live = append(live, out.next(t, bobPhone, "the creation", isChange))
	steps := []struct{ what, stanza string }{
		{"a message", `<message from="` + alicePhone + `" to="` + group + `" type="groupchat" id="m1"><body>one</body></message>`},
		{"a rename", `<presence from="` + alicePhone + `" to="` + group + `" id="r1"><x xmlns="` + protocol.NSUpdate + `"/><properties><property name="name">Renamed</property></properties></presence>`},
		{"bob's receipt", `<message from="` + bobPhone + `" to="` + group + `" type="groupchat"><read xmlns="` + protocol.NSChatStates + `" id="m1"/></message>`},
		{"an addition", `<presence from="` + alicePhone + `" to="` + group + `"><x xmlns="` + protocol.NSAdd + `"/><item jid="carol@example.test"/></presence>`},
		{"another message", `<message from="` + alicePhone + `" to="` + group + `" type="groupchat" id="m2"><body>two</body></message>`},
		{"a removal", `<presence from="` + alicePhone + `" to="` + group + `"><x xmlns="` + protocol.NSRemove + `"/><item jid="carol@example.test"/></presence>`},
	}
	for _, s := range steps {
		handle(t, svc, s.stanza)
		if s.stanza[1] == 'p' {
			live = append(live, out.next(t, bobPhone, s.what, isChange))
		}
	}

	// Live: each change names the one before; the creation names none.
	previous := ""
	for i, p := range live {
		x, sid := changeMarks(t, p)
		if sid.Attr("by") != group {
			t.Errorf("change %d: stanza-id by %q, want the group", i, sid.Attr("by"))
		}
		if x.Attr("previous") != previous {
			t.Errorf("change %d names previous %q, want %q: %s", i, x.Attr("previous"), previous, p)
		}
		previous = sid.Attr("id")
	}

	// Catch-up in pages of two, so that pages start between changes.
	var caught []*xmlnode.Node
	after := "0"
	for page := 0; page < 10; page++ {
		id := "cu" + strconv.Itoa(page)
		handle(t, svc, `<iq from="`+bobPhone+`" to="`+benchDomain+`" type="get" id="`+id+`"><query xmlns="`+protocol.NSCatchUp+`">`+
			`<set xmlns="http://jabber.org/protocol/rsm"><max>2</max><after>`+after+`</after></set></query></iq>`)
		res := out.next(t, bobPhone, "catch-up page "+id, func(n *xmlnode.Node) bool { return n.Attr("id") == id })
		q := res.Child(protocol.NSCatchUp, "query")
		if q == nil {
			t.Fatalf("no catch-up answer: %s", res)
		}
		for _, f := range q.ChildrenNamed(protocol.NSForward, "forwarded") {
			if p := f.Child("jabber:client", "presence"); p != nil {
				caught = append(caught, p)
			}
		}
		last := q.Child(protocol.NSRSM, "set").Child(protocol.NSRSM, "last")
		if last == nil {
			break
		}
		after = last.Text
	}
	if len(caught) != len(live) {
		t.Fatalf("catch-up forwarded %d changes, %d were broadcast", len(caught), len(live))
	}
	for i := range live {
		lx, lsid := changeMarks(t, live[i])
		cx, csid := changeMarks(t, caught[i])
		if lx.String() != cx.String() || lsid.String() != csid.String() {
			t.Errorf("change %d\n live      %s %s\n caught up %s %s", i, lx, lsid, cx, csid)
		}
	}
}
