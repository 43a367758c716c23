package directory_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/directory"
	"github.com/uuchat/groupchat/xmpp/history"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
	"github.com/uuchat/groupchat/xmpp/xmlnode/xmlnodetest"
)

// The seed's group (testdata/seed): groupid at groupchat.shakespeare.lit,
// with the members of its members-result example and a third one, so that
// a page can be in the middle.
var seedMembers = []domain.Member{
	{JID: "hag66@shakespeare.lit", MID: "someone-id-1", Nick: "thirdwitch", Role: domain.RoleOwner},
	{JID: "crone1@shakespeare.lit", MID: "someone-id-2", Nick: "thirdwitch1", Role: domain.RoleMember},
	{JID: "wyrd@shakespeare.lit", MID: "someone-id-3", Nick: "secondwitch", Role: domain.RoleMember},
}

func seedGroup() *domain.Group {
	g := domain.NewGroup(domain.DefaultLimits())
	g.Apply(domain.GroupCreated{GroupID: "groupid", Name: "Group Name", Type: domain.TypeSystem,
		Members: seedMembers, By: "hag66@shakespeare.lit"})
	return g
}

// The items of the members list as the seed's members-result writes them.
const (
	hagItem   = `<item jid="hag66@shakespeare.lit" mid="someone-id-1" nick="thirdwitch" role="owner"/>`
	croneItem = `<item jid="crone1@shakespeare.lit" mid="someone-id-2" nick="thirdwitch1" role="member"/>`
	wyrdItem  = `<item jid="wyrd@shakespeare.lit" mid="someone-id-3" nick="secondwitch" role="member"/>`
)

// membersRequest is the seed's members-request, with set as its <set/>.
func membersRequest(set string) string {
	return `<iq from="crone1@shakespeare.lit/desktop" id="member3" to="groupid@groupchat.shakespeare.lit" type="get">
	<query xmlns="http://jabber.org/protocol/groupchat#members">` + set + `</query></iq>`
}

func members(items, set string) string {
	return `<query xmlns="http://jabber.org/protocol/groupchat#members">` + items + set + `</query>`
}

