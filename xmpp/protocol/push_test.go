package protocol_test

import (
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

const publishOptions = `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var="secret"><value>eruio234vzxc2kla-91</value></field></x>`

func pushIQ(to, typ, payload string) string {
	return `<iq from="` + hagPDA + `" to="` + to + `" type="` + typ + `" id="p1">` + payload + `</iq>`
}

// pushSeeds are push requests, valid and not, for the parser's tests and
// its fuzz target.
var pushSeeds = []string{
	pushIQ(service, "set", `<enable xmlns="urn:xmpp:push:0" jid="push.shakespeare.lit" node="yxs32uqsflafdk3iuqo"/>`),
	pushIQ(service, "set", `<enable xmlns="urn:xmpp:push:0" jid="push.shakespeare.lit" node="n">`+publishOptions+`<include-body xmlns="http://jabber.org/protocol/groupchat#push"/></enable>`),
	pushIQ(service, "set", `<disable xmlns="urn:xmpp:push:0" jid="push.shakespeare.lit"/>`),
	pushIQ(service, "set", `<disable xmlns="urn:xmpp:push:0" jid="push.shakespeare.lit" node="n"/>`),
	pushIQ(groupJID, "set", `<notify xmlns="http://jabber.org/protocol/groupchat#push" level="mentions"/>`),
	pushIQ(groupJID, "get", `<notify xmlns="http://jabber.org/protocol/groupchat#push"/>`),
	pushIQ(groupJID, "set", `<notify xmlns="http://jabber.org/protocol/groupchat#push" level="loud"/>`),
	pushIQ(service, "set", `<enable xmlns="urn:xmpp:push:0" jid="a@@b" node="n"/>`),
}

func TestParsePush(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want protocol.Request
		// err is the defined condition of a refusal.
		err string
	}{
		{"enable", pushSeeds[0], protocol.PushEnable{JID: "push.shakespeare.lit", Node: "yxs32uqsflafdk3iuqo"}, ""},
		{"enable with publish-options and the body opt-in", pushSeeds[1],
			protocol.PushEnable{JID: "push.shakespeare.lit", Node: "n", PublishOptions: publishOptions, IncludeBody: true}, ""},
		{"disable every node", pushSeeds[2], protocol.PushDisable{JID: "push.shakespeare.lit"}, ""},
		{"disable one node", pushSeeds[3], protocol.PushDisable{JID: "push.shakespeare.lit", Node: "n"}, ""},
		{"set a level", pushSeeds[4], protocol.NotifyLevel{Group: "groupid", Set: true, Level: domain.NotifyMentions}, ""},
		{"ask for the level", pushSeeds[5], protocol.NotifyLevel{Group: "groupid"}, ""},
		{"an unknown level", pushSeeds[6], nil, "bad-request"},
		{"a level without one", pushIQ(groupJID, "set", `<notify xmlns="http://jabber.org/protocol/groupchat#push"/>`), nil, "bad-request"},
		{"a level sent to the service", pushIQ(service, "set", `<notify xmlns="http://jabber.org/protocol/groupchat#push" level="none"/>`), nil, "bad-request"},
		{"a malformed push jid", pushSeeds[7], nil, "jid-malformed"},
		{"enable without jid", pushIQ(service, "set", `<enable xmlns="urn:xmpp:push:0" node="n"/>`), nil, "bad-request"},
		{"enable without node", pushIQ(service, "set", `<enable xmlns="urn:xmpp:push:0" jid="push.shakespeare.lit"/>`), nil, "bad-request"},
		{"disable without jid", pushIQ(service, "set", `<disable xmlns="urn:xmpp:push:0"/>`), nil, "bad-request"},
		{"enable as a get", pushIQ(service, "get", `<enable xmlns="urn:xmpp:push:0" jid="push.shakespeare.lit" node="n"/>`), nil, "bad-request"},
		{"enable sent to a group", pushIQ(groupJID, "set", `<enable xmlns="urn:xmpp:push:0" jid="push.shakespeare.lit" node="n"/>`), nil, "bad-request"},
		{"a form of another type", pushIQ(service, "set", `<enable xmlns="urn:xmpp:push:0" jid="p" node="n"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>urn:other</value></field></x></enable>`), nil, "bad-request"},
		{"a form that is not submitted", pushIQ(service, "set", `<enable xmlns="urn:xmpp:push:0" jid="p" node="n"><x xmlns="jabber:x:data" type="form"/></enable>`), nil, "bad-request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, req, err := parseRequest(tc.in)
			if tc.err != "" {
				var pe *protocol.Error
				if !errors.As(err, &pe) || pe.Condition != tc.err {
					t.Fatalf("Parse(%s) = %#v, %v; want a %s refusal", tc.in, req, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%s): %v", tc.in, err)
			}
			if !reflect.DeepEqual(req, tc.want) {
				t.Fatalf("Parse(%s)\n = %#v\nwant %#v", tc.in, req, tc.want)
			}
		})
	}
}

