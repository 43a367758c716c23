package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	nsCatchUp = nsGC + "#catchup"
	nsReaders = nsGC + "#readers"
	nsMAM     = "urn:xmpp:mam:2"
	nsRSM     = "http://jabber.org/protocol/rsm"
	nsForward = "urn:xmpp:forward:0"
)

// catchUpPage asks the service for what the user missed after a position
// ("" for a phone that never synced).
func catchUpPage(c *client, after string, max int) *xmppclient.Stanza {
	c.t.Helper()
	id := fmt.Sprintf("cu-%d", pingSeq.Add(1))
	set := fmt.Sprintf(`<set xmlns="%s"><max>%d</max>`, nsRSM, max)
	if after != "" {
		set += `<after>` + after + `</after>`
	}
	set += `</set>`
	res := c.iq(`<iq type="get" id="`+id+`" to="`+service+`"><query xmlns="`+nsCatchUp+`">`+set+`</query></iq>`, id)
	if res.Type() != "result" {
		c.t.Fatalf("catch-up failed: %s", res.Raw)
	}
	return res.Child(nsCatchUp, "query")
}

// forwardedStanza returns a forwarded element's inner stanza and its
// archive id (the stanza-id by the group).
func forwardedStanza(t *testing.T, f *xmppclient.Stanza) (*xmppclient.Stanza, uint64) {
	t.Helper()
	if f.Child("urn:xmpp:delay", "delay") == nil {
		t.Errorf("a forwarded stanza carries its delay: %s", f.String())
	}
	for _, c := range f.Children {
		if c.Name.Local == "message" || c.Name.Local == "presence" {
			if c.Name.Space != "jabber:client" {
				t.Errorf("a forwarded stanza is in jabber:client, got %q", c.Name.Space)
			}
			sid := c.Child(nsSID, "stanza-id")
			if sid == nil {
				t.Fatalf("a forwarded stanza carries its stanza-id: %s", f.String())
			}
			n, err := strconv.ParseUint(sid.Attr("id"), 10, 64)
			if err != nil {
				t.Fatalf("stanza-id %q: %v", sid.Attr("id"), err)
			}
			return c, n
		}
	}
	t.Fatalf("no stanza in %s", f.String())
	return nil, 0
}