func TestGroup(t *testing.T) {
	deleted := seedGroup()
	deleted.Apply(domain.GroupDeleted{Members: seedMembers, By: "hag66@shakespeare.lit"})
	tests := []struct {
		name    string
		group   *domain.Group
		request string
		// maxOutbound is the server's limit beyond what the answer's
		// envelope, its <query/> and a closing <set/> take (0: none).
		maxOutbound int
		want        string
		wantErr     *protocol.Error
		wantKind    domain.Kind
	}{
		{
			name: "groupinfo, the seed's example",
			request: `<iq from="hag66@shakespeare.lit/pda" id="ik3vs715" to="groupid@groupchat.shakespeare.lit" type="get">
				<query xmlns="http://jabber.org/protocol/groupchat#groupinfo"/></iq>`,
			want: `<query xmlns="http://jabber.org/protocol/groupchat#groupinfo">
				<item jid="groupid@groupchat.shakespeare.lit" id="groupid" name="Group Name" type="system" members="3"/></query>`,
		},
		{
			name:  "groupinfo of a deleted group",
			group: deleted,
			request: `<iq from="hag66@shakespeare.lit/pda" id="ik3vs715" to="groupid@groupchat.shakespeare.lit" type="get">
				<query xmlns="http://jabber.org/protocol/groupchat#groupinfo"/></iq>`,
			wantErr: &protocol.ErrNotExists,
		},
		{
			name: "disco#info of a group (PROTOCOL.md §3.4)",
			request: `<iq from="dave@example.org/laptop" id="dg1" to="groupid@groupchat.shakespeare.lit" type="get">
				<query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
			want: `<query xmlns="http://jabber.org/protocol/disco#info">
				<identity category="groupchat" type="text" name="Group Name"/>
				<identity category="conference" type="text" name="Group Name"/>
				<feature var="http://jabber.org/protocol/groupchat"/>
				<feature var="http://jabber.org/protocol/disco#info"/>
				<feature var="urn:xmpp:sid:0"/>
				<feature var="http://jabber.org/protocol/chatstates"/>
				<feature var="urn:xmpp:mam:2"/>
				<feature var="urn:xmpp:mam:2#extended"/>
				<feature var="http://jabber.org/protocol/groupchat#readers"/>
				<feature var="http://jabber.org/protocol/groupchat#push"/>
				<feature var="urn:xmpp:message-retract:1"/>
				<feature var="urn:xmpp:message-retract:1#tombstone"/>
				<feature var="urn:xmpp:message-moderate:1"/>
				<feature var="http://jabber.org/protocol/muc"/>
				<feature var="http://jabber.org/protocol/muc#stable_id"/>
				<feature var="muc_membersonly"/>
				<feature var="muc_persistent"/>
				<feature var="muc_nonanonymous"/>
				<feature var="muc_hidden"/>
				<feature var="muc_unmoderated"/>
				<feature var="muc_unsecured"/></query>`,
		},
		{
			name: "disco#items of a group: none",
			request: `<iq from="dave@example.org/laptop" id="dg3" to="groupid@groupchat.shakespeare.lit" type="get">
				<query xmlns="http://jabber.org/protocol/disco#items"/></iq>`,
			want: `<query xmlns="http://jabber.org/protocol/disco#items"/>`,
		},
		{
			name:    "members, the whole list",
			request: membersRequest(""),
			want:    members(hagItem+croneItem+wyrdItem, ""),
		},
		{
			name:    "members, the first page",
			request: membersRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>1</max></set>`),
			want: members(hagItem, `<set xmlns="http://jabber.org/protocol/rsm">
				<first index="0">someone-id-1</first><last>someone-id-1</last><count>3</count></set>`),
		},
		{
			name:    "members, a page after a cursor",
			request: membersRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>1</max><after>someone-id-1</after></set>`),
			want: members(croneItem, `<set xmlns="http://jabber.org/protocol/rsm">
				<first index="1">someone-id-2</first><last>someone-id-2</last><count>3</count></set>`),
		},
		{
			name:    "members, the last page",
			request: membersRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>2</max><before/></set>`),
			want: members(croneItem+wyrdItem, `<set xmlns="http://jabber.org/protocol/rsm">
				<first index="1">someone-id-2</first><last>someone-id-3</last><count>3</count></set>`),
		},
		{
			name:    "members, a page before a cursor",
			request: membersRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>1</max><before>someone-id-3</before></set>`),
			want: members(croneItem, `<set xmlns="http://jabber.org/protocol/rsm">
				<first index="1">someone-id-2</first><last>someone-id-2</last><count>3</count></set>`),
		},
		{
			name:    "members, the count alone (XEP-0059 §2.7)",
			request: membersRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>0</max></set>`),
			want:    members("", `<set xmlns="http://jabber.org/protocol/rsm"><count>3</count></set>`),
		},
		{
			name:    "members, a cursor that names no member",
			request: membersRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>1</max><after>nobody</after></set>`),
			wantErr: &protocol.ErrNotExists,
		},
		{
			// An item is under 100 bytes: room for one, not two.
			name:        "members cut to the server's limit",
			request:     membersRequest(""),
			maxOutbound: 120,
			want: members(hagItem, `<set xmlns="http://jabber.org/protocol/rsm">
				<first index="0">someone-id-1</first><last>someone-id-1</last><count>3</count></set>`),
		},
		{
			name:        "members from the end cut to the server's limit",
			request:     membersRequest(`<set xmlns="http://jabber.org/protocol/rsm"><before/></set>`),
			maxOutbound: 120,
			want: members(wyrdItem, `<set xmlns="http://jabber.org/protocol/rsm">
				<first index="2">someone-id-3</first><last>someone-id-3</last><count>3</count></set>`),
		},
		{
			name:        "members, not even one fits",
			request:     membersRequest(""),
			maxOutbound: 10,
			wantErr:     &protocol.ErrPolicyViolation,
		},
		{
			name: "members asked by a non-member",
			request: `<iq from="dave@shakespeare.lit/laptop" id="member3" to="groupid@groupchat.shakespeare.lit" type="get">
				<query xmlns="http://jabber.org/protocol/groupchat#members"/></iq>`,
			wantKind: domain.KindNotMember,
		},
		{
			name: "memberinfo by nick, the seed's example",
			request: `<iq from="hag66@shakespeare.lit/pda" id="member3" to="groupid@groupchat.shakespeare.lit" type="get">
				<query xmlns="http://jabber.org/protocol/groupchat#memberinfo"><property name="nick" value="thirdwitch"/></query></iq>`,
			want: `<query xmlns="http://jabber.org/protocol/groupchat#memberinfo">` + hagItem + `</query>`,
		},
		{
			name: "memberinfo by mid",
			request: `<iq from="hag66@shakespeare.lit/pda" id="member4" to="groupid@groupchat.shakespeare.lit" type="get">
				<query xmlns="http://jabber.org/protocol/groupchat#memberinfo"><property name="mid" value="someone-id-3"/></query></iq>`,
			want: `<query xmlns="http://jabber.org/protocol/groupchat#memberinfo">` + wyrdItem + `</query>`,
		},
		{
			name: "memberinfo by jid",
			request: `<iq from="hag66@shakespeare.lit/pda" id="member5" to="groupid@groupchat.shakespeare.lit" type="get">
				<query xmlns="http://jabber.org/protocol/groupchat#memberinfo"><property name="jid" value="crone1@shakespeare.lit"/></query></iq>`,
			want: `<query xmlns="http://jabber.org/protocol/groupchat#memberinfo">` + croneItem + `</query>`,
		},
		{
			name: "memberinfo of no member",
			request: `<iq from="hag66@shakespeare.lit/pda" id="member6" to="groupid@groupchat.shakespeare.lit" type="get">
				<query xmlns="http://jabber.org/protocol/groupchat#memberinfo"><property name="nick" value="firstwitch"/></query></iq>`,
			wantErr: &protocol.ErrNotExists,
		},
		{
			name: "memberinfo asked by a non-member",
			request: `<iq from="dave@shakespeare.lit/laptop" id="member7" to="groupid@groupchat.shakespeare.lit" type="get">
				<query xmlns="http://jabber.org/protocol/groupchat#memberinfo"><property name="nick" value="thirdwitch"/></query></iq>`,
			wantKind: domain.KindNotMember,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, req := parse(t, tt.request)
			a := &directory.Answerer{Addr: protocol.Addresses{Domain: "groupchat.shakespeare.lit"}, Name: "Group Chat Service"}
			if tt.maxOutbound > 0 {
				a.MaxOutboundBytes = overhead(st, tt.want) + tt.maxOutbound
			}
			g := tt.group
			if g == nil {
				g = seedGroup()
			}
			got, err := a.Group(g, st, req)
			check(t, got, err, tt.want, tt.wantErr, tt.wantKind)
		})
	}
}

// readModel is the projections as a fake: each user's groups, by id.
type readModel map[string][]history.GroupSummary

func (r readModel) GroupsOf(_ context.Context, jid string) ([]history.GroupSummary, error) {
	return r[jid], nil
}

func (r readModel) GroupByName(_ context.Context, name string) (history.GroupSummary, bool, error) {
	for _, groups := range r {
		for _, g := range groups {
			if g.Name == name {
				return g, true, nil
			}
		}
	}
	return history.GroupSummary{}, false, nil
}

// bobsGroups are bob's groups of PROTOCOL.md §4.1, and two more after them.
var bobsGroups = readModel{"bob@example.org": {
	{ID: "coven", Name: "The Coven", Type: domain.TypeCustomized, Members: 3, Role: domain.RoleMember, Unread: 3, Mentions: 1},
	{ID: "moot", Name: "The Moot", Type: domain.TypeCustomized, Members: 12, Role: domain.RoleAdmin},
	{ID: "sabbat", Name: "The Sabbat", Type: domain.TypeCustomized, Members: 2, Role: domain.RoleOwner},
	{ID: "tryst", Name: "The Tryst", Type: domain.TypeCustomized, Members: 2, Role: domain.RoleMember, Unread: 1},
}}

const (
	covenItem  = `<item id="coven" name="The Coven" members="3" role="member" unread="3" mentions="1"/>`
	mootItem   = `<item id="moot" name="The Moot" members="12" role="admin" unread="0" mentions="0"/>`
	sabbatItem = `<item id="sabbat" name="The Sabbat" members="2" role="owner" unread="0" mentions="0"/>`
	trystItem  = `<item id="tryst" name="The Tryst" members="2" role="member" unread="1" mentions="0"/>`
)

func itemsRequest(set string) string {
	return `<iq from="bob@example.org/pda" id="i3" to="groupchat.example.org" type="get">
		<query xmlns="http://jabber.org/protocol/groupchat#items">` + set + `</query></iq>`
}

func items(items, set string) string {
	return `<query xmlns="http://jabber.org/protocol/groupchat#items">` + items + set + `</query>`
}

func discoItemsRequest(set string) string {
	return `<iq from="bob@example.org/pda" id="di1" to="groupchat.example.org" type="get">
		<query xmlns="http://jabber.org/protocol/disco#items">` + set + `</query></iq>`
}

func TestService(t *testing.T) {
	tests := []struct {
		name        string
		request     string
		maxOutbound int
		want        string
		wantErr     *protocol.Error
	}{
		{
			name:    "items, the whole list (PROTOCOL.md §4.1)",
			request: itemsRequest(""),
			want:    items(covenItem+mootItem+sabbatItem+trystItem, ""),
		},
		{
			name:    "items of a user in no group",
			request: strings.Replace(itemsRequest(""), "bob@", "dave@", 1),
			want:    items("", ""),
		},
		{
			name:    "items, a page after a cursor (PROTOCOL.md §4.1)",
			request: itemsRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>1</max><after>coven</after></set>`),
			want: items(mootItem, `<set xmlns="http://jabber.org/protocol/rsm">
				<first index="1">moot</first><last>moot</last><count>4</count></set>`),
		},
		{
			name:    "items, the last page",
			request: itemsRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>2</max><before/></set>`),
			want: items(sabbatItem+trystItem, `<set xmlns="http://jabber.org/protocol/rsm">
				<first index="2">sabbat</first><last>tryst</last><count>4</count></set>`),
		},
		{
			name:    "items, a page before a cursor",
			request: itemsRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>2</max><before>tryst</before></set>`),
			want: items(mootItem+sabbatItem, `<set xmlns="http://jabber.org/protocol/rsm">
				<first index="1">moot</first><last>sabbat</last><count>4</count></set>`),
		},
		{
			name:    "items, the count alone",
			request: itemsRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>0</max></set>`),
			want:    items("", `<set xmlns="http://jabber.org/protocol/rsm"><count>4</count></set>`),
		},
		{
			name:    "items, a cursor that names none of the user's groups",
			request: itemsRequest(`<set xmlns="http://jabber.org/protocol/rsm"><after>nosuch</after></set>`),
			wantErr: &protocol.ErrNotExists,
		},
		{
			// An item is under 100 bytes: room for two, not three.
			name:        "items cut to the server's limit",
			request:     itemsRequest(""),
			maxOutbound: 180,
			want: items(covenItem+mootItem, `<set xmlns="http://jabber.org/protocol/rsm">
				<first index="0">coven</first><last>moot</last><count>4</count></set>`),
		},
		{
			name:        "items after a cursor cut to the server's limit",
			request:     itemsRequest(`<set xmlns="http://jabber.org/protocol/rsm"><after>moot</after></set>`),
			maxOutbound: 100,
			want: items(sabbatItem, `<set xmlns="http://jabber.org/protocol/rsm">
				<first index="2">sabbat</first><last>sabbat</last><count>4</count></set>`),
		},
		{
			name:    "disco#items of the service: the user's groups (PROTOCOL.md §3.3)",
			request: discoItemsRequest(""),
			want: `<query xmlns="http://jabber.org/protocol/disco#items">
				<item jid="coven@groupchat.example.org" name="The Coven"/>
				<item jid="moot@groupchat.example.org" name="The Moot"/>
				<item jid="sabbat@groupchat.example.org" name="The Sabbat"/>
				<item jid="tryst@groupchat.example.org" name="The Tryst"/></query>`,
		},
		{
			name:    "disco#items of the service, paged (XEP-0059 §3)",
			request: discoItemsRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>2</max><after>moot</after></set>`),
			want: `<query xmlns="http://jabber.org/protocol/disco#items">
				<item jid="sabbat@groupchat.example.org" name="The Sabbat"/>
				<item jid="tryst@groupchat.example.org" name="The Tryst"/>
				<set xmlns="http://jabber.org/protocol/rsm"><first index="2">sabbat</first><last>tryst</last><count>4</count></set></query>`,
		},
		{
			name:    "disco#items of the service, the count alone",
			request: discoItemsRequest(`<set xmlns="http://jabber.org/protocol/rsm"><max>0</max></set>`),
			want:    `<query xmlns="http://jabber.org/protocol/disco#items"><set xmlns="http://jabber.org/protocol/rsm"><count>4</count></set></query>`,
		},
		{
			name: "find by name (PROTOCOL.md §4.3)",
			request: `<iq from="dave@example.org/laptop" id="f2" to="groupchat.example.org" type="get">
				<query xmlns="http://jabber.org/protocol/groupchat#groupinfo"><property name="name" value="The Coven"/></query></iq>`,
			want: `<query xmlns="http://jabber.org/protocol/groupchat#groupinfo">
				<item jid="coven@groupchat.example.org" id="coven" name="The Coven" type="customized" members="3"/></query>`,
		},
		{
			name: "find by name of no group (PROTOCOL.md §4.3)",
			request: `<iq from="alice@example.org/phone" id="f1" to="groupchat.example.org" type="get">
				<query xmlns="http://jabber.org/protocol/groupchat#groupinfo"><property name="name" value="Witches"/></query></iq>`,
			wantErr: &protocol.ErrNotExists,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, req := parse(t, tt.request)
			a := &directory.Answerer{Addr: protocol.Addresses{Domain: "groupchat.example.org"}, Name: "Group Chat Service", Reads: bobsGroups}
			if tt.maxOutbound > 0 {
				a.MaxOutboundBytes = overhead(st, tt.want) + tt.maxOutbound
			}
			got, err := a.Service(context.Background(), st, req)
			check(t, got, err, tt.want, tt.wantErr, 0)
		})
	}
}

