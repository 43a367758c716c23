package protocol_test

import (
	"errors"
	"testing"

	"github.com/uuchat/groupchat/xmpp/protocol"
)

// TestMemberIDsMustBeResources: a member id becomes the resource of the
// member's occupant address, so one that RFC 3920's resourceprep refuses
// (tables C.6, C.7; the bidi rule of RFC 3454 §6) is a bad request, in an
// added item as in the creator's own properties.
func TestMemberIDsMustBeResources(t *testing.T) {
	tests := []struct {
		mid string
		ok  bool
	}{
		{"hecate", true},
		{"\u5f20\u4e09", true}, // Han
		{"\u05d0\u05d1", true}, // right-to-left only
		{"\U0001f642", true},   // an emoji, unassigned in Unicode 3.2
		{"Zo\u00eb", true},
		{"a\ufffcb", false},           // C.6 object replacement character
		{"\u2ff0x", false},            // C.7 ideographic description character
		{"\u05d0a", false},            // right-to-left mixed with left-to-right
		{"\u0627\u0644\u0031", false}, // Arabic ending in a digit: RFC 3454 §6 wants a right-to-left character last
	}
	for _, tt := range tests {
		for _, st := range []string{
			`<presence from="` + hagPDA + `" to="` + groupJID + `"><x xmlns="` + protocol.NSAdd + `"/><item jid="` + crone + `" mid="` + tt.mid + `"/></presence>`,
			`<presence from="` + hagPDA + `" to="` + groupJID + `"><x xmlns="` + protocol.NSCreate + `"/><properties><property name="name">n</property>` +
				`<property name="mid">` + tt.mid + `</property></properties></presence>`,
		} {
			_, _, err := parseRequest(st)
			var pe *protocol.Error
			switch {
			case tt.ok && err != nil:
				t.Errorf("mid %q: refused: %v", tt.mid, err)
			case !tt.ok && (!errors.As(err, &pe) || pe.Condition != "bad-request"):
				t.Errorf("mid %q: got %v, want bad-request", tt.mid, err)
			}
		}
	}
}
