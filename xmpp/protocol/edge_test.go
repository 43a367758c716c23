package protocol_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Stanza builders for the edge cases: the sender is crone1 (presences, IQs)
// or hag66 (messages).
func pres(to, typ, inner string) string {
	if typ != "" {
		typ = ` type="` + typ + `"`
	}
	return `<presence from="crone1@shakespeare.lit/desktop" to="` + to + `"` + typ + `>` + inner + `</presence>`
}

func msg(to, typ, inner string) string {
	if typ != "" {
		typ = ` type="` + typ + `"`
	}
	return `<message from="hag66@shakespeare.lit/pda" id="m1" to="` + to + `"` + typ + `>` + inner + `</message>`
}

func iq(to, typ, inner string) string {
	return `<iq from="crone1@shakespeare.lit/desktop" id="q1" to="` + to + `" type="` + typ + `">` + inner + `</iq>`
}

const (
	xCreate = `<x xmlns="http://jabber.org/protocol/groupchat#creategroup"/>`
	xUpdate = `<x xmlns="http://jabber.org/protocol/groupchat#updategroup"/>`
	xDelete = `<x xmlns="http://jabber.org/protocol/groupchat#deletegroup"/>`
	xAdd    = `<x xmlns="http://jabber.org/protocol/groupchat#addmember"/>`
	xRemove = `<x xmlns="http://jabber.org/protocol/groupchat#removemember"/>`
	named   = `<properties><property name="name">G</property></properties>`
)

func props(inner string) string { return `<properties>` + inner + `</properties>` }

func updateCmd(u domain.UpdateGroup) protocol.GroupCommand {
	u.By = crone
	return protocol.GroupCommand{NS: protocol.NSUpdate, Group: "groupid", Command: u}
}

func createIn(group string, members ...domain.Member) protocol.GroupCommand {
	return protocol.GroupCommand{NS: protocol.NSCreate, Group: group, Command: domain.CreateGroup{
		GroupID: group, Name: "G", Type: domain.TypeCustomized, Creator: domain.Member{JID: crone}, Members: members,
	}}
}

func create(members ...domain.Member) protocol.GroupCommand { return createIn("groupid", members...) }

func add(members ...domain.Member) protocol.GroupCommand {
	return protocol.GroupCommand{NS: protocol.NSAdd, Group: "groupid", Command: domain.AddMembers{By: crone, Members: members}}
}

func remove(sels ...domain.MemberSelector) protocol.GroupCommand {
	return protocol.GroupCommand{NS: protocol.NSRemove, Group: "groupid", Command: domain.RemoveMembers{By: crone, Members: sels}}
}

func post(c domain.PostMessage) protocol.Post {
	c.Sender = hag
	if c.ID == "" {
		c.ID = "m1"
	}
	return protocol.Post{Group: "groupid", Command: c}
}

type parseCase struct {
	name string
	xml  string
	want protocol.Request
	// err is the error expected (type and condition compared), or nil.
	err *protocol.Error
}

func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, got, err := parseRequest(tc.xml)
			if tc.err != nil {
				pe := stanzaError(err)
				if pe == nil {
					t.Fatalf("got (%#v, %v), want a %s error", got, err, tc.err.Condition)
				}
				if pe.Type != tc.err.Type || pe.Condition != tc.err.Condition {
					t.Errorf("error %s/%s (%v), want %s/%s", pe.Type, pe.Condition, pe, tc.err.Type, tc.err.Condition)
				}
				if got != nil {
					t.Errorf("a refused stanza gives no request: %#v", got)
				}
				// The refusal renders as a well-formed error reply.
				out := protocol.ErrorReply(st, pe).String()
				if err := checkNamespaceWellFormed(out); err != nil {
					t.Fatalf("error reply is not well-formed: %v\n%s", err, out)
				}
				checkErrorReply(t, mustDecode(t, out), st, *pe)
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %#v", err, tc.want)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("request\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestProperties(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "as text", xml: pres(groupJID, "", xUpdate+props(`<property name="name">New name</property>`)),
			want: updateCmd(domain.UpdateGroup{Name: "New name"})},
		{name: "as value attribute", xml: pres(groupJID, "", xUpdate+props(`<property name="name" value="New name"/>`)),
			want: updateCmd(domain.UpdateGroup{Name: "New name"})},
		{name: "text trimmed", xml: pres(groupJID, "", xUpdate+props("<property name=\"name\">\n   New  name \t\n</property>")),
			want: updateCmd(domain.UpdateGroup{Name: "New  name"})},
		{name: "value attribute kept as is", xml: pres(groupJID, "", xUpdate+props(`<property name="name" value=" spaced "/>`)),
			want: updateCmd(domain.UpdateGroup{Name: " spaced "})},
		{name: "value attribute before text", xml: pres(groupJID, "", xUpdate+props(`<property name="name" value="A">B</property>`)),
			want: updateCmd(domain.UpdateGroup{Name: "A"})},
		{name: "escaped text", xml: pres(groupJID, "", xUpdate+props(`<property name="name">Tom &amp; Jerry&apos;s &lt;group&gt;</property>`)),
			want: updateCmd(domain.UpdateGroup{Name: "Tom & Jerry's <group>"})},
		{name: "first of a repeated name", xml: pres(groupJID, "", xUpdate+props(`<property name="name">first</property><property name="name">second</property>`)),
			want: updateCmd(domain.UpdateGroup{Name: "first"})},
		{name: "directly in the presence", xml: pres(groupJID, "", xUpdate+`<property name="name">New name</property>`),
			want: updateCmd(domain.UpdateGroup{Name: "New name"})},
		{name: "unnamed property ignored", xml: pres(groupJID, "", xUpdate+props(`<property>x</property><property name="name">N</property>`)),
			want: updateCmd(domain.UpdateGroup{Name: "N"})},
		{name: "owner given full", xml: pres(groupJID, "", xUpdate+props(`<property name="owner">hag66@shakespeare.lit/pda</property>`)),
			want: updateCmd(domain.UpdateGroup{NewOwner: hag})},
		{name: "owner as value attribute", xml: pres(groupJID, "", xUpdate+props(`<property name="owner" value="hag66@shakespeare.lit"/>`)),
			want: updateCmd(domain.UpdateGroup{NewOwner: hag})},
		{name: "owner invalid", xml: pres(groupJID, "", xUpdate+props(`<property name="owner">not a jid@shakespeare.lit</property>`)),
			err: &protocol.ErrBadRequest},
		{name: "empty name as text", xml: pres(groupJID, "", xUpdate+props(`<property name="name">  </property>`)),
			err: &protocol.ErrBadRequest},
		{name: "empty name as value", xml: pres(groupJID, "", xUpdate+props(`<property name="name" value=""/>`)),
			err: &protocol.ErrBadRequest},
		{name: "nothing to change", xml: pres(groupJID, "", xUpdate),
			want: updateCmd(domain.UpdateGroup{})},
		{name: "creator's mid and nick", xml: pres(groupJID, "", xCreate+props(`<property name="name" value="G"/><property name="mid" value="m0"/><property name="nick">the crone</property>`)),
			want: protocol.GroupCommand{NS: protocol.NSCreate, Group: "groupid", Command: domain.CreateGroup{
				GroupID: "groupid", Name: "G", Type: domain.TypeCustomized, Creator: domain.Member{JID: crone, MID: "m0", Nick: "the crone"}}}},
		{name: "find by name as text", xml: iq(service, "get", `<query xmlns="http://jabber.org/protocol/groupchat#groupinfo"><property name="name">The Group Name</property></query>`),
			want: protocol.FindByName{Name: "The Group Name"}},
		{name: "member by nick as text", xml: iq(groupJID, "get", `<query xmlns="http://jabber.org/protocol/groupchat#memberinfo"><property name="nick">thirdwitch</property></query>`),
			want: protocol.MemberInfoQuery{Group: "groupid", By: domain.MemberSelector{Nick: "thirdwitch"}}},
	})
}