// The service's disco#info, PROTOCOL.md §3.2, with the name it is given.
func TestServiceInfo(t *testing.T) {
	const features = `<feature var="http://jabber.org/protocol/groupchat"/>
		<feature var="http://jabber.org/protocol/groupchat#items"/>
		<feature var="http://jabber.org/protocol/groupchat#groupinfo"/>
		<feature var="http://jabber.org/protocol/groupchat#members"/>
		<feature var="http://jabber.org/protocol/groupchat#memberinfo"/>
		<feature var="http://jabber.org/protocol/groupchat#creategroup"/>
		<feature var="http://jabber.org/protocol/groupchat#updategroup"/>
		<feature var="http://jabber.org/protocol/groupchat#deletegroup"/>
		<feature var="http://jabber.org/protocol/groupchat#addmember"/>
		<feature var="http://jabber.org/protocol/groupchat#removemember"/>
		<feature var="http://jabber.org/protocol/groupchat#catchup"/>
		<feature var="http://jabber.org/protocol/groupchat#readers"/>
		<feature var="http://jabber.org/protocol/disco#info"/>
		<feature var="http://jabber.org/protocol/disco#items"/>
		<feature var="urn:xmpp:ping"/>
		<feature var="urn:xmpp:sid:0"/>
		<feature var="http://jabber.org/protocol/chatstates"/>
		<feature var="http://jabber.org/protocol/rsm"/>
		<feature var="urn:xmpp:push:0"/>
		<feature var="http://jabber.org/protocol/groupchat#push"/>`
	a := &directory.Answerer{Addr: protocol.Addresses{Domain: "groupchat.example.org"}, Name: "Witches' Service"}
	sameXML(t, string(a.ServiceInfo()), `<query xmlns="http://jabber.org/protocol/disco#info">
		<identity category="groupchat" type="text" name="Witches' Service"/>`+features+`</query>`)
}

