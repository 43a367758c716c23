package protocol_test

import (
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden with the rendered bytes")

const harpier = `Harpier cries: "tis time, "tis time.`

// seedRequests: what each of the seed's incoming stanzas asks of the
// service. Replies of the seed that reach the service (an error bouncing
// back, a result to an IQ) ask nothing, except that an error presence says
// that its sender's resource is gone.
var seedRequests = []struct {
	file string
	want protocol.Request
}{
	{"disco-items-request.xml", protocol.DiscoItems{}},
	{"disco-info-request.xml", protocol.DiscoInfo{}},
	{"items-request.xml", protocol.ItemsQuery{}},
	{"groupinfo-request.xml", protocol.GroupInfoQuery{Group: "groupid"}},
	{"members-request.xml", protocol.MembersQuery{Group: "groupid"}},
	{"findbyname-request.xml", protocol.FindByName{Name: "The Group Name"}},
	{"memberinfo-request.xml", protocol.MemberInfoQuery{Group: "groupid", By: domain.MemberSelector{Nick: "thirdwitch"}}},
	{"creategroup-request.xml", protocol.GroupCommand{NS: protocol.NSCreate, Group: "groupid", Command: domain.CreateGroup{
		GroupID: "groupid", Name: "the group name", Type: domain.TypeCustomized,
		Creator: domain.Member{JID: crone},
		Members: []domain.Member{{JID: hag, MID: "memberid", Nick: "nick name", Role: domain.RoleMember}},
	}}},
	{"updategroup-request.xml", protocol.GroupCommand{NS: protocol.NSUpdate, Group: "groupid", Command: domain.UpdateGroup{
		By: crone, Name: "the group name",
	}}},
	{"deletegroup-request.xml", protocol.GroupCommand{NS: protocol.NSDelete, Group: "groupid", Command: domain.DeleteGroup{By: crone}}},
	{"addmember-request.xml", protocol.GroupCommand{NS: protocol.NSAdd, Group: "groupid", Command: domain.AddMembers{
		By:      crone,
		Members: []domain.Member{{JID: hag, MID: "memberid", Nick: "nick name", Role: domain.RoleMember}},
	}}},
	{"removemember-request.xml", protocol.GroupCommand{NS: protocol.NSRemove, Group: "groupid", Command: domain.RemoveMembers{
		By:      crone,
		Members: []domain.MemberSelector{{JID: hag, MID: "memberid", Nick: "nick name"}},
	}}},
	{"message-request.xml", protocol.Post{Group: "groupid", Command: domain.PostMessage{
		Sender: hag, ID: "hysf1v37", Body: harpier,
	}}},
	{"mention-request.xml", protocol.Post{Group: "groupid", Command: domain.PostMessage{
		Sender: hag, ID: "hysf1v37", Body: harpier,
		Payload:  `<x xmlns="jabber:x:data" type="at" id="hag66@shakespeare.lit/pda"/>`,
		Mentions: []string{hag},
	}}},
	{"read-request.xml", protocol.Read{Group: "groupid", MessageID: "hysf1v37"}},

	// Replies reaching the service.
	{"disco-items-result.xml", nil},
	{"disco-info-result.xml", nil},
	{"items-result.xml", nil},
	{"groupinfo-result.xml", nil},
	{"groupinfo-not-exists.xml", nil},
	{"members-result.xml", nil},
	{"findbyname-result.xml", nil},
	{"findbyname-not-exists.xml", nil},
	{"memberinfo-result.xml", nil},
	// Errors from a bare JID with not-allowed are no delivery errors:
	// they are ignored.
	{"creategroup-error.xml", nil},
	{"updategroup-error.xml", nil},
	{"deletegroup-error.xml", nil},
	{"addmember-error.xml", nil},
	{"removemember-error.xml", nil},
}

// TestSeedRequests parses every incoming example of the seed, as the seed
// writes it (indented) and as a server usually forwards it (compact), and
// checks the exact request.
func TestSeedRequests(t *testing.T) {
	for _, tt := range seedRequests {
		raw := readSeed(t, tt.file)
		for _, form := range []struct{ name, xml string }{{"as written", raw}, {"compact", compact(raw)}} {
			t.Run(strings.TrimSuffix(tt.file, ".xml")+"/"+form.name, func(t *testing.T) {
				st, got, err := parseRequest(form.xml)
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("request\n got %#v\nwant %#v", got, tt.want)
				}
				if _, isPost := tt.want.(protocol.Post); isPost || tt.want == nil {
					return
				}
				// The requester is the sender's bare JID.
				if want := bareOf(t, raw); st.Requester() != want {
					t.Errorf("Requester() = %q, want %q", st.Requester(), want)
				}
			})
		}
	}
}

func bareOf(t *testing.T, raw string) string {
	from := mustDecode(t, raw).attr("from")
	if i := strings.IndexByte(from, '/'); i >= 0 {
		return from[:i]
	}
	return from
}