func TestCatchUpAfterBeingOffline(t *testing.T) {
	alice := shared.login(t, "alice", "pda")
	group := groupID("catchup")
	createGroup(alice, group, "Catch-up "+group, "bob", "carol")

	// bob syncs once, remembers where he is, and goes to sleep.
	bob := shared.login(t, "bob", "phone")
	first := catchUpPage(bob, "", 10)
	position := first.Attr("position")
	if position == "" {
		t.Fatalf("a catch-up tells the current position: %s", first.String())
	}
	bob.Close()

	const n = 500
	for i := 0; i < n; i++ {
		alice.send(fmt.Sprintf(`<message type="groupchat" id="c%d" to="%s"><body>message %d</body></message>`, i, gjid(group), i))
		if i == 100 {
			alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsAdd + `"/><item jid="dave@` + xmppDomain + `" mid="dave"/></presence>`)
		}
		if i == 200 {
			alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsRemove + `"/><item jid="carol@` + xmppDomain + `"/></presence>`)
		}
		if i == 300 {
			alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsUpdate + `"/><properties><property name="name">Renamed ` + group + `</property></properties></presence>`)
		}
	}
	alice.expect("the last reflection", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == fmt.Sprintf("c%d", n-1) })

	// bob wakes up: counters and everything after his position, in pages.
	bob = shared.login(t, "bob", "phone2")
	var (
		msgs     []string
		changes  = map[string]bool{}
		last     uint64
		after    = position
		pages    int
		counted  = -1
		groupRow *xmppclient.Stanza
	)
	for {
		page := catchUpPage(bob, after, 100)
		pages++
		if pages == 1 {
			for _, g := range page.ChildrenNamed("", "group") {
				if g.Attr("id") == group {
					groupRow = g
				}
			}
			counted, _ = strconv.Atoi(page.Find("{" + nsRSM + "}set/count").Text)
		}
		forwarded := page.ChildrenNamed(nsForward, "forwarded")
		if len(forwarded) == 0 {
			break
		}
		for _, f := range forwarded {
			s, pos := forwardedStanza(t, f)
			if pos <= last {
				t.Fatalf("events must come in order, none twice: %d after %d", pos, last)
			}
			last = pos
			switch {
			case s.Name.Local == "message" && s.Attr("from") == gjid(group)+"/alice":
				msgs = append(msgs, s.Attr("id"))
			case s.Name.Local == "presence":
				for _, ns := range []string{nsAdd, nsRemove, nsUpdate} {
					if s.Child(ns, "x") != nil {
						changes[ns] = true
					}
				}
			}
		}
		set := page.Child(nsRSM, "set")
		after = set.ChildText(nsRSM, "last")
		if pages > 20 {
			t.Fatal("catch-up does not end")
		}
	}
	if groupRow == nil || groupRow.Attr("unread") != strconv.Itoa(n) || groupRow.Attr("name") != "Renamed "+group {
		t.Errorf("the catch-up's group row: %v", groupRow)
	}
	if len(msgs) != n {
		t.Fatalf("catch-up returned %d messages, want %d", len(msgs), n)
	}
	for i, id := range msgs {
		if id != fmt.Sprintf("c%d", i) {
			t.Fatalf("message %d is %s: out of order", i, id)
		}
	}
	for _, ns := range []string{nsAdd, nsRemove, nsUpdate} {
		if !changes[ns] {
			t.Errorf("catch-up lacks the %s change", ns)
		}
	}
	if counted < n+3 {
		t.Errorf("the first page's count = %d, want at least %d", counted, n+3)
	}
	if pages < 6 {
		t.Errorf("500 events in pages of 100 take at least 6 pages, took %d", pages)
	}

	// The same archive through MAM.
	archived := mamAll(t, bob, group)
	if len(archived) != n {
		t.Fatalf("MAM returned %d messages, want %d", len(archived), n)
	}
	for i, s := range archived {
		if s.Attr("id") != fmt.Sprintf("c%d", i) {
			t.Fatalf("MAM message %d is %s", i, s.Attr("id"))
		}
	}
}

// mamAll pages through a group's archive with XEP-0313 and returns the
// archived messages in order.
func mamAll(t *testing.T, c *client, group string) []*xmppclient.Stanza {
	t.Helper()
	var out []*xmppclient.Stanza
	after := ""
	for page := 0; page < 50; page++ {
		qid := fmt.Sprintf("q%d", pingSeq.Add(1))
		set := `<set xmlns="` + nsRSM + `"><max>200</max>`
		if after != "" {
			set += `<after>` + after + `</after>`
		}
		set += `</set>`
		res := c.iq(`<iq type="set" id="`+qid+`" to="`+gjid(group)+`"><query xmlns="`+nsMAM+`" queryid="`+qid+`">`+set+`</query></iq>`, qid)
		if res.Type() != "result" {
			t.Fatalf("MAM query: %s", res.Raw)
		}
		fin := res.Child(nsMAM, "fin")
		if fin == nil {
			t.Fatalf("MAM result without <fin/>: %s", res.Raw)
		}
		// The results arrived before the IQ result.
		for _, s := range c.Pending() {
			r := s.Child(nsMAM, "result")
			if r == nil || r.Attr("queryid") != qid {
				continue
			}
			c.Expect(context.Background(), func(x *xmppclient.Stanza) bool { return x == s })
			inner, pos := forwardedStanza(t, r.Child(nsForward, "forwarded"))
			if r.Attr("id") != strconv.FormatUint(pos, 10) {
				t.Errorf("the result id is the archive id: %s vs %d", r.Attr("id"), pos)
			}
			out = append(out, inner)
		}
		if fin.Attr("complete") == "true" {
			return out
		}
		after = fin.Find("{" + nsRSM + "}set/last").Text
	}
	t.Fatal("MAM paging does not end")
	return nil
}

func mamIDs(t *testing.T, c *client, group string) []string {
	var ids []string
	for _, s := range mamAll(t, c, group) {
		ids = append(ids, s.Attr("id"))
	}
	return ids
}