// parse takes a request the way the service does.
func parse(t *testing.T, s string) (protocol.Stanza, protocol.Request) {
	t.Helper()
	n, err := xmlnode.Parse(s, xmlnode.DefaultLimits())
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	st, err := protocol.ParseStanza(n)
	if err != nil {
		t.Fatalf("stanza %s: %v", s, err)
	}
	req, err := protocol.Parse(st)
	if err != nil {
		t.Fatalf("request %s: %v", s, err)
	}
	return st, req
}

// overhead is what an answer to st takes beside its items: the envelope,
// the <query/> (as want opens it) and room for a closing <set/>; a test's
// limit adds room for its items to it.
func overhead(st protocol.Stanza, want string) int {
	const unlimited = 1 << 20
	open := want
	if i := strings.Index(want, ">"); i >= 0 {
		open = want[:i+1]
	}
	return unlimited - protocol.ItemsBudget(unlimited, st, len(open))
}

// check compares an answer with the one expected: a payload, a stanza
// error of a condition, or a refusal of a domain kind.
func check(t *testing.T, got []byte, err error, want string, wantErr *protocol.Error, wantKind domain.Kind) {
	t.Helper()
	switch {
	case wantKind != 0:
		if k := domain.KindOf(err); k != wantKind {
			t.Fatalf("got %v (%s), want a refusal of kind %v", err, got, wantKind)
		}
	case wantErr != nil:
		var pe *protocol.Error
		if !errors.As(err, &pe) || pe.Type != wantErr.Type || pe.Condition != wantErr.Condition {
			t.Fatalf("got %v (%s), want %s", err, got, wantErr.Condition)
		}
	default:
		if err != nil {
			t.Fatalf("got %v, want %s", err, want)
		}
		if werr := xmlnodetest.WellFormed(string(got)); werr != nil {
			t.Fatalf("not well-formed: %v: %s", werr, got)
		}
		sameXML(t, string(got), want)
	}
}