func TestMemberItems(t *testing.T) {
	hagItem := `<item jid="hag66@shakespeare.lit/pda" mid="m1" nick="thirdwitch" role="member"/>`
	hagMember := domain.Member{JID: hag, MID: "m1", Nick: "thirdwitch", Role: domain.RoleMember}
	runParseCases(t, []parseCase{
		{name: "create: directly in the presence", xml: pres(groupJID, "", xCreate+named+hagItem), want: create(hagMember)},
		{name: "create: in the x element", xml: pres(groupJID, "", `<x xmlns="http://jabber.org/protocol/groupchat#creategroup">`+hagItem+`</x>`+named), want: create(hagMember)},
		{name: "create: in property members", xml: pres(groupJID, "", xCreate+props(`<property name="name">G</property><property name="members">`+hagItem+`</property>`)), want: create(hagMember)},
		{name: "create: in all three places", xml: pres(groupJID, "",
			`<x xmlns="http://jabber.org/protocol/groupchat#creategroup"><item jid="b@shakespeare.lit"/></x>`+
				props(`<property name="name">G</property><property name="members"><item jid="c@shakespeare.lit"/></property>`)+
				`<item jid="a@shakespeare.lit"/>`),
			want: create(domain.Member{JID: "a@shakespeare.lit"}, domain.Member{JID: "b@shakespeare.lit"}, domain.Member{JID: "c@shakespeare.lit"})},
		{name: "create: bare jid", xml: pres(groupJID, "", xCreate+named+`<item jid="hag66@shakespeare.lit"/>`), want: create(domain.Member{JID: hag})},
		{name: "create: jid normalized", xml: pres(groupJID, "", xCreate+named+`<item jid="Hag66@Shakespeare.LIT/PDA"/>`), want: create(domain.Member{JID: hag})},
		{name: "create: role admin passed on", xml: pres(groupJID, "", xCreate+named+`<item jid="hag66@shakespeare.lit" role="admin"/>`), want: create(domain.Member{JID: hag, Role: domain.RoleAdmin})},
		{name: "create: invalid jid", xml: pres(groupJID, "", xCreate+named+`<item jid="not a jid@shakespeare.lit"/>`), err: &protocol.ErrBadRequest},
		{name: "create: jid without localpart", xml: pres(groupJID, "", xCreate+named+`<item jid="shakespeare.lit"/>`), err: &protocol.ErrBadRequest},
		{name: "create: missing jid", xml: pres(groupJID, "", xCreate+named+`<item nick="n" mid="m"/>`), err: &protocol.ErrBadRequest},
		{name: "create: empty jid", xml: pres(groupJID, "", xCreate+named+`<item jid=""/>`), err: &protocol.ErrBadRequest},
		{name: "create: system type", xml: pres(groupJID, "", xCreate+props(`<property name="name">G</property><property name="type">system</property>`)),
			want: protocol.GroupCommand{NS: protocol.NSCreate, Group: "groupid", SystemType: true, TypeGiven: true, Command: domain.CreateGroup{
				GroupID: "groupid", Name: "G", Type: domain.TypeSystem, Creator: domain.Member{JID: crone}}}},
		{name: "create: customized type", xml: pres(groupJID, "", xCreate+props(`<property name="name">G</property><property name="type" value="customized"/>`)), want: func() protocol.GroupCommand {
			c := create()
			c.TypeGiven = true
			return c
		}()},
		{name: "create: unknown type", xml: pres(groupJID, "", xCreate+props(`<property name="name">G</property><property name="type">secret</property>`)), err: &protocol.ErrBadRequest},
		{name: "create: at the service's address", xml: pres(service, "", xCreate+named), want: createIn("")},
		{name: "create: at an occupant of the service", xml: pres(service+"/x", "", xCreate+named), err: &protocol.ErrBadRequest},
		{name: "create: at an occupant of the group", xml: pres(groupJID+"/thirdwitch", "", xCreate+named), want: create()},

		{name: "add: directly in the presence", xml: pres(groupJID, "", xAdd+hagItem), want: add(hagMember)},
		{name: "add: in the x element", xml: pres(groupJID, "", `<x xmlns="http://jabber.org/protocol/groupchat#addmember">`+hagItem+`<item jid="crone2@shakespeare.lit/x" mid="m2"/></x>`),
			want: add(hagMember, domain.Member{JID: "crone2@shakespeare.lit", MID: "m2"})},
		{name: "add: in property members", xml: pres(groupJID, "", xAdd+props(`<property name="members">`+hagItem+`</property>`)), want: add(hagMember)},
		{name: "add: no item", xml: pres(groupJID, "", xAdd), err: &protocol.ErrBadRequest},
		{name: "add: invalid jid", xml: pres(groupJID, "", xAdd+`<item jid="hag66@shakespeare.lit/pda" mid="1"/><item jid="@shakespeare.lit"/>`), err: &protocol.ErrBadRequest},
		{name: "add: missing jid", xml: pres(groupJID, "", xAdd+hagItem+`<item mid="m2"/>`), err: &protocol.ErrBadRequest},
		{name: "add: at the service's address", xml: pres(service, "", xAdd+hagItem), err: &protocol.ErrBadRequest},

		{name: "remove: full jid", xml: pres(groupJID, "", xRemove+`<item jid="hag66@shakespeare.lit/pda"/>`), want: remove(domain.MemberSelector{JID: hag})},
		{name: "remove: by mid", xml: pres(groupJID, "", xRemove+`<item mid="m1"/>`), want: remove(domain.MemberSelector{MID: "m1"})},
		{name: "remove: by nick", xml: pres(groupJID, "", xRemove+`<item nick="thirdwitch"/>`), want: remove(domain.MemberSelector{Nick: "thirdwitch"})},
		{name: "remove: in the x element", xml: pres(groupJID, "", `<x xmlns="http://jabber.org/protocol/groupchat#removemember"><item jid="hag66@shakespeare.lit"/></x>`), want: remove(domain.MemberSelector{JID: hag})},
		{name: "remove: in property members", xml: pres(groupJID, "", xRemove+props(`<property name="members"><item mid="m1"/></property>`)), want: remove(domain.MemberSelector{MID: "m1"})},
		{name: "remove: leave (itself)", xml: pres(groupJID, "", xRemove+`<item jid="crone1@shakespeare.lit/desktop"/>`), want: remove(domain.MemberSelector{JID: crone})},
		{name: "remove: invalid jid", xml: pres(groupJID, "", xRemove+`<item jid="a@b@c"/>`), err: &protocol.ErrBadRequest},
		{name: "remove: no item", xml: pres(groupJID, "", xRemove), err: &protocol.ErrBadRequest},
		{name: "remove: at the service's address", xml: pres(service, "", xRemove+`<item mid="m1"/>`), err: &protocol.ErrBadRequest},

		{name: "delete: at the service's address", xml: pres(service, "", xDelete), err: &protocol.ErrBadRequest},
	})
}

