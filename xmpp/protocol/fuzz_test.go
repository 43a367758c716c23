package protocol_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// hostile stanzas for the fuzz corpus, beyond the seed's examples.
var hostile = []string{
	// Deep, wide and large.
	msg(groupJID, "groupchat", `<body>x</body>`+strings.Repeat(`<a xmlns="urn:deep">`, 31)+strings.Repeat(`</a>`, 31)),
	msg(groupJID, "groupchat", `<body>x</body>`+strings.Repeat(`<a xmlns="urn:deep">`, 40)+strings.Repeat(`</a>`, 40)),
	pres(groupJID, "", xAdd+strings.Repeat(`<item jid="a@shakespeare.lit"/>`, 5000)),
	msg(groupJID, "groupchat", `<body>`+strings.Repeat("x", 300<<10)+`</body>`),
	// Escaping and odd text.
	msg(groupJID, "groupchat", `<body>]]&gt; &lt;/body&gt; &amp;amp; &#xD;&#x9;&#10; &quot;&apos; &#x1F642; <![CDATA[</message>]]></body>`),
	msg(groupJID, "groupchat", `<body>hi</body><x xmlns="urn:x" a="&lt;&#34;&#xD;&#xA;&#x9;&gt;">&#xD;</x>`),
	// Namespaces: undeclaring, prefixes, xml:lang, many prefixed attributes.
	`<message xmlns="jabber:component:accept" from="hag66@shakespeare.lit/pda" to="groupid@groupchat.shakespeare.lit" type="groupchat"><body>hi</body><thread xmlns="">t</thread><p:e xmlns:p="urn:p" p:a="1" xml:lang="en"><p:f/></p:e></message>`,
	msg(groupJID, "groupchat", `<body>hi</body><e xmlns="urn:e" xmlns:a="urn:a" xmlns:b="urn:b" xmlns:c="urn:c" xmlns:d="urn:d" xmlns:f="urn:f" xmlns:g="urn:g" xmlns:h="urn:h" xmlns:i="urn:i" xmlns:j="urn:j" xmlns:k="urn:k" xmlns:l="urn:l" a:x="1" b:x="2" c:x="3" d:x="4" f:x="5" g:x="6" h:x="7" i:x="8" j:x="9" k:x="10" l:x="11"/>`),
	msg(groupJID, "groupchat", `<body>hi</body><u:e v:a="1"/>`),
	msg(groupJID, "groupchat", `<body>hi</body><p:0 xmlns:p="urn:p"/>`),
	msg(groupJID, "groupchat", `<body>hi</body><e xmlns:p="" p:x="1" x="2"/>`),
	// Mixed content and whitespace everywhere.
	msg(groupJID, "groupchat", "\n <body>hi</body>\n "+xhtmlExt+"\n "+omemoExt+"\n"),
	// Addresses.
	msg("a@b@c", "groupchat", `<body>hi</body>`),
	`<message from="" to="" type="groupchat"><body/></message>`,
	msg(groupJID, "groupchat", `<body>hi</body><x xmlns="jabber:x:data" type="at" id="@@@"/><x xmlns="jabber:x:data" type="at" id=""/>`),
	pres(groupJID, "", xCreate+`<item jid="a@b/c/d"/>`),
	iq(groupJID+"/x", "get", `<query xmlns="http://jabber.org/protocol/groupchat#members"/>`),
	// Ids.
	msg(groupJID, "groupchat", `<body>hi</body><origin-id xmlns="urn:xmpp:sid:0" id="&lt;&quot;&gt;"/>`+forgedSID+otherSID),
	msg(groupJID, "groupchat", `<read xmlns="http://jabber.org/protocol/chatstates" id="&quot;&amp;"/>`),
	// Not stanzas.
	`<stream:stream xmlns:stream="http://etherx.jabber.org/streams">`,
	`<iq`,
	``,
	`text`,
}