// request parses a seed request (compact) and returns it as type R.
func request[R protocol.Request](t *testing.T, file string) (protocol.Stanza, R) {
	t.Helper()
	st, req := mustRequest(t, compact(readSeed(t, file)))
	r, ok := req.(R)
	if !ok {
		t.Fatalf("%s: request %#v is a %T", file, req, req)
	}
	return st, r
}

type renderCase struct {
	name   string // golden file, without .xml
	seed   string // the seed example it must match, or ""
	render func(t *testing.T) protocol.Outbound
	check  func(t *testing.T, e *elem)
}

func postedFrom(p protocol.Post, mid string) domain.MessagePosted {
	return domain.MessagePosted{
		ID: p.Command.ID, Sender: p.Command.Sender, MID: mid, Body: p.Command.Body,
		Payload: p.Command.Payload, Mentions: p.Command.Mentions,
	}
}

func checkPresence(t *testing.T, e *elem, ns string, c protocol.Change, props map[string]string, items []domain.Member) {
	t.Helper()
	if e.Name.Local != "presence" || e.Name.Space != "" {
		t.Errorf("top element %v, want presence in the stream's namespace", e.Name)
	}
	if e.attr("from") != groupJID || e.attr("to") != croneDT {
		t.Errorf("from %q to %q", e.attr("from"), e.attr("to"))
	}
	if e.hasAttr("type") || e.hasAttr("id") {
		t.Errorf("a group presence is available and has no id: %v", e.Attrs)
	}
	if len(e.Children) == 0 || e.Children[0].Name.Space != ns || e.Children[0].Name.Local != "x" {
		t.Fatalf("first child must be <x xmlns=%q/>", ns)
	}
	// <x/> carries the previous change alone, and none for a creation.
	x := e.Children[0]
	if len(x.Children) != 0 {
		t.Errorf("<x/> has children: %v", x)
	}
	wantAttrs := 0
	if c.Previous != "" {
		wantAttrs = 1
	}
	if len(x.Attrs) != wantAttrs || x.attr("previous") != c.Previous {
		t.Errorf("<x/> attributes %v, want previous=%q only", x.Attrs, c.Previous)
	}
	checkStanzaID(t, e, c.ID)
	holder := e.child("", "properties")
	if len(props) == 0 && holder != nil {
		t.Errorf("no properties, yet a <properties/> element")
	}
	if len(props) > 0 {
		if holder == nil {
			t.Fatalf("no <properties/>")
		}
		got := map[string]string{}
		for _, p := range holder.Children {
			if p.Name.Local != "property" || p.Name.Space != "" {
				t.Errorf("unexpected %v in properties", p.Name)
			}
			got[p.attr("name")] = p.Raw
		}
		if !reflect.DeepEqual(got, props) {
			t.Errorf("properties %v, want %v", got, props)
		}
	}
	var gotItems []domain.Member
	for _, c := range e.Children {
		if c.Name.Local == "item" {
			if c.Name.Space != "" {
				t.Errorf("item in namespace %q", c.Name.Space)
			}
			gotItems = append(gotItems, domain.Member{JID: c.attr("jid"), MID: c.attr("mid"), Nick: c.attr("nick"), Role: domain.Role(c.attr("role"))})
		}
	}
	if !reflect.DeepEqual(gotItems, items) {
		t.Errorf("items %v, want %v", gotItems, items)
	}
}

func checkMessage(t *testing.T, e *elem, from, to, id string) {
	t.Helper()
	if e.Name.Local != "message" || e.Name.Space != "" {
		t.Errorf("top element %v", e.Name)
	}
	if e.attr("type") != "groupchat" || e.attr("from") != from || e.attr("to") != to || e.attr("id") != id || e.hasAttr("id") != (id != "") {
		t.Errorf("attributes %v, want type groupchat from %q to %q id %q", e.Attrs, from, to, id)
	}
}