func TestPresence(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "available at the group", xml: pres(groupJID, "", ""), want: protocol.Availability{Online: true}},
		{name: "available at the service", xml: pres(service, "", `<show>away</show><priority>5</priority>`), want: protocol.Availability{Online: true}},
		// XEP-0045 §7.2.2, §7.2.15, §7.14: entering, with history asked for, and leaving.
		{name: "MUC join", xml: pres(groupJID+"/thirdwitch", "", `<x xmlns="http://jabber.org/protocol/muc"/>`),
			want: protocol.RoomJoin{Group: "groupid", Nick: "thirdwitch", History: protocol.RoomHistory{MaxStanzas: -1, MaxChars: -1, Seconds: -1}}},
		{name: "MUC join with history", xml: pres(groupJID+"/thirdwitch", "", `<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="20" seconds="180"/></x>`),
			want: protocol.RoomJoin{Group: "groupid", Nick: "thirdwitch", History: protocol.RoomHistory{MaxStanzas: 20, MaxChars: -1, Seconds: 180}}},
		{name: "MUC join with bad history", xml: pres(groupJID+"/thirdwitch", "", `<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="many"/></x>`), err: &protocol.ErrBadRequest},
		{name: "MUC exit", xml: pres(groupJID+"/thirdwitch", "unavailable", ``), want: protocol.RoomLeave{Group: "groupid"}},
		{name: "MUC presence update or nick change", xml: pres(groupJID+"/thirdwitch", "", `<show>away</show>`), want: protocol.NickChange{Group: "groupid", Nick: "thirdwitch"}},
		// XEP-0045 §7.12: the reserved nick's disco node.
		{name: "reserved nick", xml: iq(groupJID, "get", `<query xmlns="http://jabber.org/protocol/disco#info" node="x-roomuser-item"/>`), want: protocol.ReservedNick{Group: "groupid"}},
		{name: "unavailable", xml: pres(service, "unavailable", ""), want: protocol.Availability{Online: false}},
		{name: "unavailable with an operation", xml: pres(groupJID, "unavailable", xDelete), want: protocol.Availability{Online: false}},
		{name: "error", xml: pres(service, "error", `<error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`), want: protocol.Bounce{}},
		{name: "error with an operation and no error element", xml: pres(groupJID, "error", xCreate), want: protocol.Bounce{}},
		{name: "subscribe", xml: pres(groupJID, "subscribe", ""), want: nil},
		{name: "subscribed", xml: pres(service, "subscribed", ""), want: nil},
		{name: "probe", xml: pres(groupJID, "probe", xCreate), want: nil},
	})
}

// TestDeliveryErrors: only an error that tells a resource is gone marks it
// offline: from a full JID, with a condition on which Prosody's MUC removes
// an occupant (muc/util.lib.lua), or without an <error/> element (Prosody's
// "malformed error"). Every other error is ignored.
func TestDeliveryErrors(t *testing.T) {
	withCondition := func(cond string) string {
		return `<error type="cancel"><` + cond + ` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`
	}
	var cases []parseCase
	for _, cond := range []string{"gone", "internal-server-error", "item-not-found", "jid-malformed", "recipient-unavailable",
		"redirect", "remote-server-not-found", "remote-server-timeout", "service-unavailable"} {
		cases = append(cases,
			parseCase{name: "message " + cond, xml: msg(groupJID, "error", withCondition(cond)), want: protocol.Bounce{}},
			parseCase{name: "presence " + cond, xml: pres(service, "error", withCondition(cond)), want: protocol.Bounce{}})
	}
	for _, cond := range []string{"not-acceptable", "feature-not-implemented", "bad-request", "forbidden", "not-allowed",
		"policy-violation", "resource-constraint", "undefined-condition"} {
		cases = append(cases,
			parseCase{name: "message " + cond, xml: msg(groupJID, "error", withCondition(cond)), want: nil},
			parseCase{name: "presence " + cond, xml: pres(service, "error", withCondition(cond)), want: nil})
	}
	cases = append(cases,
		parseCase{name: "text before the condition", xml: msg(groupJID, "error", `<error type="cancel"><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">gone</text><gone xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`), want: protocol.Bounce{}},
		parseCase{name: "an application condition only", xml: msg(groupJID, "error", `<error type="cancel"><gone xmlns="urn:example"/></error>`), want: nil},
		parseCase{name: "no error element", xml: msg(groupJID, "error", ``), want: protocol.Bounce{}},
		parseCase{name: "from a bare JID", xml: `<message from="hag66@shakespeare.lit" id="m1" to="` + groupJID + `" type="error">` + withCondition("service-unavailable") + `</message>`, want: nil},
		parseCase{name: "presence from a bare JID", xml: `<presence from="crone1@shakespeare.lit" to="` + service + `" type="error">` + withCondition("gone") + `</presence>`, want: nil},
	)
	runParseCases(t, cases)
}

