package service_test

import (
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/service"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// TestSystemAdministratorsAreMatchedAsBareJIDs: the configured service
// administrators are compared with requesters as normalized bare JIDs, so
// an administrator written with capitals or with a resource makes system
// groups, and an ordinary user does not.
func TestSystemAdministratorsAreMatchedAsBareJIDs(t *testing.T) {
	tests := []struct {
		name, configured, from, wantType string
	}{
		{"as written", "eve@example.test", "eve@example.test/admin", "system"},
		{"capitals", "Eve@Example.TEST", "eve@example.test/admin", "system"},
		{"with a resource", "eve@example.test/desk", "eve@example.test/phone", "system"},
		{"padded", " eve@example.test ", "eve@example.test/phone", "system"},
		{"someone else", "eve@example.test", "alice@example.test/phone", "customized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _, out := liveServiceWith(t, service.Config{
				Domain: benchDomain, Limits: domain.DefaultLimits(), SystemAdmins: []string{tt.configured},
			})
			gj := "news@" + benchDomain
			handle(t, svc, `<presence from="`+tt.from+`" to="`+gj+`"><x xmlns="`+protocol.NSCreate+`"/>`+
				`<properties><property name="name">News</property></properties></presence>`)
			out.next(t, tt.from, "creategroup broadcast", func(n *xmlnode.Node) bool {
				return n.Name.Local == "presence" && n.ChildNS(protocol.NSCreate) != nil
			})
			handle(t, svc, `<iq from="`+tt.from+`" to="`+gj+`" type="get" id="gi"><query xmlns="`+protocol.NSGroupInfo+`"/></iq>`)
			res := out.next(t, tt.from, "groupinfo", func(n *xmlnode.Node) bool { return n.Attr("id") == "gi" })
			item := res.Child(protocol.NSGroupInfo, "query").Child("", "item")
			if item == nil || item.Attr("type") != tt.wantType {
				t.Fatalf("group type: want %q in %s", tt.wantType, res.Attr("type"))
			}
		})
	}
}