func checkStanzaID(t *testing.T, e *elem, archiveID string) {
	t.Helper()
	last := e.Children[len(e.Children)-1]
	if last.Name.Space != protocol.NSSID || last.Name.Local != "stanza-id" {
		t.Fatalf("last child %v, want the service's stanza-id", last.Name)
	}
	if last.attr("by") != groupJID || last.attr("id") != archiveID {
		t.Errorf("stanza-id by %q id %q, want by %q id %q", last.attr("by"), last.attr("id"), groupJID, archiveID)
	}
	n := 0
	for _, c := range e.Children {
		if c.Name.Space == protocol.NSSID && c.Name.Local == "stanza-id" && c.attr("by") == groupJID {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d stanza-ids by the group, want exactly 1", n)
	}
}

func checkIQResult(t *testing.T, e *elem, req protocol.Stanza, ns string) {
	t.Helper()
	if e.Name.Local != "iq" || e.attr("type") != "result" {
		t.Errorf("top element %v type %q", e.Name, e.attr("type"))
	}
	if e.attr("id") != req.ID || e.attr("from") != req.To.String() || e.attr("to") != req.From.String() {
		t.Errorf("id %q from %q to %q; want the request's id %q, from %q, to %q",
			e.attr("id"), e.attr("from"), e.attr("to"), req.ID, req.To, req.From)
	}
	if ns == "" {
		if len(e.Children) != 0 {
			t.Errorf("an empty result has children")
		}
		return
	}
	if len(e.Children) != 1 || e.Children[0].Name.Space != ns || e.Children[0].Name.Local != "query" {
		t.Errorf("want exactly one <query xmlns=%q/>, got %d children", ns, len(e.Children))
	}
}

func renderCases() []renderCase {
	occupant := groupJID + "/memberid"
	var cases []renderCase
	// Group presences.
	cases = append(cases,
		renderCase{
			name: "creategroup-broadcast", seed: "creategroup-broadcast.xml",
			render: func(t *testing.T) protocol.Outbound {
				_, c := request[protocol.GroupCommand](t, "creategroup-request.xml")
				create := c.Command.(domain.CreateGroup)
				return protocol.GroupPresence(groupJID, c.NS, protocol.Change{ID: "10"}, []protocol.Property{{Name: "name", Value: create.Name}, {Name: "id", Value: c.Group}}, nil).For(croneDT)
			},
			check: func(t *testing.T, e *elem) {
				checkPresence(t, e, protocol.NSCreate, protocol.Change{ID: "10"}, map[string]string{"name": "the group name", "id": "groupid"}, nil)
			},
		},
		renderCase{
			name: "updategroup-reply", seed: "updategroup-reply.xml",
			render: func(t *testing.T) protocol.Outbound {
				st, c := request[protocol.GroupCommand](t, "updategroup-request.xml")
				u := c.Command.(domain.UpdateGroup)
				return protocol.GroupReply(groupJID, st.ID, c.NS, protocol.Change{ID: "12", Previous: "11"}, []protocol.Property{{Name: "name", Value: u.Name}, {Name: "id", Value: c.Group}}).For(croneDT)
			},
			check: func(t *testing.T, e *elem) {
				checkPresence(t, e, protocol.NSUpdate, protocol.Change{ID: "12", Previous: "11"}, map[string]string{"name": "the group name", "id": "groupid"}, nil)
			},
		},
		renderCase{
			name: "updategroup-broadcast", seed: "updategroup-broadcast.xml",
			render: func(t *testing.T) protocol.Outbound {
				return protocol.GroupPresence(groupJID, protocol.NSUpdate, protocol.Change{ID: "12", Previous: "11"}, []protocol.Property{{Name: "name", Value: "the group name"}}, nil).For(croneDT)
			},
			check: func(t *testing.T, e *elem) {
				checkPresence(t, e, protocol.NSUpdate, protocol.Change{ID: "12", Previous: "11"}, map[string]string{"name": "the group name"}, nil)
			},
		},
		renderCase{
			name: "updategroup-owner-broadcast",
			render: func(t *testing.T) protocol.Outbound {
				return protocol.GroupPresence(groupJID, protocol.NSUpdate, protocol.Change{ID: "13", Previous: "12"}, []protocol.Property{{Name: "owner", Value: hag}}, nil).For(croneDT)
			},
			check: func(t *testing.T, e *elem) {
				checkPresence(t, e, protocol.NSUpdate, protocol.Change{ID: "13", Previous: "12"}, map[string]string{"owner": hag}, nil)
			},
		},
		renderCase{
			name: "deletegroup-broadcast", seed: "deletegroup-broadcast.xml",
			render: func(t *testing.T) protocol.Outbound {
				_, c := request[protocol.GroupCommand](t, "deletegroup-request.xml")
				return protocol.GroupPresence(groupJID, c.NS, protocol.Change{ID: "15", Previous: "14"}, nil, nil).For(croneDT)
			},
			check: func(t *testing.T, e *elem) {
				checkPresence(t, e, protocol.NSDelete, protocol.Change{ID: "15", Previous: "14"}, nil, nil)
				if len(e.Children) != 2 {
					t.Errorf("a deletion carries only <x/> and its stanza-id: %d children", len(e.Children))
				}
			},
		},
		renderCase{
			name: "addmember-broadcast", seed: "addmember-broadcast.xml",
			render: func(t *testing.T) protocol.Outbound {
				_, c := request[protocol.GroupCommand](t, "addmember-request.xml")
				return protocol.GroupPresence(groupJID, c.NS, protocol.Change{ID: "11", Previous: "10"}, nil, c.Command.(domain.AddMembers).Members).For(croneDT)
			},
			check: func(t *testing.T, e *elem) {
				checkPresence(t, e, protocol.NSAdd, protocol.Change{ID: "11", Previous: "10"}, nil, []domain.Member{{JID: hag, MID: "memberid", Nick: "nick name", Role: domain.RoleMember}})
			},
		},
		renderCase{
			name: "removemember-broadcast", seed: "removemember-broadcast.xml",
			render: func(t *testing.T) protocol.Outbound {
				_, c := request[protocol.GroupCommand](t, "removemember-request.xml")
				var removed []domain.Member
				for _, sel := range c.Command.(domain.RemoveMembers).Members {
					removed = append(removed, domain.Member{JID: sel.JID, MID: sel.MID, Nick: sel.Nick, Role: domain.RoleMember})
				}
				return protocol.GroupPresence(groupJID, c.NS, protocol.Change{ID: "14", Previous: "13"}, nil, removed).For(croneDT)
			},
			check: func(t *testing.T, e *elem) {
				checkPresence(t, e, protocol.NSRemove, protocol.Change{ID: "14", Previous: "13"}, nil, []domain.Member{{JID: hag, MID: "memberid", Nick: "nick name", Role: domain.RoleMember}})
			},
		},
		renderCase{
			name: "addmember-broadcast-many",
			render: func(t *testing.T) protocol.Outbound {
				return protocol.GroupPresence(groupJID, protocol.NSAdd, protocol.Change{ID: "11", Previous: "10"}, nil, []domain.Member{
					{JID: hag, MID: "m1", Nick: "thirdwitch", Role: domain.RoleAdmin},
					{JID: "someone@shakespeare.lit", MID: "m2", Role: domain.RoleMember},
				}).For(croneDT)
			},
			check: func(t *testing.T, e *elem) {
				checkPresence(t, e, protocol.NSAdd, protocol.Change{ID: "11", Previous: "10"}, nil, []domain.Member{
					{JID: hag, MID: "m1", Nick: "thirdwitch", Role: domain.RoleAdmin},
					{JID: "someone@shakespeare.lit", MID: "m2", Role: domain.RoleMember},
				})
				if e.Children[2].hasAttr("nick") {
					t.Errorf("an empty nick is left out")
				}
			},
		},
		renderCase{
			name: "group-presence-escaping",
			render: func(t *testing.T) protocol.Outbound {
				return protocol.GroupPresence(groupJID, protocol.NSCreate, protocol.Change{ID: "10"},
					[]protocol.Property{{Name: "name", Value: `Tom & Jerry's <"best"> group ]]>` + "\r\n"}, {Name: "id", Value: "groupid"}},
					[]domain.Member{{JID: hag, MID: `m"1`, Nick: "<b>&amp;\t'x'", Role: domain.RoleMember}}).For(croneDT)
			},
			check: func(t *testing.T, e *elem) {
				checkPresence(t, e, protocol.NSCreate, protocol.Change{ID: "10"},
					map[string]string{"name": `Tom & Jerry's <"best"> group ]]>` + "\r\n", "id": "groupid"},
					[]domain.Member{{JID: hag, MID: `m"1`, Nick: "<b>&amp;\t'x'", Role: domain.RoleMember}})
			},
		},
	)

	// Group messages and read receipts.
	cases = append(cases,
		renderCase{
			name: "message-broadcast", seed: "message-broadcast.xml",
			render: func(t *testing.T) protocol.Outbound {
				_, p := request[protocol.Post](t, "message-request.xml")
				return protocol.GroupMessage(occupant, groupJID, postedFrom(p, "memberid"), protocol.ArchiveID(1)).For(hagPDA)
			},
			check: func(t *testing.T, e *elem) {
				checkMessage(t, e, occupant, hagPDA, "hysf1v37")
				if b := e.child("", "body"); b == nil || b.Raw != harpier {
					t.Errorf("body = %v, want %q", b, harpier)
				}
				checkStanzaID(t, e, "1")
				if len(e.Children) != 2 {
					t.Errorf("%d children, want body and stanza-id", len(e.Children))
				}
			},
		},
		renderCase{
			name: "mention-broadcast", seed: "mention-broadcast.xml",
			render: func(t *testing.T) protocol.Outbound {
				_, p := request[protocol.Post](t, "mention-request.xml")
				return protocol.GroupMessage(occupant, groupJID, postedFrom(p, "memberid"), protocol.ArchiveID(2)).For(hagPDA)
			},
			check: func(t *testing.T, e *elem) {
				checkMessage(t, e, occupant, hagPDA, "hysf1v37")
				x := e.child(protocol.NSDataForms, "x")
				if x == nil || x.attr("type") != "at" || x.attr("id") != hagPDA {
					t.Errorf("the mention passes unchanged: %v", x)
				}
				checkStanzaID(t, e, "2")
			},
		},
		renderCase{
			name: "message-extensions-broadcast",
			render: func(t *testing.T) protocol.Outbound {
				_, req := mustRequest(t, extensionsMessage)
				p := req.(protocol.Post)
				return protocol.GroupMessage(occupant, groupJID, postedFrom(p, "memberid"), protocol.ArchiveID(18446744073709551615)).For(croneDT)
			},
			check: func(t *testing.T, e *elem) {
				checkMessage(t, e, occupant, croneDT, "hysf1v38")
				for _, want := range []struct{ space, local string }{
					{"", "body"}, {"urn:xmpp:reply:0", "reply"}, {"urn:xmpp:fallback:0", "fallback"},
					{"urn:xmpp:receipts", "request"}, {"urn:xmpp:reactions:0", "reactions"},
					{"eu.siacs.conversations.axolotl", "encrypted"}, {"urn:xmpp:hints", "store"},
					{protocol.NSSID, "origin-id"}, {"", "thread"},
				} {
					if e.child(want.space, want.local) == nil {
						t.Errorf("<%s xmlns=%q/> is missing", want.local, want.space)
					}
				}
				checkStanzaID(t, e, "18446744073709551615")
			},
		},
		renderCase{
			name: "message-escaping",
			render: func(t *testing.T) protocol.Outbound {
				m := domain.MessagePosted{ID: `m"1&<2>`, Sender: hag, MID: "m&1", Body: "a < b && c > d\r\n\"q\" 'tis ]]> 🙂\t"}
				return protocol.GroupMessage(groupJID+"/m&1", groupJID, m, "7").For(`hag66@shakespeare.lit/<pda & "co">`)
			},
			check: func(t *testing.T, e *elem) {
				checkMessage(t, e, groupJID+"/m&1", `hag66@shakespeare.lit/<pda & "co">`, `m"1&<2>`)
				if b := e.child("", "body"); b == nil || b.Raw != "a < b && c > d\r\n\"q\" 'tis ]]> 🙂\t" {
					t.Errorf("body read back as %q", b.Raw)
				}
			},
		},
		renderCase{
			name: "message-broadcast-no-body",
			render: func(t *testing.T) protocol.Outbound {
				m := domain.MessagePosted{ID: "r1", Sender: hag, MID: "memberid",
					Payload: `<reactions xmlns="urn:xmpp:reactions:0" id="1"><reaction>👍</reaction></reactions>`}
				return protocol.GroupMessage(occupant, groupJID, m, "3").For(hagPDA)
			},
			check: func(t *testing.T, e *elem) {
				checkMessage(t, e, occupant, hagPDA, "r1")
				if e.child("", "body") != nil {
					t.Errorf("an empty body is left out")
				}
				checkStanzaID(t, e, "3")
			},
		},
		renderCase{
			name: "message-read-receipt", seed: "message-read-receipt.xml",
			render: func(t *testing.T) protocol.Outbound {
				_, r := request[protocol.Read](t, "read-request.xml")
				return protocol.ReadReceipt(occupant, r.MessageID).For(hagPDA)
			},
			check: func(t *testing.T, e *elem) {
				checkMessage(t, e, occupant, hagPDA, "")
				if len(e.Children) != 1 {
					t.Fatalf("a receipt carries only <read/>")
				}
				if r := e.child(protocol.NSChatStates, "read"); r == nil || r.attr("id") != "hysf1v37" {
					t.Errorf("read = %v", r)
				}
			},
		},
		renderCase{
			name: "mention-read-receipt", seed: "mention-read-receipt.xml",
			render: func(t *testing.T) protocol.Outbound {
				return protocol.ReadReceipt(occupant, protocol.ArchiveID(2)).For(hagPDA)
			},
			check: func(t *testing.T, e *elem) {
				checkMessage(t, e, occupant, hagPDA, "")
				if r := e.child(protocol.NSChatStates, "read"); r == nil || r.attr("id") != "2" {
					t.Errorf("read = %v", r)
				}
			},
		},
	)

	ping := `<iq from="hag66@shakespeare.lit/pda" id="ping-1" to="groupchat.shakespeare.lit" type="get"><ping xmlns="urn:xmpp:ping"/></iq>`
	cases = append(cases,
		renderCase{
			name: "ping-result",
			render: func(t *testing.T) protocol.Outbound {
				return protocol.IQResult(mustStanza(t, ping), nil)
			},
			check: func(t *testing.T, e *elem) { checkIQResult(t, e, mustStanza(t, ping), "") },
		},
	)

	// Errors answering the seed's requests.
	for _, ex := range []struct {
		req, res string
		err      protocol.Error
	}{
		{"groupinfo-request.xml", "groupinfo-not-exists.xml", protocol.ErrNotExists},
		{"findbyname-request.xml", "findbyname-not-exists.xml", protocol.ErrNotExists},
		{"creategroup-request.xml", "creategroup-error.xml", protocol.ErrNotAllowed},
		{"updategroup-request.xml", "updategroup-error.xml", protocol.ErrNotAllowed},
		{"deletegroup-request.xml", "deletegroup-error.xml", protocol.ErrNotAllowed},
		{"addmember-request.xml", "addmember-error.xml", protocol.ErrNotAllowed},
		{"removemember-request.xml", "removemember-error.xml", protocol.ErrNotAllowed},
	} {
		cases = append(cases, renderCase{
			name: strings.TrimSuffix(ex.res, ".xml"), seed: ex.res,
			render: func(t *testing.T) protocol.Outbound {
				return protocol.ErrorReply(mustStanza(t, compact(readSeed(t, ex.req))), ex.err.With(""))
			},
			check: func(t *testing.T, e *elem) {
				checkErrorReply(t, e, mustStanza(t, compact(readSeed(t, ex.req))), ex.err)
			},
		})
	}
	return cases
}

// TestRender renders every reply and broadcast, compares the bytes with the
// golden files, checks their structure, and compares those the seed shows
// with the seed's example.
func TestRender(t *testing.T) {
	for _, tc := range renderCases() {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.render(t)
			got := out.String()
			checkGolden(t, tc.name+".xml", got)
			if err := checkNamespaceWellFormed(got); err != nil {
				t.Fatalf("rendered XML is not well-formed: %v\n%s", err, got)
			}
			if _, err := parseNode(got); err != nil {
				t.Errorf("xmlnode cannot read the rendered XML: %v", err)
			}
			e := mustDecode(t, got)
			tc.check(t, e)
			if tc.seed != "" {
				sameXML(t, got, readSeed(t, tc.seed))
			}
		})
	}
}

