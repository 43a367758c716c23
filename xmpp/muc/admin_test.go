package muc_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/muc"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// The members of XEP-0045's examples: crone1 owns the coven, wiccarocks
// is an admin, hag66 a member; hecate is not in it.
const (
	crone  = "crone1@shakespeare.lit"
	wicca  = "wiccarocks@shakespeare.lit"
	hag    = "hag66@shakespeare.lit"
	hecate = "hecate@shakespeare.lit"
)

func coven(t *testing.T) *domain.Group {
	t.Helper()
	lim := domain.DefaultLimits()
	g := domain.NewGroup(lim)
	dec, err := domain.Decide(g, domain.CreateGroup{GroupID: "coven", Name: "A Dark Cave", Creator: domain.Member{JID: crone, MID: "firstwitch"},
		Members: []domain.Member{{JID: wicca, MID: "secondwitch", Role: domain.RoleAdmin}, {JID: hag, MID: "thirdwitch"}}}, time.Unix(0, 0), lim)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range dec.Events {
		g.Apply(e)
	}
	return g
}

// condition is the stanza error condition err stands for.
func condition(err error) string {
	if err == nil {
		return ""
	}
	return protocol.ErrorFor(err).Condition
}

func TestAffiliations(t *testing.T) {
	g := coven(t)
	for _, tc := range []struct {
		ask  protocol.AffiliationList
		want []protocol.AdminListItem
	}{
		// §9.5's example: the member list, with nicks and roles.
		{protocol.AffiliationList{Affiliation: "member"}, []protocol.AdminListItem{{Affiliation: "member", JID: hag, Nick: "thirdwitch", Role: "participant"}}},
		{protocol.AffiliationList{Affiliation: "admin"}, []protocol.AdminListItem{{Affiliation: "admin", JID: wicca, Nick: "secondwitch", Role: "moderator"}}},
		{protocol.AffiliationList{Affiliation: "owner"}, []protocol.AdminListItem{{Affiliation: "owner", JID: crone, Nick: "firstwitch", Role: "moderator"}}},
		{protocol.AffiliationList{Affiliation: "outcast"}, []protocol.AdminListItem{}},
		{protocol.AffiliationList{Role: "moderator"}, []protocol.AdminListItem{
			{Affiliation: "owner", JID: crone, Nick: "firstwitch", Role: "moderator"},
			{Affiliation: "admin", JID: wicca, Nick: "secondwitch", Role: "moderator"}}},
		{protocol.AffiliationList{Role: "visitor"}, []protocol.AdminListItem{}},
	} {
		got, err := muc.Affiliations(g, hag, tc.ask)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: got %v, %v, want %v", tc.ask, got, err, tc.want)
		}
	}
	if _, err := muc.Affiliations(g, hecate, protocol.AffiliationList{Affiliation: "member"}); condition(err) != "forbidden" {
		t.Errorf("a stranger asks for the member list: %v, want forbidden", err)
	}
}