var betweenTags = regexp.MustCompile(`>\s+<`)

// sameXML fails the test when got and want differ in more than attribute
// order and the whitespace between tags.
func sameXML(t *testing.T, got, want string) {
	t.Helper()
	g, w := canon(t, got), canon(t, want)
	if g != w {
		t.Errorf("XML differs\n got: %s\nwant: %s", g, w)
	}
}

// canon is s with namespaces expanded, attributes sorted and the
// whitespace between tags dropped.
func canon(t *testing.T, s string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(betweenTags.ReplaceAllString(strings.TrimSpace(s), "><")))
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return b.String()
		}
		if err != nil {
			t.Fatalf("%v: %s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			var attrs []string
			for _, a := range tok.Attr {
				if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
					attrs = append(attrs, fmt.Sprintf("%s:%s=%q", a.Name.Space, a.Name.Local, a.Value))
				}
			}
			sort.Strings(attrs)
			fmt.Fprintf(&b, "<{%s}%s %s>", tok.Name.Space, tok.Name.Local, strings.Join(attrs, " "))
		case xml.EndElement:
			fmt.Fprintf(&b, "</{%s}%s>", tok.Name.Space, tok.Name.Local)
		case xml.CharData:
			fmt.Fprintf(&b, "%q", string(tok))
		}
	}
}
