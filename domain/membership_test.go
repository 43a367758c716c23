package domain_test

import (
	"testing"

	"github.com/uuchat/groupchat/domain"
)

func TestAddMembers(t *testing.T) {
	team := createTeam()
	carolMember := domain.Member{JID: carol, MID: "carol", Nick: "carol", Role: domain.RoleMember}
	runAccepted(t, []accepted{
		{
			name:    "the owner adds a member and an admin",
			history: []domain.Command{team},
			cmd: domain.AddMembers{By: owner, Members: []domain.Member{
				{JID: carol}, {JID: "dave@example.org", MID: "dave", Nick: "Dave", Role: domain.RoleAdmin}}},
			want: []domain.Event{domain.MemberAdded{By: owner, At: now, Members: []domain.Member{
				carolMember, {JID: "dave@example.org", MID: "dave", Nick: "Dave", Role: domain.RoleAdmin}}}},
			then: func(t *testing.T, g *domain.Group) {
				if m, ok := g.Member(carol); !ok || m.Role != domain.RoleMember {
					t.Errorf("after the add, Member(%q) = %+v, %v; want a plain member", carol, m, ok)
				}
				if m, ok := g.MemberByMID("dave"); !ok || m.JID != "dave@example.org" {
					t.Errorf("after the add, MemberByMID(dave) = %+v, %v; want dave@example.org", m, ok)
				}
			},
		},
		{
			name:    "an admin adds a plain member",
			history: []domain.Command{team},
			cmd:     domain.AddMembers{By: admin, Members: []domain.Member{{JID: carol, Role: domain.RoleMember}}},
			want:    []domain.Event{domain.MemberAdded{By: admin, At: now, Members: []domain.Member{carolMember}}},
			then:    wantMembers(append(teamMembers(), carolMember)...),
		},
		{
			name:    "an assigned mid avoids the mids of existing members",
			history: []domain.Command{team},
			cmd:     domain.AddMembers{By: owner, Members: []domain.Member{{JID: "alice@elsewhere.example"}}},
			want: []domain.Event{domain.MemberAdded{By: owner, At: now, Members: []domain.Member{
				{JID: "alice@elsewhere.example", MID: "alice-2", Nick: "alice-2", Role: domain.RoleMember}}}},
		},
		{
			name:    "a removed member may be added again and takes the freed mid",
			history: []domain.Command{team, domain.RemoveMembers{By: alice, Members: []domain.MemberSelector{{JID: alice}}}},
			cmd:     domain.AddMembers{By: owner, Members: []domain.Member{{JID: alice}}},
			want: []domain.Event{domain.MemberAdded{By: owner, At: now, Members: []domain.Member{
				{JID: alice, MID: "alice", Nick: "alice", Role: domain.RoleMember}}}},
		},
		{
			name:    "up to MaxMembers, counting those already there",
			lim:     withLimits(func(l *domain.Limits) { l.MaxMembers = 5 }),
			history: []domain.Command{team},
			cmd:     domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol}}},
			want:    []domain.Event{domain.MemberAdded{By: owner, At: now, Members: []domain.Member{carolMember}}},
			then: func(t *testing.T, g *domain.Group) {
				if g.MemberCount() != 5 {
					t.Errorf("the group has %d members, want 5", g.MemberCount())
				}
			},
		},
	})
	runRefused(t, []refused{
		{name: "an admin may not add an admin", history: []domain.Command{team},
			cmd: domain.AddMembers{By: admin, Members: []domain.Member{{JID: carol, Role: domain.RoleAdmin}}}, want: domain.KindNotAllowed},
		{name: "a plain member may not add", history: []domain.Command{team},
			cmd: domain.AddMembers{By: alice, Members: []domain.Member{{JID: carol}}}, want: domain.KindNotAllowed},
		{name: "a non-member may not add", history: []domain.Command{team},
			cmd: domain.AddMembers{By: stranger, Members: []domain.Member{{JID: carol}}}, want: domain.KindNotMember},
		{name: "nobody may add a second owner", history: []domain.Command{team},
			cmd: domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol, Role: domain.RoleOwner}}}, want: domain.KindNotAllowed},
		{name: "the seed's example, the owner adding itself as owner, is refused for the role", history: []domain.Command{team},
			cmd: domain.AddMembers{By: owner, Members: []domain.Member{{JID: owner, Role: domain.RoleOwner}}}, want: domain.KindNotAllowed},
		{name: "adding a member already there is a conflict", history: []domain.Command{team},
			cmd: domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol}, {JID: alice}}}, want: domain.KindConflict},
		{name: "adding the owner again is a conflict", history: []domain.Command{team},
			cmd: domain.AddMembers{By: admin, Members: []domain.Member{{JID: owner}}}, want: domain.KindConflict},
		{name: "a mid held by a member is a conflict", history: []domain.Command{team},
			cmd: domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol, MID: "bob"}}}, want: domain.KindConflict},
		{name: "a jid listed twice is a bad request", history: []domain.Command{team},
			cmd: domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol}, {JID: carol}}}, want: domain.KindBadRequest},
		{name: "naming nobody is a bad request", history: []domain.Command{team},
			cmd: domain.AddMembers{By: owner}, want: domain.KindBadRequest},
		{name: "the member limit counts the members already there", history: []domain.Command{team},
			lim: withLimits(func(l *domain.Limits) { l.MaxMembers = 5 }),
			cmd: domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol}, {JID: "dave@example.org"}}}, want: domain.KindLimit},
		{name: "an unknown group is not found",
			cmd: domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol}}}, want: domain.KindNotFound},
	})
}