// FuzzParse: parsing any stanza never panics, and whatever the service
// accepts it renders back as XML that reads again: the broadcast of a Post,
// GroupCommand or Read, the result of a query, the error of a refusal. When
// the input is namespace-well-formed, so is everything rendered from it.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(seedDir, "*.xml"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed examples in %s: %v", seedDir, err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
		f.Add(compact(string(b)))
	}
	for _, s := range hostile {
		f.Add(s)
	}
	f.Add(extensionsMessage)

	f.Fuzz(func(t *testing.T, in string) {
		st, req, err := parseRequest(in)
		var pe *panicError
		if errors.As(err, &pe) {
			t.Fatalf("panic parsing %q: %v\n%s", in, err, pe.stack)
		}
		strict := checkNamespaceWellFormed(in) == nil
		emit := func(what string, o protocol.Outbound) {
			t.Helper()
			out := o.String()
			if _, err := parseRenderedSafely(out); err != nil {
				t.Fatalf("%s: rendered XML does not read again: %v\n in: %q\nout: %q", what, err, in, out)
			}
			if strict {
				if err := checkNamespaceWellFormed(out); err != nil {
					t.Fatalf("%s: well-formed input rendered as malformed XML: %v\n in: %q\nout: %q", what, err, in, out)
				}
			}
		}
		if st.Node == nil {
			return // not XML, or over a limit
		}
		if err != nil {
			e := stanzaError(err)
			if e == nil {
				t.Fatalf("Parse returned %T %v, want a *protocol.Error", err, err)
			}
			if e.Condition == "" || e.Type == "" {
				t.Fatalf("error without type or condition: %+v", e)
			}
			if st.From.String() != "" && st.Type != "error" {
				emit("error reply", protocol.ErrorReply(st, e))
			}
			return
		}
		to := st.From.String()
		switch r := req.(type) {
		case protocol.Post:
			c := r.Command
			if c.Sender != st.Requester() || r.Group == "" || r.Group != st.Group() {
				t.Fatalf("post %+v from %s to %s", r, st.From, st.To)
			}
			back, err := parseRenderedSafely(`<wrap>` + c.Payload + `</wrap>`)
			if err != nil {
				t.Fatalf("payload does not read again: %v\n in: %q\npayload: %q", err, in, c.Payload)
			}
			for _, k := range back.Children {
				if k.Name.Space == protocol.NSSID && k.Name.Local == "stanza-id" && strings.EqualFold(k.Attr("by"), st.GroupJID()) {
					t.Fatalf("a stanza-id claimed in the group's name passed: %q", c.Payload)
				}
			}
			m := domain.MessagePosted{ID: c.ID, Sender: c.Sender, MID: "memberid", Body: c.Body, Payload: c.Payload, Mentions: c.Mentions}
			emit("group message", protocol.GroupMessage(st.GroupJID()+"/memberid", st.GroupJID(), m, "1").For(to))
		case protocol.Read:
			emit("read receipt", protocol.ReadReceipt(st.GroupJID()+"/memberid", r.MessageID).For(to))
		case protocol.GroupCommand:
			gj := st.GroupJID()
			chain := protocol.Change{ID: "9", Previous: "7"}
			switch c := r.Command.(type) {
			case domain.CreateGroup:
				emit("creation", protocol.GroupPresence(gj, r.NS, chain, []protocol.Property{{Name: "name", Value: c.Name}, {Name: "id", Value: r.Group}}, c.Members).For(to))
			case domain.UpdateGroup:
				emit("update", protocol.GroupPresence(gj, r.NS, chain, []protocol.Property{{Name: "name", Value: c.Name}, {Name: "owner", Value: c.NewOwner}}, nil).For(to))
			case domain.AddMembers:
				emit("addition", protocol.GroupPresence(gj, r.NS, chain, nil, c.Members).For(to))
			case domain.RemoveMembers:
				var ms []domain.Member
				for _, s := range c.Members {
					ms = append(ms, domain.Member{JID: s.JID, MID: s.MID, Nick: s.Nick})
				}
				emit("removal", protocol.GroupPresence(gj, r.NS, chain, nil, ms).For(to))
			case domain.DeleteGroup:
				emit("deletion", protocol.GroupPresence(gj, r.NS, chain, nil, nil).For(to))
			default:
				t.Fatalf("group command %T", c)
			}
			emit("refusal", protocol.ErrorReply(st, protocol.ErrNotAllowed.With("")))
		case protocol.ItemsQuery, protocol.GroupInfoQuery, protocol.FindByName, protocol.MembersQuery,
			protocol.MemberInfoQuery, protocol.DiscoInfo, protocol.DiscoItems, protocol.Ping,
			protocol.CatchUp, protocol.ArchiveQuery, protocol.ArchiveForm, protocol.ArchiveMetadata, protocol.Readers,
			protocol.ReservedNick, protocol.AffiliationList, protocol.AdminChange, protocol.RoomConfigForm,
			protocol.RoomConfigSubmit, protocol.RoomDestroy, protocol.Moderate:
			if st.Kind != "iq" {
				t.Fatalf("query %T from a %s", r, st.Kind)
			}
			emit("result", protocol.IQResult(st, nil))
			emit("not found", protocol.ErrorReply(st, protocol.ErrNotExists.With("")))
		case protocol.PushEnable, protocol.PushDisable, protocol.NotifyLevel:
			checkPushRequest(t, st, r)
			emit("result", protocol.IQResult(st, nil))
		case protocol.RoomJoin, protocol.RoomLeave, protocol.NickChange:
			// The front door's presences go to an occupant JID of a group,
			// and are refused from it.
			if st.Kind != "presence" || st.Group() == "" || st.To.Resourcepart() == "" {
				t.Fatalf("room presence %T from a %s to %s", r, st.Kind, st.To)
			}
			emit("room refusal", protocol.JoinRefusal(st, protocol.ErrRegistrationRequired()))
		case protocol.Retract, protocol.PrivateMessage, protocol.SubjectChange, protocol.RoomInvite, protocol.Transient:
			if st.Kind != "message" || st.Group() == "" {
				t.Fatalf("message %T from a %s to %s", r, st.Kind, st.To)
			}
			emit("message refusal", protocol.ErrorReply(st, protocol.ErrNotAllowed.With("")))
		case nil, protocol.Availability, protocol.Bounce:
		default:
			t.Fatalf("unknown request %T", r)
		}
	})
}

// parseRenderedSafely reads rendered XML without limits, a panic turned
// into an error.
func parseRenderedSafely(s string) (n *xmlnode.Node, err error) {
	defer catch(&err)
	return xmlnode.Parse(s, xmlnode.Limits{})
}