// checkErrorReply checks an error answer to st: RFC 6120 shape, the defined
// condition, the seed's name in the groupchat namespace, the echo of the
// request's operation.
func checkErrorReply(t *testing.T, e *elem, st protocol.Stanza, want protocol.Error) {
	t.Helper()
	if e.Name.Local != st.Kind || e.Name.Space != "" {
		t.Errorf("top element %v, want %s", e.Name, st.Kind)
	}
	if e.attr("type") != "error" {
		t.Errorf("type = %q, want error", e.attr("type"))
	}
	if e.attr("id") != st.ID || e.hasAttr("id") != (st.ID != "") {
		t.Errorf("id = %q, want the request's %q", e.attr("id"), st.ID)
	}
	wantFrom := st.To.String()
	if st.Kind == "presence" {
		wantFrom = st.To.Bare().String()
	}
	if e.attr("from") != wantFrom || e.attr("to") != st.From.String() {
		t.Errorf("from %q to %q, want from %q to %q", e.attr("from"), e.attr("to"), wantFrom, st.From)
	}
	errEl := e.child("", "error")
	if errEl == nil {
		t.Fatalf("no <error/> child of the %s", st.Kind)
	}
	if errEl.attr("type") != string(want.Type) {
		t.Errorf("error type = %q, want %q", errEl.attr("type"), want.Type)
	}
	if errEl.attr("by") != st.To.Bare().String() {
		t.Errorf("error by = %q, want %q", errEl.attr("by"), st.To.Bare())
	}
	kids := errEl.Children
	wantKids := 1
	if len(kids) == 0 || kids[0].Name.Space != protocol.NSStanzas || kids[0].Name.Local != want.Condition {
		t.Fatalf("first child of <error/> must be the defined condition <%s xmlns=%q/>", want.Condition, protocol.NSStanzas)
	}
	i := 1
	if want.Text != "" {
		wantKids++
		if len(kids) <= i || kids[i].Name != (xml.Name{Space: protocol.NSStanzas, Local: "text"}) || kids[i].Raw != want.Text {
			t.Errorf("want <text xmlns=%q>%s</text> after the condition", protocol.NSStanzas, want.Text)
		}
		i++
	}
	if want.SeedName != "" {
		wantKids++
		if len(kids) <= i || kids[i].Name.Space != protocol.NSGroupchat || kids[i].Name.Local != want.SeedName || len(kids[i].Attrs) != 0 {
			t.Errorf("want the seed's <%s xmlns=%q/> last", want.SeedName, protocol.NSGroupchat)
		}
	}
	if len(kids) != wantKids {
		t.Errorf("<error/> has %d children, want %d", len(kids), wantKids)
	}
	// The echo: the operation's <x/> for a presence, the query for an iq.
	switch st.Kind {
	case "presence":
		var op string
		for _, ns := range []string{protocol.NSCreate, protocol.NSUpdate, protocol.NSDelete, protocol.NSAdd, protocol.NSRemove} {
			if st.Node.ChildNS(ns) != nil {
				op = ns
			}
		}
		if op != "" {
			if x := e.child(op, "x"); x == nil || len(x.Children) != 0 {
				t.Errorf("want <x xmlns=%q/> echoed", op)
			}
		}
	case "iq":
		var q *xmlnode.Node
		for _, c := range st.Node.Children {
			if !c.IsText() {
				q = c
				break
			}
		}
		if q != nil {
			echo := e.child(q.Name.Space, q.Name.Local)
			if echo == nil || len(echo.Children) != 0 {
				t.Errorf("want <%s xmlns=%q/> echoed", q.Name.Local, q.Name.Space)
			} else if echo.attr("node") != q.Attr("node") {
				t.Errorf("echoed node = %q, want %q", echo.attr("node"), q.Attr("node"))
			}
		}
	case "message":
		if len(e.Children) != 1 {
			t.Errorf("a message error carries only <error/>: %d children", len(e.Children))
		}
	}
}

