package service_test

import (
	"strconv"
	"testing"

	"github.com/uuchat/groupchat/xmpp/history"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// TestLongArchivesAreNotCounted: a MAM query whose result holds more than
// history.ArchiveCountLimit messages is answered without <count/> and
// without the index of its first (XEP-0059 §2.6), its <fin complete>
// still telling whether the result goes on; asking for the count alone
// (<max>0</max>) counts it all the same, and a shorter result is counted.
func TestLongArchivesAreNotCounted(t *testing.T) {
	svc, _, out := liveService(t)
	group := "long@" + benchDomain
	createGroup(t, svc, out, "long")
	total := history.ArchiveCountLimit + 2
	for i := range total {
		id := "m" + strconv.Itoa(i)
		handle(t, svc, `<message from="`+alicePhone+`" to="`+group+`" type="groupchat" id="`+id+`"><body>`+id+`</body></message>`)
		out.next(t, alicePhone, "the reflection of "+id, func(n *xmlnode.Node) bool { return n.Attr("id") == id })
	}
	query := func(id, set string, form string) *xmlnode.Node {
		t.Helper()
		handle(t, svc, `<iq type="set" from="`+alicePhone+`" to="`+group+`" id="`+id+`"><query xmlns="urn:xmpp:mam:2">`+form+
			`<set xmlns="`+protocol.NSRSM+`">`+set+`</set></query></iq>`)
		return out.next(t, alicePhone, "the answer to "+id, func(n *xmlnode.Node) bool { return n.Name.Local == "iq" && n.Attr("id") == id })
	}
	fin := func(iq *xmlnode.Node) (complete string, rsm *xmlnode.Node) {
		t.Helper()
		f := iq.Child("urn:xmpp:mam:2", "fin")
		if iq.Attr("type") != "result" || f == nil {
			t.Fatalf("not a result with <fin/>: %s", iq)
		}
		return f.Attr("complete"), f.Child(protocol.NSRSM, "set")
	}
	text := func(n *xmlnode.Node, name string) (string, bool) {
		c := n.Child(protocol.NSRSM, name)
		if c == nil {
			return "", false
		}
		return c.Text, true
	}

	complete, set := fin(query("last", "<max>10</max><before/>", ""))
	if _, ok := text(set, "count"); ok {
		t.Errorf("the last page of %d messages has a count: %s", total, set)
	}
	if first := set.Child(protocol.NSRSM, "first"); first == nil || first.Attr("index") != "" {
		t.Errorf("the last page's <first/> is missing or has an index: %s", set)
	}
	if complete != "false" {
		t.Errorf("the last page of a longer result says complete=%q", complete)
	}
	complete, set = fin(query("first", "<max>10</max>", ""))
	if _, ok := text(set, "count"); ok || complete != "false" {
		t.Errorf("the first page: complete=%q, set %s; want no count and not complete", complete, set)
	}

	_, set = fin(query("count", "<max>0</max>", ""))
	if n, _ := text(set, "count"); n != strconv.Itoa(total) {
		t.Errorf("asking for the count alone gives %q, want %d", n, total)
	}

	// The messages after the tenth: fewer than the limit, counted.
	firstPage := fin2Last(t, query("p1", "<max>10</max>", ""))
	complete, set = fin(query("rest", "<max>5</max>", `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2</value></field><field var="after-id"><value>`+firstPage+`</value></field></x>`))
	if n, _ := text(set, "count"); n != strconv.Itoa(total-10) || complete != "false" {
		t.Errorf("a page of five after the first ten: count %q, complete %q; want %d, false (%s)", n, complete, total-10, set)
	}
}

// fin2Last is the archive id of the last message of a MAM page.
func fin2Last(t *testing.T, iq *xmlnode.Node) string {
	t.Helper()
	last := iq.Child("urn:xmpp:mam:2", "fin").Child(protocol.NSRSM, "set").Child(protocol.NSRSM, "last")
	if last == nil {
		t.Fatalf("no <last/>: %s", iq)
	}
	return last.Text
}
