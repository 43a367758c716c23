package domain

import (
	"testing"
	"time"
)

// TestAccessRules: the refusals of requests that change nothing, with the
// kinds the status-code table maps (not found: item-not-found; not a
// member: forbidden; not allowed: not-allowed).
func TestAccessRules(t *testing.T) {
	lim := DefaultLimits()
	g := NewGroup(lim)
	dec, err := Decide(g, CreateGroup{GroupID: "coven", Name: "Coven", Type: TypeCustomized,
		Creator: Member{JID: "alice@example.test"}, Members: []Member{{JID: "bob@example.test"}}}, time.Unix(0, 0), lim)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range dec.Events {
		g.Apply(e)
	}
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"a member", second(RequireMember(g, "bob@example.test", Write)), 0},
		{"no such group", second(RequireMember(NewGroup(lim), "bob@example.test", Write)), KindNotFound},
		{"not a member", second(RequireMember(g, "eve@example.test", SeeMembers)), KindNotMember},
		{"history of a past member", RequireHistoryAccess(true, false, true), 0},
		{"history of a deleted group", RequireHistoryAccess(true, true, true), KindNotFound},
		{"history of a stranger", RequireHistoryAccess(true, false, false), KindNotMember},
		{"notices of a member", RequireLiveGroupMember(true, false, true), 0},
		{"notices of a stranger", RequireLiveGroupMember(true, false, false), KindNotMember},
		{"notices of no group", RequireLiveGroupMember(false, false, false), KindNotFound},
		{"readers by the sender", RequireSender(MessageRef{Sender: "bob@example.test"}, "bob@example.test"), 0},
		{"readers by another", RequireSender(MessageRef{Sender: "bob@example.test"}, "alice@example.test"), KindNotAllowed},
		{"a system group by an administrator", RequireSystemAdmin(true), 0},
		{"a system group by a user", RequireSystemAdmin(false), KindNotAllowed},
	}
	for _, tt := range tests {
		if got := KindOf(tt.err); got != tt.want {
			t.Errorf("%s: kind %v (%v), want %v", tt.name, got, tt.err, tt.want)
		}
	}
	if _, err := RequireMember(g, "eve@example.test", SeeMembers); err.(*Error).Text != "only members may see the group's members" {
		t.Errorf("refusal text: %v", err)
	}
	if _, err := RequireMember(g, "eve@example.test", ""); err.(*Error).Text != "eve@example.test is not a member of the group" {
		t.Errorf("refusal text: %v", err)
	}
}

func second(_ Member, err error) error { return err }
