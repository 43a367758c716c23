package protocol_test

import (
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// TestParseRetractions reads XEP-0424's retraction message and XEP-0425's
// moderation request, sent to a group.
func TestParseRetractions(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want protocol.Request
		cond string
	}{
		{"XEP-0424 §4, to a group, naming the stanza-id",
			msg(groupJID, "groupchat", `<retract id="stanza-id-1" xmlns='urn:xmpp:message-retract:1'/>`+
				`<fallback xmlns="urn:xmpp:fallback:0" for='urn:xmpp:message-retract:1'/>`+
				`<body>/me retracted a previous message, but it's unsupported by your client.</body>`+
				`<store xmlns="urn:xmpp:hints"/>`),
			protocol.Retract{Group: "groupid", Target: "stanza-id-1", Body: "/me retracted a previous message, but it's unsupported by your client."}, ""},
		{"without a fallback", msg(groupJID, "groupchat", `<retract id="5" xmlns='urn:xmpp:message-retract:1'/>`),
			protocol.Retract{Group: "groupid", Target: "5"}, ""},
		{"without an id", msg(groupJID, "groupchat", `<retract xmlns='urn:xmpp:message-retract:1'/>`), nil, "bad-request"},
		{"XEP-0425 §4, to a group",
			iq(groupJID, "set", `<moderate id="stanza-id-1" xmlns='urn:xmpp:message-moderate:1'><retract xmlns='urn:xmpp:message-retract:1'/>`+
				`<reason>This message contains inappropriate content for this forum</reason></moderate>`),
			protocol.Moderate{Group: "groupid", Target: "stanza-id-1", Reason: "This message contains inappropriate content for this forum"}, ""},
		{"moderation that does not retract", iq(groupJID, "set", `<moderate id="s1" xmlns='urn:xmpp:message-moderate:1'/>`), nil, "feature-not-implemented"},
		{"moderation as a get", iq(groupJID, "get", `<moderate id="s1" xmlns='urn:xmpp:message-moderate:1'><retract xmlns='urn:xmpp:message-retract:1'/></moderate>`), nil, "bad-request"},
		{"moderation at the service", iq(service, "set", `<moderate id="s1" xmlns='urn:xmpp:message-moderate:1'><retract xmlns='urn:xmpp:message-retract:1'/></moderate>`), nil, "bad-request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := parseRequest(tt.xml)
			if tt.cond != "" {
				if e := stanzaError(err); e == nil || e.Condition != tt.cond {
					t.Fatalf("got %#v, %v; want %s", got, err, tt.cond)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

// TestRetractionStanzas compares what members receive and what the archive
// keeps with the XEPs' examples, changed only where the service differs:
// the group's own stanza-id on everything it sends, stamps in
// milliseconds, and the moderator named by its occupant JID.
func TestRetractionStanzas(t *testing.T) {
	const room = "room@muc.example.com"
	at := time.Date(2019, 9, 20, 23, 19, 12, 0, time.UTC)
	retract := domain.MessageRetracted{ID: "retract-message-1", Target: "stanza-id-1", By: "romeo@montague.example", MID: "romeo",
		Body: "/me retracted a previous message, but it's unsupported by your client.", At: at}
	moderate := domain.MessageRetracted{ID: "retract-request-1", Target: "stanza-id-1", By: "macbeth@shakespeare.example", MID: "macbeth",
		Moderated: true, Reason: "This message contains inappropriate content for this forum", At: at}
	msg := domain.MessagePosted{ID: "message-id-1", Sender: "hag@shakespeare.example", MID: "oldhag", Body: "DM me for free magic potions!"}
	tests := []struct {
		name string
		got  protocol.Outbound
		want string
	}{
		{"XEP-0424 §4: the retraction members receive",
			protocol.Retraction(room+"/romeo", room, retract, room+"/romeo", "41"),
			`<message type='groupchat' from='room@muc.example.com/romeo' to='x@example.com/a' id='retract-message-1'>
  <retract id="stanza-id-1" xmlns='urn:xmpp:message-retract:1'/>
  <fallback xmlns="urn:xmpp:fallback:0" for='urn:xmpp:message-retract:1'/>
  <body>/me retracted a previous message, but it's unsupported by your client.</body>
  <store xmlns="urn:xmpp:hints"/>
  <stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example.com' id='41'/>
</message>`},
		{"XEP-0425 §4.1: the moderation members receive",
			protocol.Retraction(room+"/macbeth", room, moderate, room+"/macbeth", "42"),
			`<message type="groupchat" id='retract-request-1' from='room@muc.example.com' to="x@example.com/a">
  <retract id="stanza-id-1" xmlns='urn:xmpp:message-retract:1'>
    <moderated by='room@muc.example.com/macbeth' xmlns='urn:xmpp:message-moderate:1'/>
    <reason>This message contains inappropriate content for this forum</reason>
  </retract>
  <stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example.com' id='42'/>
</message>`},
		{"XEP-0424 §5: the tombstone",
			protocol.Tombstone(room+"/oldhag", room, msg, "17", retract, room+"/romeo"),
			`<message type='groupchat' from='room@muc.example.com/oldhag' to='x@example.com/a' id='message-id-1'>
  <retracted stamp='2019-09-20T23:19:12.000Z' xmlns='urn:xmpp:message-retract:1' id='retract-message-1'/>
  <stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example.com' id='17'/>
</message>`},
		{"XEP-0425 §5: the moderated tombstone",
			protocol.Tombstone(room+"/oldhag", room, msg, "17", moderate, room+"/macbeth"),
			`<message type="groupchat" from="room@muc.example.com/oldhag" to="x@example.com/a" id="message-id-1">
  <retracted stamp='2019-09-20T23:19:12.000Z' xmlns='urn:xmpp:message-retract:1'>
    <moderated by="room@muc.example.com/macbeth" xmlns="urn:xmpp:message-moderate:1"/>
    <reason>This message contains inappropriate content for this forum</reason>
  </retracted>
  <stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example.com' id='17'/>
</message>`},
		{"XEP-0425 §4.1: the moderator's result",
			protocol.ModerationDone(room, "retract-request-1", "juliet@montague.example/home"),
			`<iq type='result' from='room@muc.example.com' to='juliet@montague.example/home' id='retract-request-1'></iq>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.got
			if o.To == "" {
				o = o.For("x@example.com/a")
			}
			sameXML(t, o.String(), tt.want)
		})
	}
}