func TestMessage(t *testing.T) {
	const (
		states  = "http://jabber.org/protocol/chatstates"
		markers = "urn:xmpp:chat-markers:0"
	)
	transient := func(payload string) protocol.Transient {
		return protocol.Transient{Group: "groupid", ID: "m1", Payload: payload}
	}
	runParseCases(t, []parseCase{
		{name: "type chat", xml: msg(groupJID, "chat", `<body>hi</body>`), err: &protocol.ErrBadRequest},
		{name: "type normal", xml: msg(groupJID, "", `<body>hi</body>`), err: &protocol.ErrBadRequest},
		{name: "type headline", xml: msg(groupJID, "headline", `<body>hi</body>`), err: &protocol.ErrBadRequest},
		{name: "type error", xml: msg(groupJID, "error", `<body>hi</body><error type="cancel"><gone xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`), want: protocol.Bounce{}},
		{name: "type error to the service", xml: msg(service, "error", ``), want: protocol.Bounce{}},
		{name: "to an occupant", xml: msg(groupJID+"/memberid", "groupchat", `<body>hi</body>`), err: &protocol.ErrBadRequest},
		{name: "a private message through the group", xml: msg(groupJID+"/memberid", "chat", `<body>hi</body>`), want: protocol.PrivateMessage{}},
		{name: "to the service", xml: msg(service, "groupchat", `<body>hi</body>`), err: &protocol.ErrBadRequest},

		{name: "chat state only: composing (relayed live)", xml: msg(groupJID, "groupchat", `<composing xmlns="`+states+`"/>`), want: protocol.Transient{Group: "groupid", ID: "m1", Payload: `<composing xmlns="http://jabber.org/protocol/chatstates"/>`}},
		{name: "chat state only: active (relayed live)", xml: msg(groupJID, "groupchat", `<active xmlns="`+states+`"/>`), want: protocol.Transient{Group: "groupid", ID: "m1", Payload: `<active xmlns="http://jabber.org/protocol/chatstates"/>`}},
		{name: "chat state only: paused (relayed live)", xml: msg(groupJID, "groupchat", `<paused xmlns="`+states+`"/>`), want: protocol.Transient{Group: "groupid", ID: "m1", Payload: `<paused xmlns="http://jabber.org/protocol/chatstates"/>`}},
		{name: "chat state only: inactive (relayed live)", xml: msg(groupJID, "groupchat", `<inactive xmlns="`+states+`"/>`), want: protocol.Transient{Group: "groupid", ID: "m1", Payload: `<inactive xmlns="http://jabber.org/protocol/chatstates"/>`}},
		{name: "chat state only: gone (relayed live)", xml: msg(groupJID, "groupchat", `<gone xmlns="`+states+`"/>`), want: protocol.Transient{Group: "groupid", ID: "m1", Payload: `<gone xmlns="http://jabber.org/protocol/chatstates"/>`}},
		{name: "chat state and a forged stanza-id", xml: msg(groupJID, "groupchat", `<composing xmlns="`+states+`"/><stanza-id xmlns="urn:xmpp:sid:0" by="groupid@groupchat.shakespeare.lit" id="x"/>`), want: protocol.Transient{Group: "groupid", ID: "m1", Payload: `<composing xmlns="http://jabber.org/protocol/chatstates"/>`}},
		{name: "empty message", xml: msg(groupJID, "groupchat", ``), want: nil},
		// XEP-0334, example 3: a chat state notification marked not to be
		// stored is still only a chat state notification.
		{name: "chat state with a no-store hint", xml: msg(groupJID, "groupchat", `<composing xmlns="`+states+`"/><no-store xmlns="urn:xmpp:hints"/>`), want: protocol.Transient{Group: "groupid", ID: "m1", Payload: `<composing xmlns="http://jabber.org/protocol/chatstates"/><no-store xmlns="urn:xmpp:hints"/>`}},
		// A signal stays a signal beside envelope metadata: what is archived,
		// counted and pushed is decided by content.
		{name: "chat state with an origin-id (Monal, Smack)", xml: msg(groupJID, "groupchat", `<composing xmlns="`+states+`"/><origin-id xmlns="urn:xmpp:sid:0" id="o1"/>`),
			want: transient(`<composing xmlns="` + states + `"/><origin-id xmlns="urn:xmpp:sid:0" id="o1"/>`)},
		// XEP-0333, example "marker response to a markable MUC message": relayed
		// live, and a read of the message it names.
		{name: "displayed marker in a thread", xml: msg(groupJID, "groupchat", `<thread>Act IV, Scene I</thread><displayed xmlns="`+markers+`" id="39K7ZYIp"/>`),
			want: protocol.Read{Group: "groupid", MessageID: "39K7ZYIp",
				Marker: transient(`<thread>Act IV, Scene I</thread><displayed xmlns="` + markers + `" id="39K7ZYIp"/>`)}},
		// XEP-0184: a receipt, with the sender's origin-id.
		{name: "delivery receipt with an origin-id", xml: msg(groupJID, "groupchat", `<received xmlns="urn:xmpp:receipts" id="m0"/><origin-id xmlns="urn:xmpp:sid:0" id="o2"/>`),
			want: transient(`<received xmlns="urn:xmpp:receipts" id="m0"/><origin-id xmlns="urn:xmpp:sid:0" id="o2"/>`)},
		// XEP-0334 §4.3: a store hint asks to archive what would not be; the
		// marker is stored as a signal (never unread) and is still a read.
		{name: "displayed marker with a store hint", xml: msg(groupJID, "groupchat", `<displayed xmlns="`+markers+`" id="x"/><store xmlns="urn:xmpp:hints"/>`),
			want: protocol.Read{Group: "groupid", MessageID: "x", Marker: post(domain.PostMessage{
				Payload: `<displayed xmlns="` + markers + `" id="x"/><store xmlns="urn:xmpp:hints"/>`, Kind: domain.StoredSignal})}},
		{name: "chat state with a delay", xml: msg(groupJID, "groupchat", `<paused xmlns="`+states+`"/><delay xmlns="urn:xmpp:delay" stamp="2002-09-10T23:08:25Z"/>`),
			want: transient(`<paused xmlns="` + states + `"/><delay xmlns="urn:xmpp:delay" stamp="2002-09-10T23:08:25Z"/>`)},
		{name: "chat state with a stanza-id of the sender's server", xml: msg(groupJID, "groupchat", `<active xmlns="`+states+`"/><stanza-id xmlns="urn:xmpp:sid:0" by="shakespeare.lit" id="s1"/>`),
			want: transient(`<active xmlns="` + states + `"/><stanza-id xmlns="urn:xmpp:sid:0" by="shakespeare.lit" id="s1"/>`)},
		{name: "a thread in another namespace is content", xml: msg(groupJID, "groupchat", `<composing xmlns="`+states+`"/><thread xmlns="urn:example">t</thread>`),
			want: post(domain.PostMessage{Payload: `<composing xmlns="` + states + `"/><thread xmlns="urn:example">t</thread>`})},
		{name: "a reaction is content", xml: msg(groupJID, "groupchat", `<reactions xmlns="urn:xmpp:reactions:0" id="m0"><reaction>+1</reaction></reactions><origin-id xmlns="urn:xmpp:sid:0" id="o3"/>`),
			want: post(domain.PostMessage{OriginID: "o3", Payload: `<reactions xmlns="urn:xmpp:reactions:0" id="m0"><reaction>+1</reaction></reactions><origin-id xmlns="urn:xmpp:sid:0" id="o3"/>`, Kind: domain.Reaction})},
		{name: "origin-id alone carries nothing", xml: msg(groupJID, "groupchat", `<origin-id xmlns="urn:xmpp:sid:0" id="o4"/>`), want: nil},
		{name: "thread and hint alone carry nothing", xml: msg(groupJID, "groupchat", `<thread>t</thread><no-store xmlns="urn:xmpp:hints"/>`), want: nil},
		{name: "read receipt with an origin-id and a thread", xml: msg(groupJID, "groupchat", `<thread>t</thread><read xmlns="`+states+`" id="42"/><origin-id xmlns="urn:xmpp:sid:0" id="o5"/>`),
			want: protocol.Read{Group: "groupid", MessageID: "42"}},
		{name: "chat state with a body", xml: msg(groupJID, "groupchat", `<active xmlns="`+states+`"/><body>hi</body>`),
			want: post(domain.PostMessage{Body: "hi", Payload: `<active xmlns="` + states + `"/>`})},

		{name: "read without id", xml: msg(groupJID, "groupchat", `<read xmlns="`+states+`"/>`), want: protocol.Read{Group: "groupid"}},
		{name: "read by archive id", xml: msg(groupJID, "groupchat", `<read xmlns="`+states+`" id="42"/>`), want: protocol.Read{Group: "groupid", MessageID: "42"}},
		{name: "read in another namespace is content", xml: msg(groupJID, "groupchat", `<read xmlns="urn:example" id="42"/>`),
			want: post(domain.PostMessage{Payload: `<read xmlns="urn:example" id="42"/>`})},
		{name: "read with a body is a message", xml: msg(groupJID, "groupchat", `<body>hi</body><read xmlns="`+states+`"/>`),
			want: post(domain.PostMessage{Body: "hi", Payload: `<read xmlns="` + states + `"/>`})},

		{name: "body unescaped", xml: msg(groupJID, "groupchat", `<body>a &lt; b &amp;&amp; c &gt; d &#x1F642;</body>`), want: post(domain.PostMessage{Body: "a < b && c > d 🙂"})},
		{name: "body whitespace kept", xml: msg(groupJID, "groupchat", "<body>  two\n\tlines  </body>"), want: post(domain.PostMessage{Body: "  two\n\tlines  "})},
		{name: "body in CDATA", xml: msg(groupJID, "groupchat", `<body><![CDATA[<b>not markup</b>]]></body>`), want: post(domain.PostMessage{Body: "<b>not markup</b>"})},
		{name: "empty body", xml: msg(groupJID, "groupchat", `<body/>`), err: &protocol.ErrBadRequest},

		{name: "origin-id is kept beside the stanza id", xml: msg(groupJID, "groupchat", `<body>hi</body><origin-id xmlns="urn:xmpp:sid:0" id="origin-1"/>`),
			want: post(domain.PostMessage{ID: "m1", OriginID: "origin-1", Body: "hi", Payload: `<origin-id xmlns="urn:xmpp:sid:0" id="origin-1"/>`})},
		// An empty body is no content, even beside an origin-id (Smack,
		// Monal and slixmpp add one to every message).
		{name: "empty body beside an origin-id", xml: msg(groupJID, "groupchat", `<body/><origin-id xmlns="urn:xmpp:sid:0" id="o1"/>`), err: &protocol.ErrBadRequest},
		{name: "origin-id without id", xml: msg(groupJID, "groupchat", `<body>hi</body><origin-id xmlns="urn:xmpp:sid:0"/>`),
			want: post(domain.PostMessage{Body: "hi", Payload: `<origin-id xmlns="urn:xmpp:sid:0"/>`})},
		// XEP-0313 §8.2 (MUC message spoofing): a client's own muc#user
		// element would name another sender's real JID.
		{name: "a forged muc#user item", xml: msg(groupJID, "groupchat", `<body>hi</body><x xmlns="http://jabber.org/protocol/muc#user"><item jid="crone1@shakespeare.lit"/></x>`),
			want: post(domain.PostMessage{Body: "hi"})},
		{name: "a forged muc#user item beside a chat state", xml: msg(groupJID, "groupchat", `<composing xmlns="`+states+`"/><x xmlns="http://jabber.org/protocol/muc#user"><item jid="crone1@shakespeare.lit"/></x>`),
			want: transient(`<composing xmlns="` + states + `"/>`)},
		{name: "no id at all", xml: `<message from="hag66@shakespeare.lit/pda" to="groupid@groupchat.shakespeare.lit" type="groupchat"><body>hi</body></message>`,
			want: protocol.Post{Group: "groupid", Command: domain.PostMessage{Sender: hag, Body: "hi"}}},

		{name: "mention: full jid counted bare", xml: msg(groupJID, "groupchat", `<body>hi</body><x xmlns="jabber:x:data" type="at" id="crone1@shakespeare.lit/desktop"/>`),
			want: post(domain.PostMessage{Body: "hi", Payload: `<x xmlns="jabber:x:data" type="at" id="crone1@shakespeare.lit/desktop"/>`, Mentions: []string{crone}})},
		{name: "mention: two members", xml: msg(groupJID, "groupchat", `<body>hi</body><x xmlns="jabber:x:data" type="at" id="crone1@shakespeare.lit"/><x xmlns="jabber:x:data" type="at" id="hag66@shakespeare.lit"/>`),
			want: post(domain.PostMessage{Body: "hi", Payload: `<x xmlns="jabber:x:data" type="at" id="crone1@shakespeare.lit"/><x xmlns="jabber:x:data" type="at" id="hag66@shakespeare.lit"/>`, Mentions: []string{crone, hag}})},
		{name: "mention: invalid jid not counted", xml: msg(groupJID, "groupchat", `<body>hi</body><x xmlns="jabber:x:data" type="at" id="not a jid"/>`),
			want: post(domain.PostMessage{Body: "hi", Payload: `<x xmlns="jabber:x:data" type="at" id="not a jid"/>`})},
		{name: "mention: a data form is not a mention", xml: msg(groupJID, "groupchat", `<body>hi</body><x xmlns="jabber:x:data" type="form" id="crone1@shakespeare.lit"/>`),
			want: post(domain.PostMessage{Body: "hi", Payload: `<x xmlns="jabber:x:data" type="form" id="crone1@shakespeare.lit"/>`})},
	})
}

