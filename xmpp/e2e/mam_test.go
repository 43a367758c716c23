package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	nsMAMExtended = "urn:xmpp:mam:2#extended"
	nsMUCUser     = "http://jabber.org/protocol/muc#user"
	nsDiscoInfo   = "http://jabber.org/protocol/disco#info"
)

// mamForm is an XEP-0313 query form of the given fields; a field given
// several values is one list field.
func mamForm(fields map[string][]string) string {
	form := `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>` + nsMAM + `</value></field>`
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		form += `<field var="` + k + `">`
		for _, v := range fields[k] {
			form += `<value>` + v + `</value>`
		}
		form += `</field>`
	}
	return form + `</x>`
}

// features lists the disco#info features of an address.
func features(c *client, to string) []string {
	id := fmt.Sprintf("feat%d", pingSeq.Add(1))
	res := c.iq(`<iq type="get" id="`+id+`" to="`+to+`"><query xmlns="`+nsDiscoInfo+`"/></iq>`, id)
	var out []string
	for _, f := range res.Child(nsDiscoInfo, "query").ChildrenNamed(nsDiscoInfo, "feature") {
		out = append(out, f.Attr("var"))
	}
	return out
}

// TestArchiveAsXEP0313Extended runs the queries XEP-0313 defines for an
// archive that advertises urn:xmpp:mam:2#extended, as a client that checks
// the features first would: with, ids, flip-page, metadata, and RSM's count
// and index of the whole result wherever the page is.
func TestArchiveAsXEP0313Extended(t *testing.T) {
	alice := shared.login(t, "alice", "mamx")
	bob := shared.login(t, "bob", "mamx")
	group := groupID("mamx")
	createGroup(alice, group, "Extended "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	// §8: the archive's address advertises both; the service's address
	// hosts no archive and does not.
	if f := features(alice, gjid(group)); !slices.Contains(f, nsMAM) || !slices.Contains(f, nsMAMExtended) || !slices.Contains(f, nsDiscoInfo) {
		t.Errorf("a group advertises %v, want MAM, MAM extended and disco#info", f)
	}
	if f := features(alice, service); slices.Contains(f, nsMAM) {
		t.Errorf("the service advertises MAM but hosts no archive: %v", f)
	}

	for i, who := range []*client{alice, bob, alice, bob, alice} {
		id := fmt.Sprintf("x%d", i+1)
		who.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + id + `</body></message>`)
		who.expect("the reflection of "+id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id })
	}
	all, _ := mamPage(t, alice, group, "")
	if got := archivedIDs(all); got != "[x1 x2 x3 x4 x5]" {
		t.Fatalf("the archive holds %s", got)
	}
	aid := map[string]string{}
	for _, m := range all {
		aid[m.id] = m.archiveID
	}

	query := func(c *client, payload string) (*xmppclient.Stanza, []*xmppclient.Stanza) {
		t.Helper()
		qid := fmt.Sprintf("qx%d", pingSeq.Add(1))
		res := c.iq(`<iq type="set" id="`+qid+`" to="`+gjid(group)+`"><query xmlns="`+nsMAM+`" queryid="`+qid+`">`+payload+`</query></iq>`, qid)
		var results []*xmppclient.Stanza
		for _, s := range c.Pending() {
			if r := s.Child(nsMAM, "result"); r != nil && r.Attr("queryid") == qid {
				results = append(results, s)
			}
		}
		for range results {
			c.expect("a result", func(s *xmppclient.Stanza) bool {
				r := s.Child(nsMAM, "result")
				return r != nil && r.Attr("queryid") == qid
			})
		}
		return res, results
	}
	inner := func(s *xmppclient.Stanza) *xmppclient.Stanza {
		m, _ := forwardedStanza(t, s.Child(nsMAM, "result").Child(nsForward, "forwarded"))
		return m
	}
	ids := func(results []*xmppclient.Stanza) string {
		var out []string
		for _, s := range results {
			out = append(out, inner(s).ID())
		}
		return strings.Join(out, " ")
	}

	t.Run("with an occupant JID and with a real JID", func(t *testing.T) {
		// bob's occupant JID, as his messages show it.
		_, res := query(alice, mamForm(map[string][]string{"ids": {aid["x2"]}}))
		occupant := inner(res[0]).From()
		for _, with := range []string{occupant, bob.bare()} {
			fin, res := query(alice, mamForm(map[string][]string{"with": {with}}))
			if got := ids(res); got != "x2 x4" {
				t.Errorf("with %s: %q, want bob's x2 x4", with, got)
			}
			if fin.Type() != "result" {
				t.Errorf("with %s: %s", with, fin.Raw)
			}
		}
		if _, res := query(alice, mamForm(map[string][]string{"with": {gjid(group)}})); ids(res) != "x1 x2 x3 x4 x5" {
			t.Errorf("with the group's own JID: %q, want every message", ids(res))
		}
	})

	t.Run("the MUC archive's result", func(t *testing.T) {
		// XEP-0313 §6.1.2: no to, from the occupant JID, the real JID in
		// a muc#user item.
		_, res := query(bob, mamForm(map[string][]string{"ids": {aid["x1"]}}))
		if len(res) != 1 {
			t.Fatalf("ids %s: %d results", aid["x1"], len(res))
		}
		m := inner(res[0])
		if _, has := m.LookupAttr("", "to"); has {
			t.Errorf("the forwarded message has a to: %s", m.String())
		}
		if !strings.HasPrefix(m.From(), gjid(group)+"/") {
			t.Errorf("the forwarded message is not from an occupant JID: %s", m.String())
		}
		if item := m.Find("{" + nsMUCUser + "}x/{" + nsMUCUser + "}item"); item == nil || item.Attr("jid") != alice.bare() {
			t.Errorf("the forwarded message does not name alice as its publisher: %s", m.String())
		}
		if res[0].From() != gjid(group) || res[0].To() != bob.full() {
			t.Errorf("the result message is from %s to %s", res[0].From(), res[0].To())
		}
	})

	t.Run("ids", func(t *testing.T) {
		_, res := query(alice, mamForm(map[string][]string{"ids": {aid["x4"], aid["x2"]}}))
		if got := ids(res); got != "x2 x4" {
			t.Errorf("ids: %q, want x2 x4 in archive order", got)
		}
		fin, _ := query(alice, mamForm(map[string][]string{"ids": {aid["x2"], "999999999"}}))
		wantError(t, fin, "cancel", "item-not-found", "")
	})

	t.Run("flip-page", func(t *testing.T) {
		fin, res := query(alice, `<set xmlns="`+nsRSM+`"><max>3</max><before/></set><flip-page/>`)
		if got := ids(res); got != "x5 x4 x3" {
			t.Errorf("a flipped last page: %q, want x5 x4 x3", got)
		}
		set := fin.Child(nsMAM, "fin").Child(nsRSM, "set")
		if set.ChildText(nsRSM, "first") != aid["x3"] || set.ChildText(nsRSM, "last") != aid["x5"] {
			t.Errorf("a flipped page's first and last stay in archive order: %s", fin.Raw)
		}
	})

	t.Run("count and index of the whole result", func(t *testing.T) {
		fin, res := query(alice, `<set xmlns="`+nsRSM+`"><max>2</max><after>`+aid["x1"]+`</after></set>`)
		set := fin.Child(nsMAM, "fin").Child(nsRSM, "set")
		if ids(res) != "x2 x3" || set.ChildText(nsRSM, "count") != "5" || set.Child(nsRSM, "first").Attr("index") != "1" {
			t.Errorf("a page after x1: %q, %s; want x2 x3, count 5, index 1", ids(res), fin.Raw)
		}
		if fin.Child(nsMAM, "fin").Attr("complete") == "true" {
			t.Errorf("a page short of the end is not complete: %s", fin.Raw)
		}
		fin, _ = query(alice, `<set xmlns="`+nsRSM+`"><max>2</max><after>`+aid["x3"]+`</after></set>`)
		if fin.Child(nsMAM, "fin").Attr("complete") != "true" {
			t.Errorf("the page that reaches the end is complete: %s", fin.Raw)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		res := bob.iq(`<iq type="get" id="md1" to="`+gjid(group)+`"><metadata xmlns="`+nsMAM+`"/></iq>`, "md1")
		md := res.Child(nsMAM, "metadata")
		if res.Type() != "result" || md == nil {
			t.Fatalf("metadata: %s", res.Raw)
		}
		start, end := md.Child(nsMAM, "start"), md.Child(nsMAM, "end")
		if start == nil || end == nil || start.Attr("id") != aid["x1"] || end.Attr("id") != aid["x5"] {
			t.Errorf("metadata %s, want start %s and end %s", res.Raw, aid["x1"], aid["x5"])
		}
		if start.Attr("timestamp") != all[0].stamp || end.Attr("timestamp") != all[4].stamp {
			t.Errorf("metadata stamps %s, want the archive's own %s and %s", res.Raw, all[0].stamp, all[4].stamp)
		}
	})

	t.Run("an unknown field", func(t *testing.T) {
		fin, _ := query(alice, mamForm(map[string][]string{"{urn:example}free-text-search": {"x1"}}))
		wantError(t, fin, "cancel", "feature-not-implemented", "")
	})
}
