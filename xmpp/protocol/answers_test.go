package protocol_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// readGolden reads a golden file written by hand from docs/PROTOCOL.md or
// an XEP. Unlike checkGolden's files, -update never rewrites these: the
// expected answer must not come from the code under test.
func readGolden(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatalf("golden file: %v", err)
	}
	return string(b)
}

// list renders a list answer as the service does: OpenList, the items the
// window keeps (appendList chooses the window with protocol.Cut), CloseList.
func list(ns string, keys []string, items [][]byte, w protocol.Window) []byte {
	return protocol.CloseList(protocol.AppendWindow(protocol.OpenList(ns), keys, items, w))
}

// Requests from docs/PROTOCOL.md's examples, for the answers written from
// the same examples.
const (
	docItemsRequest      = `<iq from="bob@example.org/pda" id="i2" to="groupchat.example.org" type="get"><query xmlns="http://jabber.org/protocol/groupchat#items"/></iq>`
	docItemsPagedRequest = `<iq from="bob@example.org/pda" id="i3" to="groupchat.example.org" type="get"><query xmlns="http://jabber.org/protocol/groupchat#items"><set xmlns="http://jabber.org/protocol/rsm"><max>1</max><after>coven</after></set></query></iq>`
	docDiscoInfoRequest  = `<iq from="alice@example.org/phone" id="lx09df27" to="groupchat.example.org" type="get"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`
	docGroupInfoRequest  = `<iq from="dave@example.org/laptop" id="dg1" to="coven@groupchat.example.org" type="get"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`
	docGroupItemsRequest = `<iq from="dave@example.org/laptop" id="dg3" to="coven@groupchat.example.org" type="get"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`
	docDiscoItemsRequest = `<iq from="bob@example.org/pda" id="di1" to="groupchat.example.org" type="get"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`
	docReadersRequest    = `<iq from="alice@example.org/phone" id="rd1" to="coven@groupchat.example.org" type="get"><query xmlns="http://jabber.org/protocol/groupchat#readers" id="hysf1v37"/></iq>`
	docFormRequest       = `<iq from="carol@example.org/tablet" id="form1" to="coven@groupchat.example.org" type="get"><query xmlns="urn:xmpp:mam:2"/></iq>`
)