func TestStanzaID(t *testing.T) {
	sid := func(by string) string { return `<stanza-id xmlns="urn:xmpp:sid:0" by="` + by + `" id="claimed"/>` }
	kept := func(by string) protocol.Post {
		return post(domain.PostMessage{Body: "hi", Payload: sid(by)})
	}
	stripped := post(domain.PostMessage{Body: "hi"})
	runParseCases(t, []parseCase{
		{name: "by the group: stripped", xml: msg(groupJID, "groupchat", `<body>hi</body>`+sid(groupJID)), want: stripped},
		{name: "by the group, other case: stripped", xml: msg(groupJID, "groupchat", `<body>hi</body>`+sid("GroupID@GroupChat.Shakespeare.LIT")), want: stripped},
		{name: "by the service: stripped", xml: msg(groupJID, "groupchat", `<body>hi</body>`+sid(service)), want: stripped},
		{name: "two claims by the group: both stripped", xml: msg(groupJID, "groupchat", sid(groupJID)+`<body>hi</body>`+sid(groupJID)), want: stripped},
		{name: "by the sender's server: kept", xml: msg(groupJID, "groupchat", `<body>hi</body>`+sid("shakespeare.lit")), want: kept("shakespeare.lit")},
		{name: "by the sender: kept", xml: msg(groupJID, "groupchat", `<body>hi</body>`+sid(hag)), want: kept(hag)},
		{name: "by another group: kept", xml: msg(groupJID, "groupchat", `<body>hi</body>`+sid("other@"+service)), want: kept("other@" + service)},
		{name: "one stripped, one kept", xml: msg(groupJID, "groupchat", `<body>hi</body>`+sid(groupJID)+sid(hag)), want: kept(hag)},
	})
}