// TestStatusCodes checks the status-code table of SPEC.md: each error's
// type, defined condition and seed name, and its rendering in reply to each
// kind of stanza.
func TestStatusCodes(t *testing.T) {
	groupinfo := compact(readSeed(t, "groupinfo-request.xml"))
	members := compact(readSeed(t, "members-request.xml"))
	deleteGroup := compact(readSeed(t, "deletegroup-request.xml"))
	create := compact(readSeed(t, "creategroup-request.xml"))
	message := compact(readSeed(t, "message-request.xml"))
	updateReq := compact(readSeed(t, "updategroup-request.xml"))
	discoNode := `<iq from="hag66@shakespeare.lit/pda" id="dn1" to="groupid@groupchat.shakespeare.lit" type="get"><query xmlns="http://jabber.org/protocol/disco#info" node="urn:x:node"/></iq>`
	unknown := `<iq from="hag66@shakespeare.lit/pda" id="u1" to="groupchat.shakespeare.lit" type="get"><vCard xmlns="vcard-temp"/></iq>`
	badItem := `<presence from="crone1@shakespeare.lit/desktop" to="groupid@groupchat.shakespeare.lit"><x xmlns="http://jabber.org/protocol/groupchat#addmember"/><item nick="n"/></presence>`
	occupantCreate := `<presence from="crone1@shakespeare.lit/desktop" to="groupid@groupchat.shakespeare.lit/thirdwitch" id="p1"><x xmlns="http://jabber.org/protocol/groupchat#creategroup"/></presence>`

	tests := []struct {
		name     string
		err      *protocol.Error
		stanza   string
		typ      protocol.ErrorType
		cond     string
		seedName string
	}{
		{"error-item-not-found", protocol.ErrNotExists.With("the group does not exist"), groupinfo, protocol.Cancel, "item-not-found", "not-exists"},
		{"error-not-allowed", protocol.ErrNotAllowed.With("only the owner deletes the group"), deleteGroup, protocol.Cancel, "not-allowed", "not-allowed"},
		{"error-forbidden", protocol.ErrForbidden.With("only members may see the group's members"), members, protocol.Auth, "forbidden", "not-allowed"},
		{"error-conflict", protocol.ErrConflict.With("the group id is taken"), create, protocol.Cancel, "conflict", ""},
		{"error-conflict-occupant-address", protocol.ErrConflict.With(""), occupantCreate, protocol.Cancel, "conflict", ""},
		{"error-bad-request", protocol.ErrBadRequest.With("an item has no jid"), badItem, protocol.Modify, "bad-request", ""},
		{"error-jid-malformed", protocol.ErrJIDMalformed.With("an item's jid is not a valid user JID"), badItem, protocol.Modify, "jid-malformed", ""},
		{"error-policy-violation", protocol.ErrPolicyViolation.With("the body is longer than 65536 bytes"), message, protocol.Modify, "policy-violation", ""},
		{"error-resource-constraint", protocol.ErrRateLimited.With("too many messages; slow down"), message, protocol.Wait, "resource-constraint", ""},
		{"error-internal-server-error", protocol.ErrorFor(errors.New("sqlite: database is locked")), updateReq, protocol.Wait, "internal-server-error", ""},
		{"error-service-unavailable", protocol.ErrServiceUnavailable.With(""), unknown, protocol.Cancel, "service-unavailable", ""},
		{"error-item-not-found-disco-node", protocol.ErrNotExists.With("no such node"), discoNode, protocol.Cancel, "item-not-found", "not-exists"},
		{"error-escaped-text", protocol.ErrBadRequest.With(`the name "<&>" is not allowed`), updateReq, protocol.Modify, "bad-request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err.Type != tt.typ || tt.err.Condition != tt.cond || tt.err.SeedName != tt.seedName {
				t.Errorf("error = {%s %s %s}, want {%s %s %s}", tt.err.Type, tt.err.Condition, tt.err.SeedName, tt.typ, tt.cond, tt.seedName)
			}
			st := mustStanza(t, tt.stanza)
			out := protocol.ErrorReply(st, tt.err)
			if out.To != st.From.String() {
				t.Errorf("Outbound.To = %q, want the sender %q", out.To, st.From)
			}
			got := out.String()
			checkGolden(t, tt.name+".xml", got)
			if err := checkNamespaceWellFormed(got); err != nil {
				t.Fatalf("rendered XML is not well-formed: %v\n%s", err, got)
			}
			checkErrorReply(t, mustDecode(t, got), st, *tt.err)
		})
	}
}