// TestAnswerPayloads renders each IQ answer with the renderer the service
// uses and compares it, structurally, with an expected stanza written
// independently of the code: the seed's example (testdata/seed, its errata
// fixed), or a golden file written by hand from docs/PROTOCOL.md or the XEP
// (testdata/golden/answer-*.xml), or the literal example given here.
func TestAnswerPayloads(t *testing.T) {
	seedItems := []protocol.UserGroup{
		{ID: "groupid1", Name: "Group Name 1", Members: 100, Role: domain.RoleOwner},
		{ID: "groupid2", Name: "Group Name 2", Members: 100, Role: domain.RoleMember},
		{ID: "groupid3", Name: "Group Name 3", Members: 100, Role: domain.RoleMember},
	}
	var seedKeys []string
	var seedRendered [][]byte
	for _, g := range seedItems {
		seedKeys, seedRendered = append(seedKeys, g.ID), append(seedRendered, protocol.ItemsItem(g))
	}
	docGroups := []protocol.UserGroup{
		{ID: "coven", Name: "The Coven", Members: 3, Role: domain.RoleMember, Unread: 3, Mentions: 1},
		{ID: "moot", Name: "The Moot", Members: 12, Role: domain.RoleAdmin},
		{ID: "sabbat", Name: "The Sabbat", Members: 5, Role: domain.RoleMember},
		{ID: "thorn", Name: "Thorn", Members: 2, Role: domain.RoleOwner},
	}
	var docKeys []string
	var docRendered [][]byte
	for _, g := range docGroups {
		docKeys, docRendered = append(docKeys, g.ID), append(docRendered, protocol.ItemsItem(g))
	}
	seedMembers := []domain.Member{
		{JID: hag, MID: "someone-id-1", Nick: "thirdwitch", Role: domain.RoleOwner},
		{JID: crone, MID: "someone-id-2", Nick: "thirdwitch1", Role: domain.RoleMember},
	}
	var memberKeys []string
	var memberItems [][]byte
	for _, m := range seedMembers {
		memberKeys, memberItems = append(memberKeys, m.MID), append(memberItems, protocol.AppendMemberItem(nil, m))
	}

	seedReq := func(file string) func(t *testing.T) protocol.Stanza {
		return func(t *testing.T) protocol.Stanza { return mustStanza(t, compact(readSeed(t, file))) }
	}
	docReq := func(s string) func(t *testing.T) protocol.Stanza {
		return func(t *testing.T) protocol.Stanza { return mustStanza(t, s) }
	}
	fromSeed := func(file string) func(t *testing.T) string {
		return func(t *testing.T) string { return readSeed(t, file) }
	}
	fromGolden := func(file string) func(t *testing.T) string {
		return func(t *testing.T) string { return readGolden(t, file) }
	}
	literal := func(s string) func(t *testing.T) string { return func(*testing.T) string { return s } }

	tests := []struct {
		name    string
		request func(t *testing.T) protocol.Stanza
		payload []byte
		ns      string // the payload's namespace
		want    func(t *testing.T) string
	}{
		{
			name:    "groupinfo",
			request: seedReq("groupinfo-request.xml"),
			payload: protocol.GroupInfoResult(protocol.GroupInfo{JID: groupJID, ID: "groupid", Name: "Group Name", Type: domain.TypeSystem, Members: 100}),
			ns:      protocol.NSGroupInfo,
			want:    fromSeed("groupinfo-result.xml"),
		},
		{
			name:    "findbyname",
			request: seedReq("findbyname-request.xml"),
			payload: protocol.GroupInfoResult(protocol.GroupInfo{JID: groupJID, ID: "groupid", Name: "Group Name", Type: domain.TypeCustomized, Members: 100}),
			ns:      protocol.NSGroupInfo,
			want:    fromSeed("findbyname-result.xml"),
		},
		{
			name:    "members",
			request: seedReq("members-request.xml"),
			payload: list(protocol.NSMembers, memberKeys, memberItems, protocol.Window{Lo: 0, Hi: 2, Count: 2}),
			ns:      protocol.NSMembers,
			want:    fromSeed("members-result.xml"),
		},
		{
			name:    "memberinfo",
			request: seedReq("memberinfo-request.xml"),
			payload: protocol.MemberInfoResult(domain.Member{JID: hag, MID: "someone-id-1", Nick: "thirdwitch", Role: domain.RoleOwner}),
			ns:      protocol.NSMemberInfo,
			want:    fromSeed("memberinfo-result.xml"),
		},
		{
			name:    "items",
			request: seedReq("items-request.xml"),
			payload: list(protocol.NSItems, seedKeys, seedRendered, protocol.Window{Lo: 0, Hi: 3, Count: 3}),
			ns:      protocol.NSItems,
			want:    fromGolden("answer-items-result.xml"),
		},
		{
			name:    "items-counters",
			request: docReq(docItemsRequest),
			payload: list(protocol.NSItems, docKeys[:1], docRendered[:1], protocol.Window{Lo: 0, Hi: 1, Count: 1}),
			ns:      protocol.NSItems,
			want:    fromGolden("answer-items-counters.xml"),
		},
		{
			name:    "items-paged",
			request: docReq(docItemsPagedRequest),
			payload: list(protocol.NSItems, docKeys, docRendered, protocol.Window{Lo: 1, Hi: 2, Count: 4, Paged: true}),
			ns:      protocol.NSItems,
			want:    fromGolden("answer-items-paged.xml"),
		},
		{
			name:    "items-escaping",
			request: docReq(docItemsRequest),
			payload: list(protocol.NSItems, []string{"g&1"},
				[][]byte{protocol.ItemsItem(protocol.UserGroup{ID: "g&1", Name: `Tom & Jerry's <"best">`, Members: 2, Role: domain.RoleOwner})},
				protocol.Window{Lo: 0, Hi: 1, Count: 1}),
			ns: protocol.NSItems,
			want: literal(`<iq from="groupchat.example.org" id="i2" to="bob@example.org/pda" type="result">` +
				`<query xmlns="http://jabber.org/protocol/groupchat#items">` +
				`<item id="g&amp;1" name="Tom &amp; Jerry&apos;s &lt;&quot;best&quot;&gt;" members="2" role="owner" unread="0" mentions="0"/>` +
				`</query></iq>`),
		},
		{
			name:    "disco-info-service",
			request: docReq(docDiscoInfoRequest),
			payload: protocol.DiscoInfoResult(protocol.Features, protocol.GroupchatIdentity("Group Chat Service")),
			ns:      protocol.NSDiscoInfo,
			want:    fromGolden("answer-disco-info-service.xml"),
		},
		{
			name:    "disco-info-group",
			request: docReq(docGroupInfoRequest),
			payload: protocol.DiscoInfoResult(append(protocol.GroupFeatures, protocol.RoomFeatures...), protocol.GroupchatIdentity("Witches"), protocol.RoomIdentity("Witches")),
			ns:      protocol.NSDiscoInfo,
			want:    fromGolden("answer-disco-info-group.xml"),
		},
		{
			name:    "disco-items-service",
			request: docReq(docDiscoItemsRequest),
			payload: list(protocol.NSDiscoItems, []string{"coven"}, [][]byte{protocol.DiscoItem("coven@groupchat.example.org", "Witches")}, protocol.Window{Lo: 0, Hi: 1, Count: 1}),
			ns:      protocol.NSDiscoItems,
			want:    fromGolden("answer-disco-items-service.xml"),
		},
		{
			// docs/PROTOCOL.md §3.4: a group has no items.
			name:    "disco-items-group",
			request: docReq(docGroupItemsRequest),
			payload: protocol.EmptyDiscoItems(),
			ns:      protocol.NSDiscoItems,
			want: literal(`<iq from="coven@groupchat.example.org" id="dg3" to="dave@example.org/laptop" type="result">` +
				`<query xmlns="http://jabber.org/protocol/disco#items"/></iq>`),
		},
		{
			name:    "readers",
			request: docReq(docReadersRequest),
			payload: protocol.ReadersResult("hysf1v37", []protocol.Reader{
				{JID: "bob@example.org", MID: "bob", Nick: "Bob", Read: true},
				{JID: "carol@example.org", MID: "carol", Nick: "Carol", Read: true},
				{JID: "dave@example.org", MID: "dave", Nick: "Dave"},
			}),
			ns:   protocol.NSReaders,
			want: fromGolden("answer-readers.xml"),
		},
		{
			name:    "archive-form",
			request: docReq(docFormRequest),
			payload: protocol.ArchiveFormResult(),
			ns:      protocol.NSMAM,
			want:    fromGolden("answer-archive-form.xml"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.request(t)
			got := protocol.IQResult(st, tt.payload).String()
			if err := checkNamespaceWellFormed(got); err != nil {
				t.Fatalf("rendered XML is not well-formed: %v\n%s", err, got)
			}
			if _, err := parseNode(got); err != nil {
				t.Errorf("xmlnode cannot read the rendered XML: %v", err)
			}
			checkIQResult(t, mustDecode(t, got), st, tt.ns)
			sameXML(t, got, tt.want(t))
		})
	}
}

