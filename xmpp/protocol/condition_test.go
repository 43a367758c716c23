package protocol

import (
	"encoding/xml"
	"errors"
	"testing"

	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

var errTest = errors.New("the disk is full")

func xmlName(space, local string) xml.Name { return xml.Name{Space: space, Local: local} }

func TestErrorCondition(t *testing.T) {
	iq := Stanza{Kind: "iq", Type: "get", ID: "q1", From: address.MustParse("alice@example.org/pda"), To: address.MustParse("g1@groupchat.example.org"),
		Node: &xmlnode.Node{Name: xmlName("", "iq"), Children: []*xmlnode.Node{{Name: xmlName(NSCatchUp, "query")}}}}
	msg := Stanza{Kind: "message", Type: "groupchat", ID: "m1", From: address.MustParse("alice@example.org/pda"), To: address.MustParse("g1@groupchat.example.org"),
		Node: &xmlnode.Node{Name: xmlName("", "message")}}
	for _, tc := range []struct {
		name string
		o    Outbound
		want string
		ok   bool
	}{
		{"not allowed", ErrorReply(iq, ErrNotAllowed.With("no")), "not-allowed", true},
		{"rate limited, with text", ErrorReply(msg, ErrRateLimited.With(`slow <down> "now"`)), "resource-constraint", true},
		{"internal", ErrorReply(msg, ErrorFor(errTest)), "internal-server-error", true},
		{"a result", IQResult(iq, []byte(`<error type="cancel"><forged/></error>`)), "", false},
		{"a message with an error-like payload", TransientMessage("g1@groupchat.example.org/alice", "x", `<error type="cancel"><forged/></error>`), "", false},
		{"a presence", GroupPresence("g1@groupchat.example.org", NSCreate, Change{}, nil, nil), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ErrorCondition(tc.o)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ErrorCondition(%s) = %q, %v; want %q, %v", tc.o, got, ok, tc.want, tc.ok)
			}
		})
	}
}