func TestErrorFor(t *testing.T) {
	tests := []struct {
		name string
		in   error
		want protocol.Error
	}{
		{"not found", &domain.Error{Kind: domain.KindNotFound, Text: "no such group"}, protocol.Error{Type: protocol.Cancel, Condition: "item-not-found", SeedName: "not-exists", Text: "no such group"}},
		{"not allowed", &domain.Error{Kind: domain.KindNotAllowed, Text: "owner only"}, protocol.Error{Type: protocol.Cancel, Condition: "not-allowed", SeedName: "not-allowed", Text: "owner only"}},
		{"not a member", &domain.Error{Kind: domain.KindNotMember, Text: "members only"}, protocol.Error{Type: protocol.Auth, Condition: "forbidden", SeedName: "not-allowed", Text: "members only"}},
		{"conflict", &domain.Error{Kind: domain.KindConflict, Text: "taken"}, protocol.Error{Type: protocol.Cancel, Condition: "conflict", Text: "taken"}},
		{"bad request", &domain.Error{Kind: domain.KindBadRequest, Text: "empty name"}, protocol.Error{Type: protocol.Modify, Condition: "bad-request", Text: "empty name"}},
		{"limit", &domain.Error{Kind: domain.KindLimit, Text: "1000 members at most"}, protocol.Error{Type: protocol.Modify, Condition: "policy-violation", Text: "1000 members at most"}},
		{"wrapped domain error", fmt.Errorf("deciding: %w", &domain.Error{Kind: domain.KindNotFound, Text: "gone"}), protocol.Error{Type: protocol.Cancel, Condition: "item-not-found", SeedName: "not-exists", Text: "gone"}},
		{"protocol error as is", protocol.ErrJIDMalformed.With("bad"), protocol.Error{Type: protocol.Modify, Condition: "jid-malformed", Text: "bad"}},
		{"wrapped protocol error", fmt.Errorf("parse: %w", protocol.ErrBadRequest.With("x")), protocol.Error{Type: protocol.Modify, Condition: "bad-request", Text: "x"}},
		{"unknown domain kind", &domain.Error{Kind: 200, Text: "secret detail"}, protocol.Error{Type: protocol.Wait, Condition: "internal-server-error", Text: "the service could not complete the request; try again"}},
		{"store failure hides details", errors.New("open /var/lib/groupchat.db: permission denied"), protocol.Error{Type: protocol.Wait, Condition: "internal-server-error", Text: "the service could not complete the request; try again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := protocol.ErrorFor(tt.in)
			if got == nil || *got != tt.want {
				t.Errorf("ErrorFor = %+v, want %+v", got, tt.want)
			}
		})
	}
	// With copies: the table's values never change.
	_ = protocol.ErrNotExists.With("changed")
	if protocol.ErrNotExists.Text != "" {
		t.Errorf("With changed the table's value")
	}
	if got := protocol.ErrBadRequest.With("why").Error(); got != "bad-request: why" {
		t.Errorf("Error() = %q", got)
	}
	if got := protocol.ErrBadRequest.With("").Error(); got != "bad-request" {
		t.Errorf("Error() = %q", got)
	}
}