func TestRemoveMembers(t *testing.T) {
	team := createTeam()
	m := teamMembers() // owner, admin, alice, bob
	ownerM, adminM, aliceM, bobM := m[0], m[1], m[2], m[3]
	secondAdmin := domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol, MID: "carol", Nick: "Carol", Role: domain.RoleAdmin}}}
	removed := func(by string, ms ...domain.Member) []domain.Event {
		return []domain.Event{domain.MemberRemoved{By: by, At: now, Members: ms}}
	}
	sel := func(jid string) []domain.MemberSelector { return []domain.MemberSelector{{JID: jid}} }
	runAccepted(t, []accepted{
		{name: "the owner removes an admin and a plain member", history: []domain.Command{team},
			cmd:  domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{JID: admin}, {JID: alice}}},
			want: removed(owner, adminM, aliceM), then: wantMembers(ownerM, bobM)},
		{name: "an admin removes a plain member", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: admin, Members: sel(bob)}, want: removed(admin, bobM), then: wantMembers(ownerM, adminM, aliceM)},
		{name: "an admin leaves", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: admin, Members: sel(admin)}, want: removed(admin, adminM), then: wantMembers(ownerM, aliceM, bobM)},
		{name: "a plain member leaves", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: alice, Members: sel(alice)}, want: removed(alice, aliceM), then: wantMembers(ownerM, adminM, bobM)},
		{name: "a member is selected by mid", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{MID: "bob"}}}, want: removed(owner, bobM)},
		{name: "a member is selected by nick", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{Nick: "Alice"}}}, want: removed(owner, aliceM)},
		{name: "the jid wins over the mid and nick in one selector", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{JID: alice, MID: "bob", Nick: "Bob"}}}, want: removed(owner, aliceM)},
		{name: "a member named twice is removed once", history: []domain.Command{team},
			cmd:  domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{JID: alice}, {MID: "alice"}, {Nick: "Alice"}}},
			want: removed(owner, aliceM), then: wantMembers(ownerM, adminM, bobM)},
		{name: "a removed member can no longer be found", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: owner, Members: sel(bob)}, want: removed(owner, bobM),
			then: func(t *testing.T, g *domain.Group) {
				if _, ok := g.Member(bob); ok {
					t.Errorf("Member(%q) still finds the removed member", bob)
				}
				if _, ok := g.MemberByMID("bob"); ok {
					t.Errorf("MemberByMID(bob) still finds the removed member")
				}
				if _, ok := g.MemberByNick("Bob"); ok {
					t.Errorf("MemberByNick(Bob) still finds the removed member")
				}
				if got, ok := g.Member(alice); !ok || got != aliceM {
					t.Errorf("after removing bob, Member(%q) = %+v, %v; want %+v", alice, got, ok, aliceM)
				}
			}},
	})
	runRefused(t, []refused{
		{name: "the owner cannot remove itself", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: owner, Members: sel(owner)}, want: domain.KindNotAllowed},
		{name: "an admin may not remove the owner", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: admin, Members: sel(owner)}, want: domain.KindNotAllowed},
		{name: "an admin may not remove another admin", history: []domain.Command{team, secondAdmin},
			cmd: domain.RemoveMembers{By: admin, Members: sel(carol)}, want: domain.KindNotAllowed},
		{name: "a plain member may not remove another", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: alice, Members: sel(bob)}, want: domain.KindNotAllowed},
		{name: "a plain member may not remove an admin", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: alice, Members: sel(admin)}, want: domain.KindNotAllowed},
		{name: "a plain member may not remove itself and another at once", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: alice, Members: []domain.MemberSelector{{JID: alice}, {JID: bob}}}, want: domain.KindNotAllowed},
		{name: "a non-member may not remove", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: stranger, Members: sel(alice)}, want: domain.KindNotMember},
		{name: "an unknown jid is not found", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: owner, Members: sel(stranger)}, want: domain.KindNotFound},
		{name: "an unknown mid is not found", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{MID: "nobody"}}}, want: domain.KindNotFound},
		{name: "an unknown nick is not found", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{Nick: "Nobody"}}}, want: domain.KindNotFound},
		{name: "a member removed before is not found", history: []domain.Command{team, domain.RemoveMembers{By: bob, Members: sel(bob)}},
			cmd: domain.RemoveMembers{By: owner, Members: sel(bob)}, want: domain.KindNotFound},
		{name: "a selector naming nobody is a bad request", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{}}}, want: domain.KindBadRequest},
		{name: "naming no member is a bad request", history: []domain.Command{team},
			cmd: domain.RemoveMembers{By: owner}, want: domain.KindBadRequest},
		{name: "an unknown group is not found",
			cmd: domain.RemoveMembers{By: alice, Members: sel(alice)}, want: domain.KindNotFound},
	})
}
