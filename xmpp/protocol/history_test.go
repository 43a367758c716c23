package protocol_test

import (
	"strings"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// TestArchiveTimeBoundsFollowTheShownStamps checks that a MAM query's start
// and end are read at the precision of the delay stamps history shows: a
// bound equal to a message's stamp includes that message.
func TestArchiveTimeBoundsFollowTheShownStamps(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name, start, end   string
		wantStart, wantEnd string
	}{
		{name: "a stamp as end covers its millisecond", end: "2026-11-29T08:14:49.916Z", wantEnd: "2026-11-29T08:14:49.916999999Z"},
		{name: "a stamp as start stays", start: "2026-11-29T08:14:49.916Z", wantStart: "2026-11-29T08:14:49.916Z"},
		{name: "seconds as end cover that millisecond only", end: "2026-11-29T08:14:49Z", wantEnd: "2026-11-29T08:14:49.000999999Z"},
		{name: "a start inside a millisecond moves to the next", start: "2026-11-29T08:14:49.9165Z", wantStart: "2026-11-29T08:14:49.917Z"},
		{name: "an end inside a millisecond covers it", end: "2026-11-29T08:14:49.9165Z", wantEnd: "2026-11-29T08:14:49.916999999Z"},
		{name: "an offset is kept as an instant", start: "2026-11-29T09:14:49.916+01:00", wantStart: "2026-11-29T08:14:49.916Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := `<x xmlns="jabber:x:data" type="submit">`
			if tc.start != "" {
				form += `<field var="start"><value>` + tc.start + `</value></field>`
			}
			if tc.end != "" {
				form += `<field var="end"><value>` + tc.end + `</value></field>`
			}
			form += `</x>`
			_, req := mustRequest(t, iq(groupJID, "set", `<query xmlns="urn:xmpp:mam:2">`+form+`</query>`))
			q, ok := req.(protocol.ArchiveQuery)
			if !ok {
				t.Fatalf("got %T, want an archive query", req)
			}
			if tc.wantStart == "" && !q.Start.IsZero() || tc.wantStart != "" && !q.Start.Equal(at(tc.wantStart)) {
				t.Errorf("start = %v, want %s", q.Start, tc.wantStart)
			}
			if tc.wantEnd == "" && !q.End.IsZero() || tc.wantEnd != "" && !q.End.Equal(at(tc.wantEnd)) {
				t.Errorf("end = %v, want %s", q.End, tc.wantEnd)
			}
		})
	}
}