func TestIQ(t *testing.T) {
	gc := protocol.NSGroupchat
	runParseCases(t, []parseCase{
		{name: "no payload", xml: iq(service, "get", ``), err: &protocol.ErrBadRequest},
		{name: "whitespace only", xml: iq(groupJID, "get", "\n  \n"), err: &protocol.ErrBadRequest},
		{name: "unknown namespace at the service", xml: iq(service, "get", `<vCard xmlns="vcard-temp"/>`), err: &protocol.ErrServiceUnavailable},
		{name: "unknown namespace at a group", xml: iq(groupJID, "get", `<query xmlns="jabber:iq:version"/>`), err: &protocol.ErrServiceUnavailable},
		{name: "unknown groupchat namespace", xml: iq(groupJID, "get", `<query xmlns="`+gc+`#nothing"/>`), err: &protocol.ErrServiceUnavailable},
		{name: "set of a query", xml: iq(service, "set", `<query xmlns="`+gc+`#items"/>`), err: &protocol.ErrServiceUnavailable},
		{name: "first element child decides", xml: iq(service, "get", `<vCard xmlns="vcard-temp"/><query xmlns="`+gc+`#items"/>`), err: &protocol.ErrServiceUnavailable},
		{name: "to an occupant", xml: iq(groupJID+"/thirdwitch", "get", `<query xmlns="`+gc+`#groupinfo"/>`), err: &protocol.ErrServiceUnavailable},
		{name: "items at a group", xml: iq(groupJID, "get", `<query xmlns="`+gc+`#items"/>`), err: &protocol.ErrServiceUnavailable},
		{name: "members at the service", xml: iq(service, "get", `<query xmlns="`+gc+`#members"/>`), err: &protocol.ErrServiceUnavailable},
		{name: "memberinfo at the service", xml: iq(service, "get", `<query xmlns="`+gc+`#memberinfo"><property name="nick" value="x"/></query>`), err: &protocol.ErrServiceUnavailable},
		{name: "result", xml: iq(service, "result", ``), want: nil},
		{name: "result with payload", xml: iq(groupJID, "result", `<query xmlns="`+gc+`#items"/>`), want: nil},
		{name: "error", xml: iq(groupJID, "error", `<error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`), want: nil},

		{name: "ping the service", xml: iq(service, "get", `<ping xmlns="urn:xmpp:ping"/>`), want: protocol.Ping{}},
		{name: "ping a group", xml: iq(groupJID, "get", `<ping xmlns="urn:xmpp:ping"/>`), want: protocol.Ping{}},
		{name: "disco#info of a group", xml: iq(groupJID, "get", `<query xmlns="http://jabber.org/protocol/disco#info"/>`), want: protocol.DiscoInfo{Group: "groupid"}},
		{name: "disco#info of a group's node", xml: iq(groupJID, "get", `<query xmlns="http://jabber.org/protocol/disco#info" node="n1"/>`), err: &protocol.ErrNotExists},
		{name: "disco#items of a group", xml: iq(groupJID, "get", `<query xmlns="http://jabber.org/protocol/disco#items"/>`), want: protocol.DiscoItems{Group: "groupid"}},
		{name: "items with whitespace around", xml: iq(service, "get", "\n  <query xmlns=\""+gc+"#items\"/>\n"), want: protocol.ItemsQuery{}},

		{name: "groupinfo at the service without a name", xml: iq(service, "get", `<query xmlns="`+gc+`#groupinfo"/>`), err: &protocol.ErrBadRequest},
		{name: "groupinfo with an empty name", xml: iq(service, "get", `<query xmlns="`+gc+`#groupinfo"><property name="name" value=""/></query>`), err: &protocol.ErrBadRequest},
		{name: "groupinfo by name at a group", xml: iq(groupJID, "get", `<query xmlns="`+gc+`#groupinfo"><property name="name" value="G"/></query>`), want: protocol.FindByName{Name: "G"}},

		{name: "memberinfo by mid", xml: iq(groupJID, "get", `<query xmlns="`+gc+`#memberinfo"><property name="mid" value="m1"/></query>`),
			want: protocol.MemberInfoQuery{Group: "groupid", By: domain.MemberSelector{MID: "m1"}}},
		{name: "memberinfo by full jid", xml: iq(groupJID, "get", `<query xmlns="`+gc+`#memberinfo"><property name="jid">hag66@shakespeare.lit/pda</property></query>`),
			want: protocol.MemberInfoQuery{Group: "groupid", By: domain.MemberSelector{JID: hag}}},
		{name: "memberinfo by invalid jid", xml: iq(groupJID, "get", `<query xmlns="`+gc+`#memberinfo"><property name="jid" value="a@b@c"/></query>`), err: &protocol.ErrBadRequest},
		{name: "memberinfo without selector", xml: iq(groupJID, "get", `<query xmlns="`+gc+`#memberinfo"/>`), err: &protocol.ErrBadRequest},
	})
}

