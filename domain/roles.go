package domain

import "time"

// TypeMemberRoleChanged is the stored name of MemberRoleChanged.
const TypeMemberRoleChanged = "MemberRoleChanged"

// ChangeRole makes a member an admin, or an admin a plain member. Only the
// owner does; ownership itself moves with UpdateGroup's NewOwner.
type ChangeRole struct {
	By   string
	JID  string
	Role Role
}

func (c ChangeRole) requester() string { return c.By }

// MemberRoleChanged: the owner made a member an admin, or an admin a
// member. Member is the member as it is afterwards, its new role included.
type MemberRoleChanged struct {
	Member Member    `json:"member"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// EventType implements Event.
func (MemberRoleChanged) EventType() string { return TypeMemberRoleChanged }

// OccurredAt implements Event.
func (e MemberRoleChanged) OccurredAt() time.Time { return e.At }

func decideRole(g *Group, me Member, c ChangeRole, at time.Time) (Event, error) {
	if me.Role != RoleOwner {
		return nil, refuse(KindNotAllowed, "only the owner changes a member's role")
	}
	switch c.Role {
	case RoleAdmin, RoleMember:
	case RoleOwner:
		return nil, refuse(KindNotAllowed, "a group has one owner; hand ownership over with updategroup")
	default:
		return nil, refuse(KindBadRequest, "invalid role %q", c.Role)
	}
	m, ok := g.Member(c.JID)
	switch {
	case !ok:
		return nil, refuse(KindNotFound, "%s is not a member", c.JID)
	case m.Role == RoleOwner:
		return nil, refuse(KindNotAllowed, "the owner's role changes only when it hands ownership over")
	case m.Role == c.Role:
		return nil, refuse(KindConflict, "%s is %s already", c.JID, c.Role)
	}
	m.Role = c.Role
	return MemberRoleChanged{Member: m, By: me.JID, At: at}, nil
}
