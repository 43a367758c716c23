package protocol_test

import (
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// TestMessagesOfStandardClients parses what Conversations, Monal and Siskin
// send to a group, in the forms of the XEPs' own examples, addressed to a
// group of the service.
func TestMessagesOfStandardClients(t *testing.T) {
	const (
		markers = `xmlns="urn:xmpp:chat-markers:0"`
		hints   = `xmlns="urn:xmpp:hints"`
	)
	transient := func(payload string) protocol.Transient {
		return protocol.Transient{Group: "groupid", ID: "m1", Payload: payload}
	}
	runParseCases(t, []parseCase{
		// XEP-0333 §5: in a group the marker names the message by the
		// stanza-id the group gave it; the thread is the marked message's.
		{name: "XEP-0333 displayed marker naming a stanza-id",
			xml: msg(groupJID, "groupchat", `<thread>sleeping</thread><displayed `+markers+` id="5"/>`),
			want: protocol.Read{Group: "groupid", MessageID: "5",
				Marker: transient(`<thread>sleeping</thread><displayed ` + markers + ` id="5"/>`)}},
		{name: "XEP-0333 displayed marker with an origin-id (Monal)",
			xml: msg(groupJID, "groupchat", `<displayed `+markers+` id="5"/><origin-id xmlns="urn:xmpp:sid:0" id="o1"/>`),
			want: protocol.Read{Group: "groupid", MessageID: "5",
				Marker: transient(`<displayed ` + markers + ` id="5"/><origin-id xmlns="urn:xmpp:sid:0" id="o1"/>`)}},
		{name: "XEP-0333 received marker stays a live signal",
			xml:  msg(groupJID, "groupchat", `<received `+markers+` id="5"/>`),
			want: transient(`<received ` + markers + ` id="5"/>`)},
		{name: "XEP-0333 acknowledged marker stays a live signal",
			xml:  msg(groupJID, "groupchat", `<acknowledged `+markers+` id="5"/>`),
			want: transient(`<acknowledged ` + markers + ` id="5"/>`)},
		{name: "a displayed marker naming nothing is only relayed",
			xml:  msg(groupJID, "groupchat", `<displayed `+markers+`/>`),
			want: transient(`<displayed ` + markers + `/>`)},
		{name: "a displayed marker beside a body is a message",
			xml:  msg(groupJID, "groupchat", `<body>seen</body><displayed `+markers+` id="5"/>`),
			want: post(domain.PostMessage{Body: "seen", Payload: `<displayed ` + markers + ` id="5"/>`})},

		// XEP-0372 §3.2: a mention of a user by its JID.
		{name: "XEP-0372 mention of a user's JID",
			xml: msg(groupJID, "groupchat", `<body>Hello Juliet, how are you?</body>`+
				`<reference xmlns="urn:xmpp:reference:0" begin="6" end="12" type="mention" uri="xmpp:juliet@capulet.lit"/>`),
			want: post(domain.PostMessage{Body: "Hello Juliet, how are you?", Mentions: []string{"juliet@capulet.lit"},
				Payload: `<reference xmlns="urn:xmpp:reference:0" begin="6" end="12" type="mention" uri="xmpp:juliet@capulet.lit"/>`})},
		{name: "XEP-0372 mention of a full JID counts for the bare JID",
			xml: msg(groupJID, "groupchat", `<body>Romeo!</body>`+
				`<reference xmlns="urn:xmpp:reference:0" type="mention" uri="xmpp:romeo@montague.lit/orchard"/>`),
			want: post(domain.PostMessage{Body: "Romeo!", Mentions: []string{"romeo@montague.lit"},
				Payload: `<reference xmlns="urn:xmpp:reference:0" type="mention" uri="xmpp:romeo@montague.lit/orchard"/>`})},
		// An occupant JID of the group names a member by mid, percent-encoded
		// as RFC 5122 writes a resource with a space.
		{name: "XEP-0372 mention of an occupant of the group",
			xml: msg(groupJID, "groupchat", `<body>second witch, say</body>`+
				`<reference xmlns="urn:xmpp:reference:0" begin="0" end="13" type="mention" uri="xmpp:groupid@groupchat.shakespeare.lit/second%20witch"/>`),
			want: post(domain.PostMessage{Body: "second witch, say", MentionMIDs: []string{"second witch"},
				Payload: `<reference xmlns="urn:xmpp:reference:0" begin="0" end="13" type="mention" uri="xmpp:groupid@groupchat.shakespeare.lit/second%20witch"/>`})},
		{name: "XEP-0372 mention with a query part (RFC 5122)",
			xml: msg(groupJID, "groupchat", `<body>hi</body>`+
				`<reference xmlns="urn:xmpp:reference:0" type="mention" uri="xmpp:juliet@capulet.lit?message"/>`),
			want: post(domain.PostMessage{Body: "hi", Mentions: []string{"juliet@capulet.lit"},
				Payload: `<reference xmlns="urn:xmpp:reference:0" type="mention" uri="xmpp:juliet@capulet.lit?message"/>`})},
		{name: "XEP-0372 references that mention nobody",
			xml: msg(groupJID, "groupchat", `<body>see</body>`+
				`<reference xmlns="urn:xmpp:reference:0" type="data" uri="xmpp:juliet@capulet.lit"/>`+
				`<reference xmlns="urn:xmpp:reference:0" type="mention" uri="https://capulet.lit/juliet"/>`+
				`<reference xmlns="urn:xmpp:reference:0" type="mention" uri="xmpp:groupid@groupchat.shakespeare.lit"/>`+
				`<reference xmlns="urn:xmpp:reference:0" type="mention" uri="xmpp:capulet.lit"/>`),
			want: post(domain.PostMessage{Body: "see",
				Payload: `<reference xmlns="urn:xmpp:reference:0" type="data" uri="xmpp:juliet@capulet.lit"/>` +
					`<reference xmlns="urn:xmpp:reference:0" type="mention" uri="https://capulet.lit/juliet"/>` +
					`<reference xmlns="urn:xmpp:reference:0" type="mention" uri="xmpp:groupid@groupchat.shakespeare.lit"/>` +
					`<reference xmlns="urn:xmpp:reference:0" type="mention" uri="xmpp:capulet.lit"/>`})},

		// XEP-0308 §3, example 2: a correction.
		{name: "XEP-0308 correction",
			xml: msg(groupJID, "groupchat", `<body>But soft, what light through yonder window breaks?</body><replace id="bad1" xmlns="urn:xmpp:message-correct:0"/>`),
			want: post(domain.PostMessage{Body: "But soft, what light through yonder window breaks?",
				Payload: `<replace xmlns="urn:xmpp:message-correct:0" id="bad1"/>`, Kind: domain.Correction})},
		// XEP-0444 §3.2, example 3: reactions, with the store hint it sends.
		{name: "XEP-0444 reactions",
			xml: msg(groupJID, "groupchat", `<reactions id="744f6e18-a57a-11e9-a656-4889e7820c76" xmlns="urn:xmpp:reactions:0">`+
				`<reaction>👋</reaction><reaction>🐢</reaction></reactions><store `+hints+`/>`),
			want: post(domain.PostMessage{Kind: domain.Reaction,
				Payload: `<reactions xmlns="urn:xmpp:reactions:0" id="744f6e18-a57a-11e9-a656-4889e7820c76">` +
					`<reaction>👋</reaction><reaction>🐢</reaction></reactions><store ` + hints + `/>`})},

		// XEP-0334 §4.2, example 2: not to be archived. Delivered live,
		// the body with it.
		{name: "XEP-0334 no-store on a message",
			xml:  msg(groupJID, "groupchat", `<body>V unir avtug'f pybnx gb uvqr zr sebz gurve fvtug</body><no-store `+hints+`/>`),
			want: transient(`<body>V unir avtug'f pybnx gb uvqr zr sebz gurve fvtug</body><no-store ` + hints + `/>`)},
		{name: "XEP-0334 no-permanent-store on a message",
			xml:  msg(groupJID, "groupchat", `<body>Ephemeral</body><no-permanent-store `+hints+`/>`),
			want: transient(`<body>Ephemeral</body><no-permanent-store ` + hints + `/>`)},
		{name: "XEP-0334 no-store on a bodiless message with content",
			xml:  msg(groupJID, "groupchat", `<reactions xmlns="urn:xmpp:reactions:0" id="5"><reaction>👋</reaction></reactions><no-store `+hints+`/>`),
			want: transient(`<reactions xmlns="urn:xmpp:reactions:0" id="5"><reaction>👋</reaction></reactions><no-store ` + hints + `/>`)},
		// XEP-0334 §4.3, example 3: a store hint on what would not be stored.
		{name: "XEP-0334 store on a chat state",
			xml: msg(groupJID, "groupchat", `<composing xmlns="http://jabber.org/protocol/chatstates"/><store `+hints+`/>`),
			want: post(domain.PostMessage{Kind: domain.StoredSignal,
				Payload: `<composing xmlns="http://jabber.org/protocol/chatstates"/><store ` + hints + `/>`})},
		{name: "XEP-0334 store and no-store: not stored",
			xml:  msg(groupJID, "groupchat", `<received `+markers+` id="5"/><store `+hints+`/><no-store `+hints+`/>`),
			want: transient(`<received ` + markers + ` id="5"/><store ` + hints + `/><no-store ` + hints + `/>`)},
	})
}