func TestHistoryFollowsMembership(t *testing.T) {
	alice := shared.login(t, "alice", "pda")
	dave := shared.login(t, "dave", "pda")
	group := groupID("spans")
	createGroup(alice, group, "Spans "+group)
	post := func(id string) {
		alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + id + `</body></message>`)
		alice.expect("the reflection of "+id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id })
	}
	member := func(ns string) {
		alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + ns + `"/><item jid="dave@` + xmppDomain + `" mid="dave"/></presence>`)
		alice.expect("the broadcast", presenceWith(group, ns))
	}
	post("before-join")
	member(nsAdd)
	post("while-member")
	member(nsRemove)
	post("after-removal")
	// A removed member may still read the spans it was a member.
	if got := mamIDs(t, dave, group); len(got) != 1 || got[0] != "while-member" {
		t.Errorf("removed dave's history = %v, want [while-member]", got)
	}
	member(nsAdd)
	post("rejoined")
	if got := mamIDs(t, dave, group); len(got) != 2 || got[0] != "while-member" || got[1] != "rejoined" {
		t.Errorf("re-added dave's history = %v, want [while-member rejoined]", got)
	}
	if got := mamIDs(t, alice, group); len(got) != 4 {
		t.Errorf("the owner sees the whole history, got %v", got)
	}
	// Someone who never was a member sees nothing.
	eve := shared.login(t, "eve", "pda")
	qid := "never"
	res := eve.iq(`<iq type="set" id="`+qid+`" to="`+gjid(group)+`"><query xmlns="`+nsMAM+`" queryid="`+qid+`"/></iq>`, qid)
	wantError(t, res, "auth", "forbidden", "not-allowed")
}

func TestWhoReadMyMessage(t *testing.T) {
	alice := shared.login(t, "alice", "pda")
	bob := shared.login(t, "bob", "pda")
	group := groupID("readers")
	createGroup(alice, group, "Readers "+group, "bob", "carol")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	alice.send(`<message type="groupchat" id="r1" to="` + gjid(group) + `"><body>did you read this?</body></message>`)
	r1 := bob.expect("the message", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "r1" })
	bob.send(`<message type="groupchat" to="` + gjid(group) + `"><read xmlns="` + nsChatStates + `" id="r1"/></message>`)
	alice.expect("bob's receipt", func(s *xmppclient.Stanza) bool { return s.Child(nsChatStates, "read") != nil })

	res := alice.iq(`<iq type="get" id="who" to="`+gjid(group)+`"><query xmlns="`+nsReaders+`" id="r1"/></iq>`, "who")
	if res.Type() != "result" {
		t.Fatalf("readers: %s", res.Raw)
	}
	q := res.Child(nsReaders, "query")
	read, unread := q.ChildrenNamed("", "read"), q.ChildrenNamed("", "unread")
	if len(read) != 1 || read[0].Attr("jid") != "bob@"+xmppDomain {
		t.Errorf("bob read it: %s", res.Raw)
	}
	if len(unread) != 1 || unread[0].Attr("jid") != "carol@"+xmppDomain {
		t.Errorf("carol has not: %s", res.Raw)
	}
	// Another member's message: by its archive id it is not bob's to ask
	// about, and a client id is looked up among bob's own messages only.
	res = bob.iq(`<iq type="get" id="who2" to="`+gjid(group)+`"><query xmlns="`+nsReaders+`" id="`+strconv.FormatUint(archiveIDOf(t, r1), 10)+`"/></iq>`, "who2")
	wantError(t, res, "cancel", "not-allowed", "not-allowed")
	res = bob.iq(`<iq type="get" id="who3" to="`+gjid(group)+`"><query xmlns="`+nsReaders+`" id="r1"/></iq>`, "who3")
	wantError(t, res, "cancel", "item-not-found", "not-exists")
}

