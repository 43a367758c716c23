package protocol_test

import (
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// coven is the room of XEP-0045's examples, as a group of the service.
const coven = "coven@" + service

// xep45 is one of XEP-0045's examples, sent to coven instead of the
// example's room.
func xep45(s string) string {
	s = strings.ReplaceAll(s, "coven@chat.shakespeare.lit", coven)
	return strings.ReplaceAll(s, "heath@chat.shakespeare.lit", coven)
}

// TestRoomAdministrationRequests parses XEP-0045's examples of a room's
// administration (§7.8.2, §8.2, §9.3–9.5, §10.1–10.9).
func TestRoomAdministrationRequests(t *testing.T) {
	admin := func(items ...protocol.AdminItem) protocol.AdminChange {
		return protocol.AdminChange{Group: "coven", Items: items}
	}
	runParseCases(t, []parseCase{
		{name: "§9.5 Admin Requests Member List",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='member3' to='coven@chat.shakespeare.lit' type='get'>
  <query xmlns='http://jabber.org/protocol/muc#admin'>
    <item affiliation='member'/>
  </query>
</iq>`),
			want: protocol.AffiliationList{Group: "coven", Affiliation: "member"}},
		{name: "§10.5 Owner Requests Owner List",
			xml:  xep45(`<iq from='crone1@shakespeare.lit/desktop' id='owner3' to='coven@chat.shakespeare.lit' type='get'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='owner'/></query></iq>`),
			want: protocol.AffiliationList{Group: "coven", Affiliation: "owner"}},
		{name: "§9.2 Admin Requests Ban List",
			xml:  xep45(`<iq from='kinghenryv@shakespeare.lit/throne' id='ban2' to='coven@chat.shakespeare.lit' type='get'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast'/></query></iq>`),
			want: protocol.AffiliationList{Group: "coven", Affiliation: "outcast"}},
		{name: "§8.5 Moderator Requests Voice List",
			xml:  xep45(`<iq from='crone1@shakespeare.lit/desktop' id='voice3' to='coven@chat.shakespeare.lit' type='get'><query xmlns='http://jabber.org/protocol/muc#admin'><item role='participant'/></query></iq>`),
			want: protocol.AffiliationList{Group: "coven", Role: "participant"}},
		{name: "§9.3 Admin Grants Membership",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='member1' to='coven@chat.shakespeare.lit' type='set'>
  <query xmlns='http://jabber.org/protocol/muc#admin'>
    <item affiliation='member' jid='hag66@shakespeare.lit' nick='thirdwitch'>
      <reason>A worthy witch indeed!</reason>
    </item>
  </query>
</iq>`),
			want: admin(protocol.AdminItem{JID: "hag66@shakespeare.lit", Nick: "thirdwitch", Affiliation: "member", Reason: "A worthy witch indeed!"})},
		{name: "§9.5 Admin Sends Modified Member List",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='member4' to='coven@chat.shakespeare.lit' type='set'>
  <query xmlns='http://jabber.org/protocol/muc#admin'>
    <item affiliation='none' jid='hag66@shakespeare.lit'/>
    <item affiliation='member' jid='hecate@shakespeare.lit'/>
  </query>
</iq>`),
			want: admin(protocol.AdminItem{JID: "hag66@shakespeare.lit", Affiliation: "none"}, protocol.AdminItem{JID: "hecate@shakespeare.lit", Affiliation: "member"})},
		{name: "§10.6 Owner Grants Admin Status, a full JID read as bare",
			xml:  xep45(`<iq from='crone1@shakespeare.lit/desktop' id='admin1' to='coven@chat.shakespeare.lit' type='set'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='admin' jid='wiccarocks@shakespeare.lit/laptop'/></query></iq>`),
			want: admin(protocol.AdminItem{JID: "wiccarocks@shakespeare.lit", Affiliation: "admin"})},
		{name: "§8.2 Moderator Kicks Occupant",
			xml: xep45(`<iq from='fluellen@shakespeare.lit/pda' id='kick1' to='coven@chat.shakespeare.lit' type='set'>
  <query xmlns='http://jabber.org/protocol/muc#admin'>
    <item nick='pistol' role='none'>
      <reason>Avaunt, you cullion!</reason>
    </item>
  </query>
</iq>`),
			want: admin(protocol.AdminItem{Nick: "pistol", Role: "none", Reason: "Avaunt, you cullion!"})},
		{name: "§17.1.5 an item with an affiliation and a role",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='x1' to='coven@chat.shakespeare.lit' type='set'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member' role='participant' jid='hag66@shakespeare.lit'/></query></iq>`),
			err: &protocol.ErrBadRequest},
		{name: "an affiliation item without a jid",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='x2' to='coven@chat.shakespeare.lit' type='set'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/></query></iq>`),
			err: &protocol.ErrBadRequest},
		{name: "an affiliation item with an invalid jid",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='x3' to='coven@chat.shakespeare.lit' type='set'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member' jid='@shakespeare.lit'/></query></iq>`),
			err: &protocol.ErrJIDMalformed},
		{name: "an unknown affiliation",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='x4' to='coven@chat.shakespeare.lit' type='set'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='witch' jid='hag66@shakespeare.lit'/></query></iq>`),
			err: &protocol.ErrBadRequest},
		{name: "a list of nobody's affiliation",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='x5' to='coven@chat.shakespeare.lit' type='get'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='none'/></query></iq>`),
			err: &protocol.ErrBadRequest},
		{name: "an admin query without an item",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='x6' to='coven@chat.shakespeare.lit' type='set'><query xmlns='http://jabber.org/protocol/muc#admin'/></iq>`),
			err: &protocol.ErrBadRequest},
		{name: "an admin query to the service",
			xml: `<iq from='crone1@shakespeare.lit/desktop' id='x7' to='` + service + `' type='get'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/></query></iq>`,
			err: &protocol.ErrServiceUnavailable},

		{name: "§10.2 Owner Requests Configuration Form",
			xml:  xep45(`<iq from='crone1@shakespeare.lit/desktop' id='config1' to='coven@chat.shakespeare.lit' type='get'><query xmlns='http://jabber.org/protocol/muc#owner'/></iq>`),
			want: protocol.RoomConfigForm{Group: "coven"}},
		{name: "§10.1.2 Owner Requests Instant Room",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='create1' to='coven@chat.shakespeare.lit' type='set'>
  <query xmlns='http://jabber.org/protocol/muc#owner'>
    <x xmlns='jabber:x:data' type='submit'/>
  </query>
</iq>`),
			want: protocol.RoomConfigSubmit{Group: "coven", Fields: map[string][]string{}}},
		{name: "§10.2 Owner Cancels Subsequent Configuration",
			xml:  xep45(`<iq from='crone1@shakespeare.lit/desktop' id='config2' to='coven@chat.shakespeare.lit' type='set'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='cancel'/></query></iq>`),
			want: protocol.RoomConfigSubmit{Group: "coven", Cancel: true}},
		{name: "§10.1.3 Owner Submits Configuration Form (its first fields)",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='create2' to='coven@chat.shakespeare.lit' type='set'>
  <query xmlns='http://jabber.org/protocol/muc#owner'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE'>
        <value>http://jabber.org/protocol/muc#roomconfig</value>
      </field>
      <field var='muc#roomconfig_roomname'>
        <value>A Dark Cave</value>
      </field>
      <field var='muc#roomconfig_persistentroom'>
        <value>1</value>
      </field>
    </x>
  </query>
</iq>`),
			want: protocol.RoomConfigSubmit{Group: "coven", Fields: map[string][]string{
				"FORM_TYPE":                     {"http://jabber.org/protocol/muc#roomconfig"},
				"muc#roomconfig_roomname":       {"A Dark Cave"},
				"muc#roomconfig_persistentroom": {"1"},
			}}},
		{name: "a form of another FORM_TYPE",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='c3' to='coven@chat.shakespeare.lit' type='set'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field></x></query></iq>`),
			err: &protocol.ErrBadRequest},
		{name: "an owner set with neither a form nor a destroy",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='c4' to='coven@chat.shakespeare.lit' type='set'><query xmlns='http://jabber.org/protocol/muc#owner'/></iq>`),
			err: &protocol.ErrBadRequest},
		{name: "§10.9 Owner Submits Room Destruction Request",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='begone' to='heath@chat.shakespeare.lit' type='set'>
  <query xmlns='http://jabber.org/protocol/muc#owner'>
    <destroy jid='coven@chat.shakespeare.lit'>
      <reason>Macbeth doth come.</reason>
    </destroy>
  </query>
</iq>`),
			want: protocol.RoomDestroy{Group: "coven", Reason: "Macbeth doth come.", AltVenue: coven}},

		{name: "§8.1 Moderator Changes Subject",
			xml: xep45(`<message from='wiccarocks@shakespeare.lit/laptop' id='lh2bs617' to='coven@chat.shakespeare.lit' type='groupchat'>
  <subject>Fire Burn and Cauldron Bubble!</subject>
</message>`),
			want: protocol.SubjectChange{Group: "coven", Subject: "Fire Burn and Cauldron Bubble!"}},
		{name: "§8.1 Moderator Sets Empty Subject: a group's name is never empty",
			xml: xep45(`<message from='wiccarocks@shakespeare.lit/laptop' id='uj3bs61g' to='coven@chat.shakespeare.lit' type='groupchat'><subject></subject></message>`),
			err: &protocol.ErrNotAcceptable},
		{name: "§8.1 a subject beside a body is a message",
			xml:  xep45(`<message from='wiccarocks@shakespeare.lit/laptop' id='s3' to='coven@chat.shakespeare.lit' type='groupchat'><subject>Fire</subject><body>Burn</body></message>`),
			want: protocol.Post{Group: "coven", Command: domain.PostMessage{Sender: "wiccarocks@shakespeare.lit", ID: "s3", Body: "Burn", Payload: "<subject>Fire</subject>"}}},
		{name: "a destruction naming an alternate venue that is no JID",
			xml: xep45(`<iq from='crone1@shakespeare.lit/desktop' id='begone' to='heath@chat.shakespeare.lit' type='set'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy jid='@chat.shakespeare.lit'/></query></iq>`),
			err: &protocol.ErrJIDMalformed},
		{name: "§7.8.2 Occupant Sends a Mediated Invitation",
			xml: xep45(`<message from='crone1@shakespeare.lit/desktop' id='nzd143v8' to='coven@chat.shakespeare.lit'>
  <x xmlns='http://jabber.org/protocol/muc#user'>
    <invite to='hecate@shakespeare.lit'>
      <reason>
        Hey Hecate, this is the place for all good witches!
      </reason>
    </invite>
  </x>
</message>`),
			want: protocol.RoomInvite{Group: "coven", Invites: []protocol.Invitation{{JID: "hecate@shakespeare.lit", Reason: "Hey Hecate, this is the place for all good witches!"}}}},
		{name: "§7.8.2 an invitation of type normal to two users",
			xml:  xep45(`<message from='crone1@shakespeare.lit/desktop' id='i2' to='coven@chat.shakespeare.lit' type='normal'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='hecate@shakespeare.lit/broom'/><invite to='hag66@shakespeare.lit'/></x></message>`),
			want: protocol.RoomInvite{Group: "coven", Invites: []protocol.Invitation{{JID: "hecate@shakespeare.lit"}, {JID: "hag66@shakespeare.lit"}}}},
		{name: "an invitation of nobody",
			xml: xep45(`<message from='crone1@shakespeare.lit/desktop' id='i3' to='coven@chat.shakespeare.lit'><x xmlns='http://jabber.org/protocol/muc#user'><invite/></x></message>`),
			err: &protocol.ErrJIDMalformed},
		{name: "§7.8.2 Invitee Declines Invitation",
			xml: xep45(`<message from='hecate@shakespeare.lit/broom' id='jk2vs61v' to='coven@chat.shakespeare.lit'><x xmlns='http://jabber.org/protocol/muc#user'><decline to='crone1@shakespeare.lit'><reason>Sorry, I'm too busy right now.</reason></decline></x></message>`),
			err: &protocol.ErrNotImplemented},
	})
}