func TestParseStanza(t *testing.T) {
	tests := []struct {
		name, xml string
		err       bool
		from, to  string
	}{
		{"valid", msg(groupJID, "groupchat", ""), false, hagPDA, groupJID},
		{"invalid from", `<message from="a@b@c" to="groupid@groupchat.shakespeare.lit" type="groupchat"/>`, true, "", ""},
		{"missing from", `<message to="groupid@groupchat.shakespeare.lit" type="groupchat"/>`, true, "", ""},
		{"invalid to", `<message from="hag66@shakespeare.lit/pda" to="@groupchat.shakespeare.lit"/>`, true, hagPDA, ""},
		{"missing to", `<iq from="hag66@shakespeare.lit/pda" type="get" id="1"/>`, true, hagPDA, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := parseNode(tt.xml)
			if err != nil {
				t.Fatal(err)
			}
			st, err := protocol.ParseStanza(n)
			if !tt.err {
				if err != nil {
					t.Fatalf("ParseStanza: %v", err)
				}
			} else {
				pe := stanzaError(err)
				if pe == nil || pe.Condition != "jid-malformed" || pe.Type != protocol.Modify {
					t.Fatalf("err = %v, want jid-malformed", err)
				}
			}
			if st.Node != n || st.Kind != n.Name.Local || st.Type != n.Attr("type") || st.ID != n.Attr("id") {
				t.Errorf("stanza %+v does not carry what could be read", st)
			}
			if tt.from != "" && st.From.String() != tt.from {
				t.Errorf("From = %q, want %q (read before the failure)", st.From, tt.from)
			}
			if tt.to != "" && st.To.String() != tt.to {
				t.Errorf("To = %q, want %q", st.To, tt.to)
			}
		})
	}
	st := mustStanza(t, msg(groupJID+"/res", "groupchat", ""))
	if st.Requester() != hag || st.Group() != "groupid" || st.GroupJID() != groupJID {
		t.Errorf("Requester %q Group %q GroupJID %q", st.Requester(), st.Group(), st.GroupJID())
	}
	st = mustStanza(t, iq(service, "get", ""))
	if st.Group() != "" || st.GroupJID() != service || st.Requester() != crone {
		t.Errorf("at the service: Requester %q Group %q GroupJID %q", st.Requester(), st.Group(), st.GroupJID())
	}
	// An unknown top-level element asks nothing.
	st = mustStanza(t, `<handshake from="a@b" to="c@d"/>`)
	if req, err := protocol.Parse(st); req != nil || err != nil {
		t.Errorf("Parse(handshake) = %v, %v", req, err)
	}
}

// Extension payloads as clients send them. Each must reach members
// unchanged: the payload, read back, is the same tree as the stanza's
// children (the body, top-level whitespace and the group's stanza-id aside).
const (
	replyExt     = `<reply xmlns="urn:xmpp:reply:0" to="groupid@groupchat.shakespeare.lit/crone" id="archive-41"/><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="0" end="19"/></fallback>`
	receiptExt   = `<request xmlns="urn:xmpp:receipts"/>`
	reactionsExt = `<reactions xmlns="urn:xmpp:reactions:0" id="archive-40"><reaction>👍</reaction><reaction>🐈&amp;</reaction></reactions>`
	omemoExt     = `<encrypted xmlns="eu.siacs.conversations.axolotl"><header sid="27183">` + "\n    " +
		`<key rid="31415">BASE64ENCODED+/=</key>` + "\n    " +
		`<key prekey="true" rid="12321">BASE64ENCODED</key>` + "\n    " +
		`<iv>BASE64ENCODED</iv>` + "\n  " +
		`</header><payload>BASE64ENCODED</payload></encrypted>`
	xhtmlExt  = `<html xmlns="http://jabber.org/protocol/xhtml-im"><body xmlns="http://www.w3.org/1999/xhtml"><p>Indeed, <em>'tis</em> time &amp; <a href="https://x.example/?a=1&amp;b=2">more</a>!</p></body></html>`
	customExt = `<data xmlns="urn:example:custom" xmlns:e="urn:example:extra" e:flag="1" xml:lang="en" note="&lt;&quot;&gt;"><e:inner e:k="v">text</e:inner></data>`
	hintsExt  = `<store xmlns="urn:xmpp:hints"/>`
	originExt = `<origin-id xmlns="urn:xmpp:sid:0" id="origin-7"/>`
	threadExt = `<thread parent="p1">thread-1</thread>`
	mention   = `<x xmlns="jabber:x:data" type="at" id="crone1@shakespeare.lit/desktop"/>`
	forgedSID = `<stanza-id xmlns="urn:xmpp:sid:0" by="groupid@groupchat.shakespeare.lit" id="forged"/>`
	otherSID  = `<stanza-id xmlns="urn:xmpp:sid:0" by="hag66@shakespeare.lit" id="own-archive-7"/>`
)

// extensionsMessage carries every extension at once, compact and without
// mixed content (the message-extensions-broadcast golden file).
const extensionsMessage = `<message xmlns="jabber:component:accept" from="hag66@shakespeare.lit/pda" id="hysf1v38" to="groupid@groupchat.shakespeare.lit" type="groupchat">` +
	`<body>&gt; crone wrote: hi` + "\n" + `Indeed, 'tis time</body>` + replyExt + receiptExt + reactionsExt +
	`<encrypted xmlns="eu.siacs.conversations.axolotl"><header sid="27183"><key rid="31415">BASE64ENCODED</key><iv>IV</iv></header><payload>PAYLOAD</payload></encrypted>` +
	hintsExt + originExt + forgedSID + otherSID + threadExt + mention + `</message>`