func TestResendWithOriginIDAfterReconnect(t *testing.T) {
	alice := shared.login(t, "alice", "flaky")
	bob := shared.login(t, "bob", "pda")
	group := groupID("origin")
	createGroup(alice, group, "Origin "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	alice.send(`<message type="groupchat" id="try1" to="` + gjid(group) + `"><body>once</body><origin-id xmlns="` + nsSID + `" id="origin-xyz"/></message>`)
	orig := bob.expect("the message", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "try1" })
	alice.Close()

	// The phone reconnects and resends with a new stanza id, same origin-id.
	alice = shared.login(t, "alice", "flaky2")
	alice.send(`<message type="groupchat" id="try2" to="` + gjid(group) + `"><body>once</body><origin-id xmlns="` + nsSID + `" id="origin-xyz"/></message>`)
	again := alice.expect("the original's reflection", func(s *xmppclient.Stanza) bool {
		return s.Is("", "message") && s.Child(nsSID, "stanza-id") != nil
	})
	if archiveIDOf(t, again) != archiveIDOf(t, orig) {
		t.Errorf("the resend gets the original's archive id: %s vs %s", again.Raw, orig.Raw)
	}
	alice.send(`<message type="groupchat" id="next" to="` + gjid(group) + `"><body>next</body></message>`)
	bob.expect("the next message", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "next" })
	for _, s := range bob.Pending() {
		if s.Is("", "message") && s.Child(nsSID, "stanza-id") != nil && archiveIDOf(t, s) == archiveIDOf(t, orig) {
			t.Fatalf("bob got the resend: %s", s.Raw)
		}
	}
}

// archivedMessage is one XEP-0313 result: the archived message, its archive
// id and the stamp of its delay.
type archivedMessage struct {
	id, archiveID, stamp string
}

// mamPage runs one XEP-0313 query with the given form fields (var, value
// pairs) and RSM set, and returns its results and the <fin/>.
func mamPage(t *testing.T, c *client, group, set string, fields ...string) ([]archivedMessage, *xmppclient.Stanza) {
	t.Helper()
	qid := fmt.Sprintf("qp%d", pingSeq.Add(1))
	form := ""
	if len(fields) > 0 {
		form = `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>` + nsMAM + `</value></field>`
		for i := 0; i+1 < len(fields); i += 2 {
			form += `<field var="` + fields[i] + `"><value>` + fields[i+1] + `</value></field>`
		}
		form += `</x>`
	}
	res := c.iq(`<iq type="set" id="`+qid+`" to="`+gjid(group)+`"><query xmlns="`+nsMAM+`" queryid="`+qid+`">`+form+set+`</query></iq>`, qid)
	if res.Type() != "result" {
		t.Fatalf("MAM query: %s", res.Raw)
	}
	fin := res.Child(nsMAM, "fin")
	if fin == nil {
		t.Fatalf("MAM result without <fin/>: %s", res.Raw)
	}
	var out []archivedMessage
	for _, s := range c.Pending() {
		r := s.Child(nsMAM, "result")
		if r == nil || r.Attr("queryid") != qid {
			continue
		}
		c.Expect(context.Background(), func(x *xmppclient.Stanza) bool { return x == s })
		f := r.Child(nsForward, "forwarded")
		inner, _ := forwardedStanza(t, f)
		out = append(out, archivedMessage{id: inner.ID(), archiveID: r.Attr("id"), stamp: f.Child("urn:xmpp:delay", "delay").Attr("stamp")})
	}
	return out, fin
}

func archivedIDs(ms []archivedMessage) string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.id)
	}
	return fmt.Sprint(ids)
}