// TestArchiveQueryForms reads the query forms of XEP-0313's examples
// (§4.1.1 with, §4.1.3 after-id/before-id and ids, §4.2.4 flip-page, §7
// metadata) and its refusals.
func TestArchiveQueryForms(t *testing.T) {
	form := func(fields string) string {
		return `<query xmlns="urn:xmpp:mam:2"><x xmlns="jabber:x:data" type="submit">` +
			`<field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2</value></field>` + fields + `</x></query>`
	}
	tests := []struct {
		name    string
		typ     string
		payload string
		want    protocol.Request
		cond    string
	}{
		{name: "with an occupant", typ: "set",
			payload: form(`<field var="with"><value>` + groupJID + `/firstwitch</value></field>`),
			want:    protocol.ArchiveQuery{With: groupJID + "/firstwitch"}},
		{name: "between two known messages", typ: "set",
			payload: form(`<field var="after-id"><value>28482</value></field><field var="before-id"><value>09873</value></field>`),
			want:    protocol.ArchiveQuery{AfterID: "28482", BeforeID: "09873"}},
		{name: "ids", typ: "set",
			payload: form(`<field var="ids"><value>28482</value><value>5d398</value></field>`),
			want:    protocol.ArchiveQuery{IDs: []string{"28482", "5d398"}}},
		{name: "flipped page", typ: "set",
			payload: `<query xmlns="urn:xmpp:mam:2"><set xmlns="http://jabber.org/protocol/rsm"><max>10</max><after>09af3</after></set><flip-page/></query>`,
			want:    protocol.ArchiveQuery{Flip: true, Page: protocol.Page{Max: 10, After: "09af3", Given: true}}},
		{name: "metadata", typ: "get", payload: `<metadata xmlns="urn:xmpp:mam:2"/>`, want: protocol.ArchiveMetadata{}},
		{name: "metadata is a get", typ: "set", payload: `<metadata xmlns="urn:xmpp:mam:2"/>`, cond: "bad-request"},
		{name: "an unknown field", typ: "set",
			payload: form(`<field var="urn:example:xmpp:free-text-search"><value>Juliet</value></field>`), cond: "feature-not-implemented"},
		{name: "another form type", typ: "set",
			payload: `<query xmlns="urn:xmpp:mam:2"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>urn:xmpp:mam:1</value></field></x></query>`,
			cond:    "bad-request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, req, err := parseRequest(iq(groupJID, tt.typ, tt.payload))
			if tt.cond != "" {
				if e := stanzaError(err); e == nil || e.Condition != tt.cond {
					t.Fatalf("got %v, %v; want %s", req, err, tt.cond)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch want := tt.want.(type) {
			case protocol.ArchiveQuery:
				got, ok := req.(protocol.ArchiveQuery)
				if !ok {
					t.Fatalf("got %T", req)
				}
				if got.Page.Max == protocol.DefaultPage && !want.Page.Given {
					want.Page.Max = protocol.DefaultPage
				}
				if got.With != want.With || got.AfterID != want.AfterID || got.BeforeID != want.BeforeID ||
					strings.Join(got.IDs, ",") != strings.Join(want.IDs, ",") || got.Flip != want.Flip || got.Page != want.Page {
					t.Errorf("got %+v, want %+v", got, want)
				}
			case protocol.ArchiveMetadata:
				if got, ok := req.(protocol.ArchiveMetadata); !ok || got.Group == "" {
					t.Errorf("got %#v, want the metadata of the group", req)
				}
			}
		})
	}
}

// TestArchiveResultAsXEP0313Shows compares a MAM result with XEP-0313
// §6.1.2's MUC example (the first witch's message), changed only where the
// service differs: the group's own archive id and stanza-id, a stamp in
// milliseconds, and the publisher's item without affiliation and role
// (XEP-0045 makes both optional; the archive keeps who sent, not what role
// they had then).
func TestArchiveResultAsXEP0313Shows(t *testing.T) {
	const room = "coven@chat.shakespeare.lit"
	at := time.Date(2002, 10, 13, 23, 58, 37, 0, time.UTC)
	m := domain.MessagePosted{ID: "162BEBB1-F6DB-4D9A-9BD8-CFDCC801A0B2", Body: "Thrice the brinded cat hath mew'd.", Sender: "witch1@shakespeare.lit", MID: "firstwitch"}
	inner := protocol.WithPublisher(protocol.GroupMessage(room+"/firstwitch", room, m, "7"), m.Sender)
	got := protocol.ArchiveResult(room, "g27", "7", at, inner, "hag66@shakespeare.lit/pda").String()
	sameXML(t, got, `<message from='coven@chat.shakespeare.lit' to='hag66@shakespeare.lit/pda'>
  <result xmlns='urn:xmpp:mam:2' queryid='g27' id='7'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <delay xmlns='urn:xmpp:delay' stamp='2002-10-13T23:58:37.000Z'/>
      <message xmlns="jabber:client"
        from='coven@chat.shakespeare.lit/firstwitch'
        id='162BEBB1-F6DB-4D9A-9BD8-CFDCC801A0B2'
        type='groupchat'>
        <body>Thrice the brinded cat hath mew'd.</body>
        <stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.shakespeare.lit' id='7'/>
        <x xmlns='http://jabber.org/protocol/muc#user'>
          <item jid='witch1@shakespeare.lit'/>
        </x>
      </message>
    </forwarded>
  </result>
</message>`)
}

// TestArchiveMetadataResult compares with XEP-0313 §7's example, with the
// service's archive ids and stamps in milliseconds.
func TestArchiveMetadataResult(t *testing.T) {
	first := time.Date(2008, 8, 22, 21, 9, 4, 0, time.UTC)
	last := time.Date(2020, 4, 20, 14, 34, 21, 0, time.UTC)
	sameXML(t, string(protocol.ArchiveMetadataResult("12", first, "2811", last)), `<metadata xmlns='urn:xmpp:mam:2'>
    <start id='12' timestamp='2008-08-22T21:09:04.000Z' />
    <end id='2811' timestamp='2020-04-20T14:34:21.000Z' />
  </metadata>`)
	sameXML(t, string(protocol.ArchiveMetadataResult("", time.Time{}, "", time.Time{})), `<metadata xmlns='urn:xmpp:mam:2'/>`)
}