func TestIsPushReply(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{`<iq from="push.shakespeare.lit" to="` + service + `" type="result" id="push-7"/>`, true},
		{`<iq from="push.shakespeare.lit" to="` + service + `" type="error" id="push-7"/>`, true},
		{`<iq from="push.shakespeare.lit" to="` + service + `" type="set" id="push-7"/>`, false},
		{`<iq from="push.shakespeare.lit" to="` + groupJID + `" type="result" id="push-7"/>`, false},
		{`<iq from="push.shakespeare.lit" to="` + service + `" type="result" id="push-"/>`, false},
		{`<iq from="push.shakespeare.lit" to="` + service + `" type="result" id="sync-7"/>`, false},
	}
	for _, tc := range cases {
		if got := protocol.IsPushReply(mustStanza(t, tc.in)); got != tc.want {
			t.Errorf("IsPushReply(%s) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRenderPushPublish(t *testing.T) {
	cases := []struct {
		name    string
		sum     protocol.Summary
		options string
	}{
		{"push-publish", protocol.Summary{MessageCount: 3, LastSender: groupJID + "/crone"}, ""},
		{"push-publish-body-options", protocol.Summary{MessageCount: 1, LastSender: groupJID + "/crone", LastBody: `Wherefore art thou <Romeo> & "why"?`}, publishOptions},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := protocol.PushPublish(service, protocol.PushID("42"), "yxs32uqsflafdk3iuqo", tc.sum, tc.options).For("push.shakespeare.lit").String()
			if err := checkNamespaceWellFormed(out); err != nil {
				t.Fatalf("not well-formed: %v\n%s", err, out)
			}
			back, err := parseRenderedSafely(out)
			if err != nil {
				t.Fatal(err)
			}
			x := back.Child(protocol.NSPubSub, "pubsub").Child(protocol.NSPubSub, "publish").Child(protocol.NSPubSub, "item").
				Child(protocol.NSPush, "notification").Child(protocol.NSDataForms, "x")
			got := map[string]string{}
			for _, f := range x.ChildrenNamed(protocol.NSDataForms, "field") {
				got[f.Attr("var")] = f.Child(protocol.NSDataForms, "value").Text
			}
			want := map[string]string{"FORM_TYPE": protocol.NSPushSummary, "message-count": strconv.Itoa(tc.sum.MessageCount), "last-message-sender": tc.sum.LastSender}
			if tc.sum.LastBody != "" {
				want["last-message-body"] = tc.sum.LastBody
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("summary fields = %v, want %v", got, want)
			}
			if opts := back.Child(protocol.NSPubSub, "pubsub").Child(protocol.NSPubSub, "publish-options"); (opts != nil) != (tc.options != "") {
				t.Errorf("publish-options present = %v, want %v", opts != nil, tc.options != "")
			}
			checkGolden(t, tc.name+".xml", out)
		})
	}
}

// checkPushRequest checks what the parser made of a push request: a
// valid address, and a level only among the defined ones.
func checkPushRequest(t *testing.T, st protocol.Stanza, r protocol.Request) {
	t.Helper()
	if st.Kind != "iq" {
		t.Fatalf("push request %T from a %s", r, st.Kind)
	}
	switch r := r.(type) {
	case protocol.PushEnable:
		if r.JID == "" || r.Node == "" || st.Group() != "" {
			t.Fatalf("enable %+v to %s", r, st.To)
		}
		if r.PublishOptions != "" {
			if _, err := parseRenderedSafely(r.PublishOptions); err != nil {
				t.Fatalf("publish-options do not read again: %v: %q", err, r.PublishOptions)
			}
		}
	case protocol.PushDisable:
		if r.JID == "" || st.Group() != "" {
			t.Fatalf("disable %+v to %s", r, st.To)
		}
	case protocol.NotifyLevel:
		if r.Group == "" || r.Group != st.Group() || (r.Set && !r.Level.Valid()) {
			t.Fatalf("notify %+v to %s", r, st.To)
		}
	}
}

func FuzzParsePush(f *testing.F) {
	for _, s := range pushSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		st, req, err := parseRequest(in)
		var pe *panicError
		if errors.As(err, &pe) {
			t.Fatalf("panic parsing %q: %v\n%s", in, err, pe.stack)
		}
		if st.Node == nil || err != nil {
			return
		}
		switch r := req.(type) {
		case protocol.PushEnable, protocol.PushDisable, protocol.NotifyLevel:
			checkPushRequest(t, st, r)
			if e, ok := r.(protocol.PushEnable); ok {
				out := protocol.PushPublish(service, protocol.PushID("1"), e.Node, protocol.Summary{MessageCount: 1, LastSender: groupJID + "/x", LastBody: e.Node}, e.PublishOptions).For(e.JID).String()
				if _, err := parseRenderedSafely(out); err != nil {
					t.Fatalf("the publish for %q does not read again: %v\n%s", in, err, out)
				}
			}
		}
	})
}