// TestArchivePagesByIDAndTime pages a group's XEP-0313 archive by archive
// id (form fields and RSM cursors, forwards and backwards) and by time,
// with the stamps the archive itself shows as bounds.
func TestArchivePagesByIDAndTime(t *testing.T) {
	alice := shared.login(t, "alice", "mam")
	group := groupID("mampages")
	createGroup(alice, group, "Pages "+group)
	for i := 0; i < 5; i++ {
		id := fmt.Sprintf("p%d", i)
		alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + id + `</body></message>`)
		alice.expect("the reflection of "+id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id })
	}
	all, fin := mamPage(t, alice, group, "")
	if archivedIDs(all) != "[p0 p1 p2 p3 p4]" || fin.Attr("complete") != "true" {
		t.Fatalf("the whole archive: %s, fin %s", archivedIDs(all), fin.String())
	}
	set := func(max int, cursor string) string {
		return fmt.Sprintf(`<set xmlns="%s"><max>%d</max>%s</set>`, nsRSM, max, cursor)
	}
	// what each query must return, as a filter over the whole archive.
	upTo := func(stamp string) func(archivedMessage) bool {
		return func(m archivedMessage) bool { return m.stamp <= stamp }
	}
	from := func(stamp string) func(archivedMessage) bool {
		return func(m archivedMessage) bool { return m.stamp >= stamp }
	}
	for _, tc := range []struct {
		name     string
		set      string
		fields   []string
		want     func(archivedMessage) bool
		wantIDs  string
		complete string
	}{
		{name: "end at a message's stamp includes it", fields: []string{"end", all[2].stamp}, want: upTo(all[2].stamp), complete: "true"},
		{name: "start at a message's stamp includes it", fields: []string{"start", all[3].stamp}, want: from(all[3].stamp), complete: "true"},
		{name: "start and end at one stamp", fields: []string{"start", all[1].stamp, "end", all[1].stamp},
			want: func(m archivedMessage) bool { return m.stamp == all[1].stamp }, complete: "true"},
		{name: "after-id and before-id", fields: []string{"after-id", all[1].archiveID, "before-id", all[4].archiveID}, wantIDs: "[p2 p3]", complete: "true"},
		{name: "RSM after", set: set(2, "<after>"+all[0].archiveID+"</after>"), wantIDs: "[p1 p2]", complete: "false"},
		{name: "RSM after, last page", set: set(2, "<after>"+all[2].archiveID+"</after>"), wantIDs: "[p3 p4]", complete: "true"},
		{name: "RSM last page", set: set(2, "<before/>"), wantIDs: "[p3 p4]", complete: "false"},
		{name: "RSM before", set: set(2, "<before>"+all[3].archiveID+"</before>"), wantIDs: "[p1 p2]", complete: "false"},
		{name: "RSM before, first page", set: set(2, "<before>"+all[1].archiveID+"</before>"), wantIDs: "[p0]", complete: "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.wantIDs
			if tc.want != nil {
				var sel []archivedMessage
				for _, m := range all {
					if tc.want(m) {
						sel = append(sel, m)
					}
				}
				want = archivedIDs(sel)
			}
			got, fin := mamPage(t, alice, group, tc.set, tc.fields...)
			if archivedIDs(got) != want {
				t.Errorf("got %s, want %s (stamps %v)", archivedIDs(got), want, all)
			}
			if fin.Attr("complete") != tc.complete {
				t.Errorf("complete = %q, want %q: %s", fin.Attr("complete"), tc.complete, fin.String())
			}
		})
	}
	// An id to page from that names no message of the archive (none at all,
	// or the group's creation) is item-not-found (XEP-0313).
	created, _ := strconv.ParseUint(all[0].archiveID, 10, 64)
	for _, tc := range []struct{ name, query string }{
		{"after-id", `<x xmlns="jabber:x:data" type="submit"><field var="after-id"><value>999999999</value></field></x>`},
		{"before-id", `<x xmlns="jabber:x:data" type="submit"><field var="before-id"><value>999999999</value></field></x>`},
		{"RSM after", set(2, "<after>999999999</after>")},
		{"RSM before", set(2, "<before>999999999</before>")},
		{"RSM after, not a message", set(2, fmt.Sprintf("<after>%d</after>", created-1))},
	} {
		qid := fmt.Sprintf("unk%d", pingSeq.Add(1))
		res := alice.iq(`<iq type="set" id="`+qid+`" to="`+gjid(group)+`"><query xmlns="`+nsMAM+`" queryid="`+qid+`">`+tc.query+`</query></iq>`, qid)
		t.Run("unknown "+tc.name, func(t *testing.T) { wantError(t, res, "cancel", "item-not-found", "not-exists") })
	}
	// <max>0</max> counts alone.
	got, fin := mamPage(t, alice, group, set(0, ""))
	if len(got) != 0 || fin.Find("{"+nsRSM+"}set/count") == nil || fin.Find("{"+nsRSM+"}set/count").Text != "5" {
		t.Errorf("a count-only query: %d results, %s", len(got), fin.String())
	}
}