func TestPayloadPassThrough(t *testing.T) {
	component := `xmlns="jabber:component:accept" `
	wrap := func(ns, inner string) string {
		return `<message ` + ns + `from="hag66@shakespeare.lit/pda" id="m1" to="groupid@groupchat.shakespeare.lit" type="groupchat">` + inner + `</message>`
	}
	tests := []struct {
		name     string
		xml      string
		id, body string
		mentions []string
	}{
		{"XEP-0461 reply with fallback", wrap("", `<body>&gt; hi`+"\n"+`yes</body>`+replyExt), "m1", "> hi\nyes", nil},
		{"XEP-0184 receipt request", wrap("", `<body>hi</body>`+receiptExt), "m1", "hi", nil},
		{"XEP-0444 reactions, no body", wrap("", reactionsExt+hintsExt), "m1", "", nil},
		{"OMEMO-like, nested children and mixed text", wrap("", omemoExt+hintsExt+`<body>I sent you an OMEMO encrypted message.</body>`), "m1", "I sent you an OMEMO encrypted message.", nil},
		{"XHTML-IM, mixed content", wrap("", `<body>Indeed, 'tis time &amp; more!</body>`+xhtmlExt), "m1", "Indeed, 'tis time & more!", nil},
		{"prefixed attributes and xml:lang", wrap("", `<body>hi</body>`+customExt), "m1", "hi", nil},
		{"children in the stanza's namespace", wrap(component, `<body>hi</body>`+threadExt+`<subject>s</subject>`), "m1", "hi", nil},
		{"child leaving the stanza's namespace", wrap(component, `<body>hi</body><thread xmlns="">t</thread>`), "m1", "hi", nil},
		{"everything at once", extensionsMessage, "hysf1v38", "> crone wrote: hi\nIndeed, 'tis time", []string{crone}},
		{"everything at once, indented", wrap(component, "\n  <body>hi</body>\n  "+replyExt+"\n  "+receiptExt+"\n  "+reactionsExt+"\n  "+omemoExt+
			"\n  "+xhtmlExt+"\n  "+customExt+"\n  "+hintsExt+"\n  "+originExt+"\n  "+forgedSID+"\n  "+otherSID+"\n  "+threadExt+"\n  "+mention+"\n"),
			"m1", "hi", []string{crone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, req, err := parseRequest(tt.xml)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			p, ok := req.(protocol.Post)
			if !ok {
				t.Fatalf("request %#v, want a Post", req)
			}
			c := p.Command
			wantOrigin := ""
			if strings.Contains(c.Payload, `id="origin-7"`) {
				wantOrigin = "origin-7"
			}
			if c.ID != tt.id || c.OriginID != wantOrigin || c.Body != tt.body || c.Sender != hag || !reflect.DeepEqual(c.Mentions, tt.mentions) {
				t.Errorf("command %+v, want id %q (the stanza's, members get the same), origin-id %q, body %q, mentions %v", c, tt.id, wantOrigin, tt.body, tt.mentions)
			}
			// What should pass: every element child but the body and the
			// group's claimed stanza-id.
			var want []*xmlnode.Node
			body := st.Node.Child("", "body")
			for _, ch := range st.Node.Children {
				if ch.IsText() || ch == body {
					continue
				}
				if ch.Name.Space == protocol.NSSID && ch.Name.Local == "stanza-id" && ch.Attr("by") == groupJID {
					continue
				}
				want = append(want, ch)
			}
			ns := st.Node.Name.Space
			back, err := parseNode(`<wrap xmlns="` + ns + `">` + c.Payload + `</wrap>`)
			if err != nil {
				t.Fatalf("the payload does not read back: %v\n%s", err, c.Payload)
			}
			checkSameChildren(t, "payload", back.Children, want)

			// And members receive it so: the rendered message carries the
			// same children, then the service's stanza-id.
			m := postedFrom(p, "memberid")
			out := protocol.GroupMessage(groupJID+"/memberid", groupJID, m, "9").For(croneDT).String()
			if err := checkNamespaceWellFormed(out); err != nil {
				t.Fatalf("rendered message is not well-formed: %v\n%s", err, out)
			}
			if ns != "" { // the stream's namespace, as the recipient's parser has it
				out = strings.Replace(out, "<message ", `<message xmlns="`+ns+`" `, 1)
			}
			got, err := parseNode(out)
			if err != nil {
				t.Fatalf("the rendered message does not read back: %v\n%s", err, out)
			}
			kids := got.Children
			if tt.body != "" {
				if len(kids) == 0 || kids[0].Name.Local != "body" || kids[0].Text != tt.body {
					t.Fatalf("rendered message must start with the body: %s", out)
				}
				kids = kids[1:]
			}
			if len(kids) == 0 || kids[len(kids)-1].Name.Local != "stanza-id" || kids[len(kids)-1].Attr("by") != groupJID {
				t.Fatalf("rendered message must end with the group's stanza-id: %s", out)
			}
			checkSameChildren(t, "rendered message", kids[:len(kids)-1], want)
		})
	}
}

func checkSameChildren(t *testing.T, what string, got, want []*xmlnode.Node) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d children, want %d", what, len(got), len(want))
		return
	}
	for i := range want {
		if d := diffTree(got[i], want[i]); d != "" {
			t.Errorf("%s: child %d <%s> changed: %s", what, i, want[i].Name.Local, d)
		}
	}
}

// TestParseNeverPanicsOnShapes runs odd but well-formed stanzas through the
// parser: whatever they ask, the answer is a request, nothing, or a stanza
// error, never a panic or another kind of error.
func TestParseNeverPanicsOnShapes(t *testing.T) {
	shapes := []string{
		`<presence/>`,
		`<message/>`,
		`<iq/>`,
		`<presence from="a@b" to="c@d"><x xmlns="http://jabber.org/protocol/groupchat#creategroup"><x xmlns="http://jabber.org/protocol/groupchat#addmember"/></x></presence>`,
		pres(groupJID, "", xCreate+xAdd+xRemove+xDelete+xUpdate),
		pres(groupJID, "", xCreate+props(`<property name="members"><property name="members"><item jid="a@b"/></property></property>`)),
		msg(groupJID, "groupchat", `<body><body>nested</body></body>`),
		msg(groupJID, "groupchat", `<body xmlns="urn:not:a:body">x</body>`),
		msg(groupJID, "groupchat", `<body>one</body><body xml:lang="de">zwei</body>`),
		iq(groupJID, "get", `<query xmlns="http://jabber.org/protocol/groupchat#memberinfo"><properties><property name="nick" value="n"/></properties></query>`),
		iq(groupJID, "get", `<query/>`),
	}
	for i, s := range shapes {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			_, _, err := parseRequest(s)
			if err != nil && stanzaError(err) == nil {
				t.Errorf("%s: %v", s, err)
			}
		})
	}
}

// TestGroupReplyCarriesTheRequestID: the answer to the resource that asked
// for a group change carries its request's id (escaped), and none when the
// request had none; broadcasts never carry one. Both carry the change's
// archive id and previous change.
func TestGroupReplyCarriesTheRequestID(t *testing.T) {
	props := []protocol.Property{{Name: "name", Value: "n"}, {Name: "id", Value: "g"}}
	tests := []struct {
		name string
		out  protocol.Outbound
		want string
	}{
		{"with id", protocol.GroupReply("g@gc.example.org", "u1", protocol.NSUpdate, protocol.Change{ID: "5", Previous: "3"}, props),
			`<presence from="g@gc.example.org" id="u1" to="a@example.org/p">`},
		{"escaped id", protocol.GroupReply("g@gc.example.org", `a"<&`, protocol.NSUpdate, protocol.Change{ID: "5", Previous: "3"}, props),
			`<presence from="g@gc.example.org" id="a&#34;&lt;&amp;" to="a@example.org/p">`},
		{"no id", protocol.GroupReply("g@gc.example.org", "", protocol.NSUpdate, protocol.Change{ID: "5", Previous: "3"}, props),
			`<presence from="g@gc.example.org" to="a@example.org/p">`},
		{"broadcast", protocol.GroupPresence("g@gc.example.org", protocol.NSUpdate, protocol.Change{ID: "5", Previous: "3"}, props, nil),
			`<presence from="g@gc.example.org" to="a@example.org/p">`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.out.For("a@example.org/p").String()
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %s, want it to start with %s", got, tt.want)
			}
			if !strings.Contains(got, `<property name="id">g</property>`) {
				t.Errorf("the group id property is missing: %s", got)
			}
			// Reply and broadcast place the change in the chain alike.
			if !strings.Contains(got, `<x xmlns="http://jabber.org/protocol/groupchat#updategroup" previous="3"/>`) ||
				!strings.HasSuffix(got, `<stanza-id xmlns="urn:xmpp:sid:0" by="g@gc.example.org" id="5"/></presence>`) {
				t.Errorf("the change's previous and stanza-id are missing: %s", got)
			}
		})
	}
}