func TestAdminPlan(t *testing.T) {
	g := coven(t)
	item := func(jid, aff string) protocol.AdminItem { return protocol.AdminItem{JID: jid, Affiliation: aff} }
	for _, tc := range []struct {
		name  string
		by    string
		items []protocol.AdminItem
		want  muc.Plan
		cond  string
	}{
		{name: "§9.3 admin grants membership, the nick as member id", by: wicca,
			items: []protocol.AdminItem{{JID: hecate, Nick: "fourthwitch", Affiliation: "member"}},
			want: muc.Plan{Commands: []domain.Command{domain.AddMembers{By: wicca, Members: []domain.Member{{JID: hecate, MID: "fourthwitch", Role: domain.RoleMember}}}},
				Invite: []protocol.Invitation{{JID: hecate}}}},
		{name: "§9.5 modified member list: one out, one in", by: crone,
			items: []protocol.AdminItem{item(hag, "none"), item(hecate, "member")},
			want: muc.Plan{Commands: []domain.Command{
				domain.RemoveMembers{By: crone, Members: []domain.MemberSelector{{JID: hag}}},
				domain.AddMembers{By: crone, Members: []domain.Member{{JID: hecate, Role: domain.RoleMember}}}},
				Invite: []protocol.Invitation{{JID: hecate}}}},
		{name: "§10.6 owner grants admin status to a newcomer", by: crone, items: []protocol.AdminItem{item(hecate, "admin")},
			want: muc.Plan{Commands: []domain.Command{domain.AddMembers{By: crone, Members: []domain.Member{{JID: hecate, Role: domain.RoleAdmin}}}},
				Invite: []protocol.Invitation{{JID: hecate}}}},
		{name: "§10.3 owner grants owner status: the hand-over", by: crone, items: []protocol.AdminItem{item(hag, "owner")},
			want: muc.Plan{Commands: []domain.Command{domain.UpdateGroup{By: crone, NewOwner: hag}}}},
		{name: "a member made member again: nothing to do", by: crone, items: []protocol.AdminItem{item(hag, "member"), item(hecate, "none")}},
		{name: "§9.3 a mere member grants membership", by: hag, items: []protocol.AdminItem{item(hecate, "member")}, cond: "forbidden"},
		{name: "§10.6 an admin grants admin status", by: wicca, items: []protocol.AdminItem{item(hecate, "admin")}, cond: "forbidden"},
		{name: "§10.3 an admin grants owner status", by: wicca, items: []protocol.AdminItem{item(hag, "owner")}, cond: "forbidden"},
		{name: "§10.7 an admin revokes admin status", by: wicca, items: []protocol.AdminItem{item(wicca, "member")}, cond: "forbidden"},
		{name: "a stranger changes the member list", by: hecate, items: []protocol.AdminItem{item(hag, "none")}, cond: "forbidden"},
		{name: "§10.2 the only owner gives up ownership", by: crone, items: []protocol.AdminItem{item(crone, "admin")}, cond: "conflict"},
		{name: "the owner leaves", by: crone, items: []protocol.AdminItem{item(crone, "none")}, cond: "conflict"},
		{name: "§9.1 an admin lowers the owner", by: wicca, items: []protocol.AdminItem{item(crone, "member")}, cond: "not-allowed"},
		{name: "ownership to a user who is not a member", by: crone, items: []protocol.AdminItem{item(hecate, "owner")}, cond: "item-not-found"},
		{name: "§10.6 owner grants admin status to a member", by: crone, items: []protocol.AdminItem{item(hag, "admin")},
			want: muc.Plan{Commands: []domain.Command{domain.ChangeRole{By: crone, JID: hag, Role: domain.RoleAdmin}}}},
		{name: "§10.7 owner revokes admin status", by: crone, items: []protocol.AdminItem{item(wicca, "member")},
			want: muc.Plan{Commands: []domain.Command{domain.ChangeRole{By: crone, JID: wicca, Role: domain.RoleMember}}}},
		{name: "§9.1 a ban: no ban list", by: crone, items: []protocol.AdminItem{item(hag, "outcast")}, cond: "feature-not-implemented"},
		{name: "§9.1 a ban by a mere member", by: hag, items: []protocol.AdminItem{item(wicca, "outcast")}, cond: "forbidden"},
		{name: "§8.2 a kick: roles follow affiliations", by: crone, items: []protocol.AdminItem{{Nick: "thirdwitch", Role: "none"}}, cond: "not-allowed"},
		{name: "§8.2 a kick by a participant", by: hag, items: []protocol.AdminItem{{Nick: "secondwitch", Role: "none"}}, cond: "forbidden"},
		{name: "one user twice", by: crone, items: []protocol.AdminItem{item(hecate, "member"), item(hecate, "none")}, cond: "bad-request"},
		{name: "a nick that cannot be a member id", by: crone, items: []protocol.AdminItem{{JID: hecate, Nick: "\u0007", Affiliation: "member"}}, cond: "jid-malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := muc.AdminPlan(g, tc.by, tc.items)
			if c := condition(err); c != tc.cond {
				t.Fatalf("refused with %q (%v), want %q", c, err, tc.cond)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("plan\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// TestAdminPlanThroughTheDomain runs plans through the domain's rules:
// what the domain refuses keeps its meaning (§8.2: an admin may not act on
// an admin, not-allowed).
func TestAdminPlanThroughTheDomain(t *testing.T) {
	g := coven(t)
	lim := domain.DefaultLimits()
	decide := func(by string, items ...protocol.AdminItem) error {
		p, err := muc.AdminPlan(g, by, items)
		if err != nil {
			return err
		}
		for _, c := range p.Commands {
			if _, err := domain.Decide(g, c, time.Unix(1, 0), lim); err != nil {
				return err
			}
		}
		return nil
	}
	if err := decide(crone, protocol.AdminItem{JID: wicca, Affiliation: "none"}); err != nil {
		t.Errorf("the owner removes an admin: %v", err)
	}
	var de *domain.Error
	if err := decide(wicca, protocol.AdminItem{JID: crone, Affiliation: "none"}); !errors.As(err, &de) || condition(err) != "not-allowed" {
		t.Errorf("an admin removes the owner: %v, want the domain's not-allowed", err)
	}
	if err := decide(hag, protocol.AdminItem{JID: hag, Affiliation: "none"}); err != nil {
		t.Errorf("a member leaves: %v", err)
	}
}

func TestInvitePlan(t *testing.T) {
	g := coven(t)
	inv := []protocol.Invitation{{JID: hecate, Reason: "Hey Hecate"}, {JID: hag}, {JID: hecate}}
	got, err := muc.InvitePlan(g, wicca, inv)
	want := muc.Plan{
		Commands: []domain.Command{domain.AddMembers{By: wicca, Members: []domain.Member{{JID: hecate, Role: domain.RoleMember}}}},
		Invite:   []protocol.Invitation{{JID: hecate, Reason: "Hey Hecate"}, {JID: hag}},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("an admin invites: %#v, %v, want %#v", got, err, want)
	}
	// §9.5: a mere member's invitation to a members-only room.
	if _, err := muc.InvitePlan(g, hag, inv); condition(err) != "forbidden" {
		t.Errorf("a member invites: %v, want forbidden", err)
	}
	if _, err := muc.InvitePlan(g, hecate, inv); condition(err) != "forbidden" {
		t.Errorf("a stranger invites: %v, want forbidden", err)
	}
}

func TestOwnerPlans(t *testing.T) {
	g := coven(t)
	submit := func(fields map[string][]string) protocol.RoomConfigSubmit {
		return protocol.RoomConfigSubmit{Group: "coven", Fields: fields}
	}
	rename := muc.Plan{Commands: []domain.Command{domain.UpdateGroup{By: crone, Name: "The Coven"}}}
	for _, tc := range []struct {
		name string
		by   string
		r    protocol.RoomConfigSubmit
		want muc.Plan
		cond string
	}{
		{name: "§10.1.2 instant room", by: crone, r: submit(map[string][]string{})},
		{name: "§10.2 cancel", by: crone, r: protocol.RoomConfigSubmit{Group: "coven", Cancel: true}},
		{name: "rename", by: crone, r: submit(map[string][]string{"muc#roomconfig_roomname": {"The Coven"}}), want: rename},
		{name: "the same name", by: crone, r: submit(map[string][]string{"muc#roomconfig_roomname": {"A Dark Cave"}})},
		{name: "§10.1.3 an open room", by: crone, r: submit(map[string][]string{"muc#roomconfig_membersonly": {"0"}}), cond: "not-acceptable"},
		{name: "§10.2 an admin configures", by: wicca, r: submit(map[string][]string{"muc#roomconfig_roomname": {"The Coven"}}), cond: "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := muc.ConfigPlan(g, tc.by, tc.r)
			if c := condition(err); c != tc.cond {
				t.Fatalf("refused with %q (%v), want %q", c, err, tc.cond)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("plan %#v, want %#v", got, tc.want)
			}
		})
	}
	if _, err := muc.ConfigForm(g, wicca); condition(err) != "forbidden" {
		t.Errorf("§10.2 Service Denies Configuration Access to Non-Owner: %v", err)
	}
	destroy := protocol.RoomDestroy{Group: "coven", Reason: "Macbeth doth come.", AltVenue: "coven@chat.shakespeare.lit"}
	if got, err := muc.DestroyPlan(g, crone, destroy); err != nil ||
		!reflect.DeepEqual(got.Commands, []domain.Command{domain.DeleteGroup{By: crone, Reason: "Macbeth doth come.", Venue: "coven@chat.shakespeare.lit"}}) {
		t.Errorf("§10.9 the owner destroys: %#v, %v", got, err)
	}
	if _, err := muc.DestroyPlan(g, wicca, destroy); condition(err) != "forbidden" {
		t.Errorf("§10.9 Service Denies Destroy Request Submitted by Non-Owner: %v", err)
	}
}

func TestSubjectPlan(t *testing.T) {
	g := coven(t)
	if got, err := muc.SubjectPlan(g, wicca, "Fire Burn and Cauldron Bubble!"); err != nil ||
		!reflect.DeepEqual(got.Commands, []domain.Command{domain.UpdateGroup{By: wicca, Name: "Fire Burn and Cauldron Bubble!"}}) {
		t.Errorf("§8.1 a moderator changes the subject: %#v, %v", got, err)
	}
	if got, err := muc.SubjectPlan(g, wicca, "A Dark Cave"); err != nil || len(got.Commands) != 0 {
		t.Errorf("the subject it has already: %#v, %v", got, err)
	}
	if _, err := muc.SubjectPlan(g, hag, "Fire Burn and Cauldron Bubble!"); condition(err) != "forbidden" {
		t.Errorf("§8.1 Unauthorized Subject Change: %v, want forbidden", err)
	}
}

func TestCreation(t *testing.T) {
	for _, tc := range []struct{ nick, mid string }{
		{"firstwitch", "firstwitch"},
		{"\u0007", "crone1"}, // not a member id: the JID's local part
	} {
		c := muc.Creation("coven", crone, tc.nick)
		want := domain.CreateGroup{GroupID: "coven", Name: "coven", Type: domain.TypeCustomized, Creator: domain.Member{JID: crone, MID: tc.mid}}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("Creation(%q) = %#v, want %#v", tc.nick, c, want)
		}
	}
}

// TestRoleChangeAsOccupants checks what occupants see of a member made
// admin: §10.6's "Service Notes Gain of Admin Affiliation to All Users".
func TestRoleChangeAsOccupants(t *testing.T) {
	g := coven(t)
	addr := protocol.Addresses{Domain: "chat.shakespeare.lit"}
	e := domain.MemberRoleChanged{Member: domain.Member{JID: hag, MID: "thirdwitch", Nick: "thirdwitch", Role: domain.RoleAdmin}, By: crone}
	me, _ := g.Member(crone)
	out := muc.Change(addr, "coven", e, g, me)
	if len(out) != 1 {
		t.Fatalf("one presence, got %d", len(out))
	}
	got := out[0].For(crone + "/desktop").String()
	want := `<presence from="coven@chat.shakespeare.lit/thirdwitch" to="crone1@shakespeare.lit/desktop">` +
		`<x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="admin" jid="hag66@shakespeare.lit" role="moderator"/></x></presence>`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestDestructionAsOccupants checks §10.9's "Service Removes Each
// Occupant": the reason and the alternate venue reach each occupant.
func TestDestructionAsOccupants(t *testing.T) {
	g := coven(t)
	addr := protocol.Addresses{Domain: "chat.shakespeare.lit"}
	me, _ := g.Member(hag)
	e := domain.GroupDeleted{Members: g.Members(), By: crone, Reason: "Macbeth doth come.", Venue: "coven@chat.shakespeare.lit"}
	out := muc.Change(addr, "heath", e, g, me)
	if len(out) != 1 {
		t.Fatalf("one presence, got %d", len(out))
	}
	got := out[0].For(hag + "/pda").String()
	want := `<presence from="heath@chat.shakespeare.lit/thirdwitch" type="unavailable" to="hag66@shakespeare.lit/pda">` +
		`<x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="none" jid="hag66@shakespeare.lit" role="none"/>` +
		`<destroy jid="coven@chat.shakespeare.lit"><reason>Macbeth doth come.</reason></destroy><status code="110"/></x></presence>`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestEntryOfTheCreator checks the self-presence of §10.1.1's "Service
// Acknowledges Room Creation": owner, moderator, 110 and 201.
func TestEntryOfTheCreator(t *testing.T) {
	lim := domain.DefaultLimits()
	g := domain.NewGroup(lim)
	dec, err := domain.Decide(g, muc.Creation("coven", crone, "firstwitch"), time.Unix(0, 0), lim)
	if err != nil {
		t.Fatal(err)
	}
	g.Apply(dec.Events[0])
	me, _ := g.Member(crone)
	out := muc.Entry(protocol.Addresses{Domain: "chat.shakespeare.lit"}, g, me, "firstwitch", true)
	if len(out) != 1 {
		t.Fatalf("the creator is the only occupant: %d presences", len(out))
	}
	got := out[0].For(crone + "/desktop").String()
	want := `<presence from="coven@chat.shakespeare.lit/firstwitch" to="crone1@shakespeare.lit/desktop">` +
		`<x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="owner" jid="crone1@shakespeare.lit" role="moderator"/>` +
		`<status code="100"/><status code="110"/><status code="201"/></x></presence>`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
