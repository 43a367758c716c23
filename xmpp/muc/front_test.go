package muc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/muc"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

var (
	addr   = protocol.Addresses{Domain: "chat.shakespeare.lit"}
	croneM = domain.Member{JID: "crone1@shakespeare.lit", MID: "firstwitch", Role: domain.RoleOwner}
	wiccaM = domain.Member{JID: "wiccarocks@shakespeare.lit", MID: "secondwitch", Role: domain.RoleAdmin}
	hagM   = domain.Member{JID: "hag66@shakespeare.lit", MID: "thirdwitch", Role: domain.RoleMember}
)

func frontCoven(t *testing.T) *domain.Group {
	t.Helper()
	g := domain.NewGroup(domain.DefaultLimits())
	g.Apply(domain.GroupCreated{GroupID: "coven", Name: "Coven", Type: domain.TypeCustomized, By: croneM.JID,
		Members: []domain.Member{croneM, wiccaM, hagM}, At: time.Unix(0, 0)})
	return g
}

// TestEntry compares what thirdwitch gets on entering with XEP-0045
// §7.2.3's examples (non-anonymous room: every item carries the real
// JID), the self-presence last with 110 and 100 (§7.2.4), and 210 when
// the service picked the nick (§7.2.9).
func TestEntry(t *testing.T) {
	out := muc.Entry(addr, frontCoven(t), hagM, "oldhag", false)
	want := []string{
		`<presence from='coven@chat.shakespeare.lit/firstwitch' to='hag66@shakespeare.lit/pda'>
		  <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' jid='crone1@shakespeare.lit' role='moderator'/></x></presence>`,
		`<presence from='coven@chat.shakespeare.lit/secondwitch' to='hag66@shakespeare.lit/pda'>
		  <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='admin' jid='wiccarocks@shakespeare.lit' role='moderator'/></x></presence>`,
		`<presence from='coven@chat.shakespeare.lit/thirdwitch' to='hag66@shakespeare.lit/pda'>
		  <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' jid='hag66@shakespeare.lit' role='participant'/>
		  <status code='100'/><status code='110'/><status code='210'/></x></presence>`,
	}
	if len(out) != len(want) {
		t.Fatalf("%d presences, want %d", len(out), len(want))
	}
	for i := range want {
		sameXML(t, out[i].For("hag66@shakespeare.lit/pda").String(), want[i])
	}
	if self := muc.Entry(addr, frontCoven(t), hagM, "thirdwitch", false); strings.Contains(self[2].String(), "210") {
		t.Errorf("no 210 when the nick asked for is the member id: %s", self[2])
	}
}

// TestChange checks what occupants see of the group's changes.
func TestChange(t *testing.T) {
	g := frontCoven(t)
	to := "hag66@shakespeare.lit/pda"
	tests := []struct {
		name string
		e    domain.Event
		for_ domain.Member
		want []string
	}{
		{"a member added comes in (§7.2.3)", domain.MemberAdded{Members: []domain.Member{{JID: "new@shakespeare.lit", MID: "fourth", Role: domain.RoleMember}}}, hagM,
			[]string{`<presence from='coven@chat.shakespeare.lit/fourth' to='` + to + `'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' jid='new@shakespeare.lit' role='participant'/></x></presence>`}},
		{"another removed goes out with 321 (§9.4)", domain.MemberRemoved{Members: []domain.Member{wiccaM}}, hagM,
			[]string{`<presence from='coven@chat.shakespeare.lit/secondwitch' to='` + to + `' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' jid='wiccarocks@shakespeare.lit' role='none'/><status code='321'/></x></presence>`}},
		{"the removed one hears 110 too", domain.MemberRemoved{Members: []domain.Member{hagM}}, hagM,
			[]string{`<presence from='coven@chat.shakespeare.lit/thirdwitch' to='` + to + `' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' jid='hag66@shakespeare.lit' role='none'/><status code='321'/><status code='110'/></x></presence>`}},
		{"a new name is the subject, and a configuration change (§10.2.1)", domain.GroupUpdated{Name: "The Coven", By: croneM.JID}, hagM,
			[]string{`<message from='coven@chat.shakespeare.lit' to='` + to + `' type='groupchat'><subject>The Coven</subject></message>`,
				`<message from='coven@chat.shakespeare.lit' to='` + to + `' type='groupchat'><x xmlns='http://jabber.org/protocol/muc#user'><status code='104'/></x></message>`}},
		{"a deleted group destroys the room (§10.9)", domain.GroupDeleted{Members: g.Members(), By: croneM.JID}, hagM,
			[]string{`<presence from='coven@chat.shakespeare.lit/thirdwitch' to='` + to + `' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' jid='hag66@shakespeare.lit' role='none'/><destroy/><status code='110'/></x></presence>`}},
		{"a message is no change", domain.MessagePosted{ID: "m1", Sender: croneM.JID, MID: croneM.MID, Body: "hi"}, hagM, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := muc.Change(addr, "coven", tt.e, g, tt.for_)
			if len(out) != len(tt.want) {
				t.Fatalf("%d stanzas, want %d: %v", len(out), len(tt.want), out)
			}
			for i := range tt.want {
				sameXML(t, out[i].For(to).String(), tt.want[i])
			}
		})
	}
}