// TestOutbound: a broadcast is encoded once; For changes only the
// recipient, escaped like any attribute value.
func TestOutbound(t *testing.T) {
	o := protocol.GroupPresence(groupJID, protocol.NSDelete, protocol.Change{}, nil, nil)
	if o.To != "" {
		t.Errorf("a broadcast has no recipient yet: %q", o.To)
	}
	a, b := o.For(hagPDA), o.For(`crone1@shakespeare.lit/a"b&c`)
	if o.To != "" || a.To != hagPDA {
		t.Errorf("For must copy: o.To %q a.To %q", o.To, a.To)
	}
	if &a.Head[0] != &o.Head[0] || &b.Tail[0] != &o.Tail[0] {
		t.Errorf("For must share the encoded head and tail")
	}
	if got, want := b.String(), `<presence from="groupid@groupchat.shakespeare.lit" to="crone1@shakespeare.lit/a&#34;b&amp;c"><x xmlns="http://jabber.org/protocol/groupchat#deletegroup"/></presence>`; got != want {
		t.Errorf("String()\n got %s\nwant %s", got, want)
	}
	if got := string(a.AppendTo([]byte("prefix:"))); got != "prefix:"+a.String() {
		t.Errorf("AppendTo = %s", got)
	}
	if got, want := string(protocol.AppendStart(nil, "item", true, protocol.A("jid", "a@b"), protocol.A("nick", ""), protocol.A("x", `<"'>`))), `<item jid="a@b" x="&lt;&#34;&#39;&gt;"/>`; got != want {
		t.Errorf("AppendStart = %s, want %s (empty values left out)", got, want)
	}
	if got, want := string(protocol.AppendElementText(nil, "body", "a<b&c", protocol.A("xml:lang", "en"))), `<body xml:lang="en">a&lt;b&amp;c</body>`; got != want {
		t.Errorf("AppendElementText = %s, want %s", got, want)
	}
	if got := protocol.ArchiveID(0); got != "0" {
		t.Errorf("ArchiveID(0) = %q", got)
	}
}
