package domain_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
)

// TestChangeRole checks who may make a member an admin or an admin a
// member: the owner alone, never on itself, and the role is applied.
func TestChangeRole(t *testing.T) {
	at := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	const owner, admin, alice = "owner@example.org", "admin@example.org", "alice@example.org"
	g := domain.NewGroup(domain.DefaultLimits())
	g.Apply(domain.GroupCreated{GroupID: "g", Name: "G", Type: domain.TypeCustomized, By: owner, At: at, Members: []domain.Member{
		{JID: owner, MID: "owner", Nick: "owner", Role: domain.RoleOwner}, {JID: admin, MID: "admin", Nick: "Admin", Role: domain.RoleAdmin},
		{JID: alice, MID: "alice", Nick: "Alice", Role: domain.RoleMember}}})
	tests := []struct {
		name string
		cmd  domain.ChangeRole
		want domain.Member
		kind domain.Kind
	}{
		{"the owner makes a member an admin", domain.ChangeRole{By: owner, JID: alice, Role: domain.RoleAdmin},
			domain.Member{JID: alice, MID: "alice", Nick: "Alice", Role: domain.RoleAdmin}, 0},
		{"the owner makes an admin a member", domain.ChangeRole{By: owner, JID: admin, Role: domain.RoleMember},
			domain.Member{JID: admin, MID: "admin", Nick: "Admin", Role: domain.RoleMember}, 0},
		{"an admin may not", domain.ChangeRole{By: admin, JID: alice, Role: domain.RoleAdmin}, domain.Member{}, domain.KindNotAllowed},
		{"a member may not", domain.ChangeRole{By: alice, JID: alice, Role: domain.RoleAdmin}, domain.Member{}, domain.KindNotAllowed},
		{"not to owner", domain.ChangeRole{By: owner, JID: alice, Role: domain.RoleOwner}, domain.Member{}, domain.KindNotAllowed},
		{"not the owner's", domain.ChangeRole{By: owner, JID: owner, Role: domain.RoleAdmin}, domain.Member{}, domain.KindNotAllowed},
		{"a role it has", domain.ChangeRole{By: owner, JID: admin, Role: domain.RoleAdmin}, domain.Member{}, domain.KindConflict},
		{"an unknown role", domain.ChangeRole{By: owner, JID: alice, Role: "witch"}, domain.Member{}, domain.KindBadRequest},
		{"not a member", domain.ChangeRole{By: owner, JID: "eve@example.org", Role: domain.RoleAdmin}, domain.Member{}, domain.KindNotFound},
		{"by a non-member", domain.ChangeRole{By: "eve@example.org", JID: alice, Role: domain.RoleAdmin}, domain.Member{}, domain.KindNotMember},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := domain.Decide(g, &tt.cmd, at, domain.DefaultLimits())
			if tt.kind != 0 {
				if domain.KindOf(err) != tt.kind {
					t.Fatalf("got %v, want a refusal of kind %v", err, tt.kind)
				}
				return
			}
			want := domain.MemberRoleChanged{Member: tt.want, By: owner, At: at}
			if err != nil || len(dec.Events) != 1 || !reflect.DeepEqual(dec.Events[0], want) {
				t.Fatalf("got %+v, %v, want %+v", dec.Events, err, want)
			}
			after := domain.Evolve(cloneOf(t, g), dec.Events[0])
			if m, _ := after.Member(tt.cmd.JID); m != tt.want {
				t.Errorf("after the change the member is %+v, want %+v", m, tt.want)
			}
			if o, _ := after.Owner(); o.JID != owner {
				t.Errorf("the owner is still %s, got %+v", owner, o)
			}
		})
	}
}

// cloneOf folds g's events again: the cases each change a group of their
// own.
func cloneOf(t *testing.T, g *domain.Group) *domain.Group {
	t.Helper()
	c := domain.NewGroup(domain.DefaultLimits())
	c.Apply(domain.GroupCreated{GroupID: g.ID(), Name: g.Name(), Type: g.Type(), Members: g.Members()})
	return c
}