// TestCatchUpGroup compares the counters at the head of a catch-up answer
// with docs/PROTOCOL.md §7.1's examples, and one whose attributes need
// escaping.
func TestCatchUpGroup(t *testing.T) {
	tests := []struct {
		name string
		g    protocol.UserGroup
		want string
	}{
		{"after a position", protocol.UserGroup{JID: "coven@groupchat.example.org", ID: "coven", Name: "The Coven", Role: domain.RoleMember, Members: 3, Unread: 1},
			`<group jid="coven@groupchat.example.org" id="coven" name="The Coven" role="member" members="3" unread="1" mentions="0"/>`},
		{"latest page", protocol.UserGroup{JID: "coven@groupchat.example.org", ID: "coven", Name: "The Coven", Role: domain.RoleMember, Members: 3},
			`<group jid="coven@groupchat.example.org" id="coven" name="The Coven" role="member" members="3" unread="0" mentions="0"/>`},
		{"escaping", protocol.UserGroup{JID: "moot@groupchat.example.org", ID: "moot", Name: `Tom & Jerry's <"best">`, Role: domain.RoleAdmin, Members: 12, Unread: 7, Mentions: 2},
			`<group jid="moot@groupchat.example.org" id="moot" name="Tom &amp; Jerry&apos;s &lt;&quot;best&quot;&gt;" role="admin" members="12" unread="7" mentions="2"/>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameXML(t, string(protocol.CatchUpGroup(tt.g)), tt.want)
		})
	}
}

// TestDiscoNodesDoNotExist: the service and its groups have no nodes, so a
// query naming one is item-not-found (XEP-0030 §3.2 and §4.2), not an
// answer about the address itself.
func TestDiscoNodesDoNotExist(t *testing.T) {
	for _, req := range []string{
		`<iq from="dave@example.org/laptop" id="dg2" to="coven@groupchat.example.org" type="get"><query xmlns="http://jabber.org/protocol/disco#info" node="http://example.org/client#QgayPKawpkPSDYmwT/WM94uAlu0="/></iq>`,
		`<iq from="dave@example.org/laptop" id="dg4" to="groupchat.example.org" type="get"><query xmlns="http://jabber.org/protocol/disco#info" node="http://jabber.org/protocol/commands"/></iq>`,
		`<iq from="dave@example.org/laptop" id="dg5" to="groupchat.example.org" type="get"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`,
	} {
		_, got, err := parseRequest(req)
		if e := stanzaError(err); e == nil || e.Condition != "item-not-found" {
			t.Errorf("%s: got %v, %v; want item-not-found", req, got, err)
		}
	}
}