// TestRoomAdministrationAnswers renders the answers of a room's
// administration and checks them against XEP-0045's examples.
func TestRoomAdministrationAnswers(t *testing.T) {
	t.Run("§9.5 Service Sends Member List to Admin", func(t *testing.T) {
		st := mustStanza(t, xep45(`<iq from='crone1@shakespeare.lit/desktop' id='member3' to='coven@chat.shakespeare.lit' type='get'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/></query></iq>`))
		got := protocol.IQResult(st, protocol.AffiliationListResult([]protocol.AdminListItem{
			{Affiliation: "member", JID: "hag66@shakespeare.lit", Nick: "thirdwitch", Role: "participant"},
		})).String()
		want := `<iq from="` + coven + `" id="member3" type="result" to="crone1@shakespeare.lit/desktop">` +
			`<query xmlns="http://jabber.org/protocol/muc#admin"><item affiliation="member" jid="hag66@shakespeare.lit" nick="thirdwitch" role="participant"/></query></iq>`
		if got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("§7.8.2 Room Sends Invitation to Invitee on Behalf of Invitor", func(t *testing.T) {
		got := protocol.InvitationMessage(coven, "nzd143v8", "crone1@shakespeare.lit", "Hey Hecate, this is the place for all good witches!").For("hecate@shakespeare.lit").String()
		want := `<message from="` + coven + `" id="nzd143v8" to="hecate@shakespeare.lit">` +
			`<x xmlns="http://jabber.org/protocol/muc#user"><invite from="crone1@shakespeare.lit"><reason>Hey Hecate, this is the place for all good witches!</reason></invite></x></message>`
		if got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("§9.5 Service Returns Error on Attempt by Mere Member to Invite Others", func(t *testing.T) {
		st := mustStanza(t, xep45(`<message from='hag66@shakespeare.lit/pda' id='C6E14DF6-00B7-4729-BC1C-94E59C07548E' to='coven@chat.shakespeare.lit'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='hecate@shakespeare.lit'><reason>Hey Hecate, this is the place for all good witches!</reason></invite></x></message>`))
		got := protocol.MessageRefusal(st, protocol.ErrForbidden.With(""), st.Node.Child(protocol.NSMUCUser, "x")).String()
		want := `<message from="` + coven + `" id="C6E14DF6-00B7-4729-BC1C-94E59C07548E" type="error" to="hag66@shakespeare.lit/pda">` +
			`<x xmlns="http://jabber.org/protocol/muc#user"><invite to="hecate@shakespeare.lit"><reason>Hey Hecate, this is the place for all good witches!</reason></invite></x>` +
			`<error type="auth" by="` + coven + `"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><not-allowed xmlns="http://jabber.org/protocol/groupchat"/></error></message>`
		if got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("§8.1 Service Returns Error Related to Unauthorized Subject Change", func(t *testing.T) {
		st := mustStanza(t, xep45(`<message from='hag66@shakespeare.lit/pda' id='lh2bs617' to='coven@chat.shakespeare.lit' type='groupchat'><subject>Fire Burn and Cauldron Bubble!</subject></message>`))
		got := protocol.MessageRefusal(st, protocol.ErrForbidden.With(""), st.Node.Child("", "subject")).String()
		want := `<message from="` + coven + `" id="lh2bs617" type="error" to="hag66@shakespeare.lit/pda">` +
			`<subject>Fire Burn and Cauldron Bubble!</subject>` +
			`<error type="auth" by="` + coven + `"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><not-allowed xmlns="http://jabber.org/protocol/groupchat"/></error></message>`
		if got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("§10.2 Service Sends Configuration Form to Owner", func(t *testing.T) {
		form := mustDecode(t, string(protocol.RoomConfigFormResult("coven", "A Dark Cave")))
		x := form.child("jabber:x:data", "x")
		if form.Name.Space != protocol.NSMUCOwner || x == nil || x.attr("type") != "form" {
			t.Fatalf("a muc#owner query holding a form: %s", canon(form))
		}
		fields := map[string][2]string{}
		for _, f := range x.Children {
			if f.Name.Local == "field" {
				fields[f.attr("var")] = [2]string{f.attr("type"), f.child("jabber:x:data", "value").Text}
			}
		}
		for name, want := range map[string][2]string{
			"FORM_TYPE":                     {"hidden", "http://jabber.org/protocol/muc#roomconfig"},
			"muc#roomconfig_roomname":       {"text-single", "A Dark Cave"},
			"muc#roomconfig_persistentroom": {"hidden", "1"},
			"muc#roomconfig_membersonly":    {"hidden", "1"},
			"muc#roomconfig_whois":          {"hidden", "anyone"},
		} {
			if fields[name] != want {
				t.Errorf("field %s is %v, want %v", name, fields[name], want)
			}
		}
	})
}

// TestRoomConfigSubmission reads what a submitted form asks: a name, and
// whether it changes what every group's room is.
func TestRoomConfigSubmission(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fields   map[string][]string
		roomName string
		named    bool
		changed  string
	}{
		{name: "instant room", fields: map[string][]string{}},
		{name: "renamed", fields: map[string][]string{"muc#roomconfig_roomname": {"A Dark Cave"}}, roomName: "A Dark Cave", named: true},
		{name: "the facts as they are, booleans as words",
			fields: map[string][]string{"muc#roomconfig_membersonly": {"true"}, "muc#roomconfig_publicroom": {"false"}, "muc#roomconfig_whois": {"anyone"}}},
		{name: "an open room asked for", fields: map[string][]string{"muc#roomconfig_membersonly": {"0"}}, changed: "muc#roomconfig_membersonly"},
		{name: "a semi-anonymous room asked for", fields: map[string][]string{"muc#roomconfig_whois": {"moderators"}}, changed: "muc#roomconfig_whois"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := protocol.RoomConfigSubmit{Group: "coven", Fields: tc.fields}
			if name, named := r.RoomName(); name != tc.roomName || named != tc.named {
				t.Errorf("RoomName() = %q, %v, want %q, %v", name, named, tc.roomName, tc.named)
			}
			if got := r.ChangedFact(); got != tc.changed {
				t.Errorf("ChangedFact() = %q, want %q", got, tc.changed)
			}
		})
	}
}
