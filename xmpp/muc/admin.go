package muc

import (
	"strings"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// A room's administration (XEP-0045 §9, §10) is the group's management
// seen through MUC: affiliations are roles (owner, admin, member), an
// affiliation set adds, removes or hands ownership over, the room's name is
// the group's name, destroying the room deletes the group. This file turns
// those requests into the domain's commands, refusing first what XEP-0045
// refuses by privilege (forbidden) so that the domain's own refusals keep
// their meaning (not-allowed: a target at or above the requester's level).

// Plan is what a room request asks of its group: the commands, decided
// together on the group as it is (all or none are stored), and the users
// the room invites once they are stored, as members new to the group.
type Plan struct {
	Commands []domain.Command
	Invite   []protocol.Invitation
}

// errForbidden is XEP-0045's refusal of a requester without the
// privilege: an occupant who is not an admin (§9), not an owner (§10).
func errForbidden(text string) error { return protocol.ErrForbidden.With(text) }

// Affiliation is how a member's role shows as a MUC affiliation.
func Affiliation(r domain.Role) string {
	return protocol.RoomItemOf(domain.Member{Role: r}).Affiliation
}

// Affiliations lists the members with one affiliation, or one role
// (XEP-0045 §9.5, §10.3–10.7), for any member: the rooms are
// non-anonymous, so members see who the others are (§9.5's note). No one
// is an outcast: the service keeps no ban list. Members are occupants
// whether online or not, so every item has its nick and role.
func Affiliations(g *domain.Group, by string, r protocol.AffiliationList) ([]protocol.AdminListItem, error) {
	if _, err := domain.RequireMember(g, by, domain.SeeMembers); err != nil {
		return nil, err
	}
	out := []protocol.AdminListItem{}
	for _, m := range g.Members() {
		it := protocol.RoomItemOf(m)
		if (r.Affiliation != "" && it.Affiliation == r.Affiliation) || (r.Role != "" && it.Role == r.Role) {
			out = append(out, protocol.AdminListItem{Affiliation: it.Affiliation, JID: m.JID, Nick: m.MID, Role: it.Role})
		}
	}
	return out, nil
}

// AdminPlan turns an IQ set in muc#admin into the group's commands:
// member or admin for a newcomer adds it (with the item's nick as its
// member id), none removes, admin or member for a member changes its role,
// owner hands ownership over. What the groups do not model is refused,
// never ignored: bans (no ban list), and roles, which follow affiliations
// here.
func AdminPlan(g *domain.Group, by string, items []protocol.AdminItem) (Plan, error) {
	me, err := domain.RequireMember(g, by, "")
	if err != nil {
		return Plan{}, err
	}
	remove := domain.RemoveMembers{By: by}
	add := domain.AddMembers{By: by}
	var roles []domain.Command
	var newOwner string
	seen := map[string]bool{}
	for _, it := range items {
		if it.Role != "" {
			if me.Role == domain.RoleMember {
				return Plan{}, errForbidden("only moderators change roles")
			}
			return Plan{}, protocol.ErrNotAllowed.With("in a group's room roles follow affiliations (the owner and admins moderate, members participate); change the affiliation instead")
		}
		if seen[it.JID] {
			return Plan{}, protocol.ErrBadRequest.With(it.JID + " is listed twice")
		}
		seen[it.JID] = true
		target, isMember := g.Member(it.JID)
		self := it.JID == me.JID
		switch it.Affiliation {
		case "owner":
			if me.Role != domain.RoleOwner {
				return Plan{}, errForbidden("only the owner grants ownership")
			}
			switch {
			case self:
			case !isMember:
				return Plan{}, protocol.ErrNotExists.With(it.JID + " is not a member: the owner is one of the group's members; add it first")
			case newOwner != "":
				return Plan{}, protocol.ErrNotAllowed.With("a group has one owner")
			default:
				newOwner = it.JID
			}
		case "admin", "member":
			if it.Affiliation == "admin" && me.Role != domain.RoleOwner {
				return Plan{}, errForbidden("only the owner grants admin status")
			}
			if me.Role == domain.RoleMember {
				return Plan{}, errForbidden("only the owner and admins change the member list")
			}
			switch {
			case !isMember:
				m := domain.Member{JID: it.JID, Role: domain.RoleMember}
				if it.Affiliation == "admin" {
					m.Role = domain.RoleAdmin
				}
				if it.Nick != "" {
					mid, ok := protocol.NickMID(it.Nick)
					if !ok {
						return Plan{}, protocol.ErrJIDMalformed.With("the nick cannot be a member id")
					}
					m.MID = mid
				}
				add.Members = append(add.Members, m)
			case Affiliation(target.Role) == it.Affiliation:
				// Already so: nothing changes.
			case target.Role == domain.RoleOwner && !self:
				// §9.1, §8.2: not on an affiliation above one's own.
				return Plan{}, protocol.ErrNotAllowed.With("the owner's affiliation changes only when it hands ownership over")
			case target.Role == domain.RoleOwner:
				// §10.2: the only owner may not give up ownership.
				return Plan{}, protocol.ErrConflict.With("the owner stays owner until it hands ownership over (affiliation owner for another member)")
			case it.Affiliation == "member" && me.Role != domain.RoleOwner:
				return Plan{}, errForbidden("only the owner revokes admin status")
			default:
				// §10.6, §10.7: the owner grants or revokes admin status.
				roles = append(roles, domain.ChangeRole{By: by, JID: it.JID, Role: domain.Role(it.Affiliation)})
			}
		case "none":
			switch {
			case !isMember:
				// Not affiliated already: nothing changes.
			case self && me.Role == domain.RoleOwner:
				return Plan{}, protocol.ErrConflict.With("the owner cannot leave; hand ownership over or destroy the room")
			case !self && me.Role == domain.RoleMember:
				return Plan{}, errForbidden("only the owner and admins change the member list")
			default:
				remove.Members = append(remove.Members, domain.MemberSelector{JID: it.JID})
			}
		case "outcast":
			if me.Role == domain.RoleMember {
				return Plan{}, errForbidden("only the owner and admins ban")
			}
			return Plan{}, protocol.ErrNotImplemented.With("the service keeps no ban list; set the affiliation to none: only members enter a group's room")
		}
	}
	var p Plan
	if len(remove.Members) > 0 {
		p.Commands = append(p.Commands, remove)
	}
	if len(add.Members) > 0 {
		p.Commands = append(p.Commands, add)
		for _, m := range add.Members {
			p.Invite = append(p.Invite, protocol.Invitation{JID: m.JID})
		}
	}
	p.Commands = append(p.Commands, roles...)
	if newOwner != "" {
		// Last: the additions and role changes were judged with the
		// requester as owner.
		p.Commands = append(p.Commands, domain.UpdateGroup{By: by, NewOwner: newOwner})
	}
	return p, nil
}

// InvitePlan turns a mediated invitation (XEP-0045 §7.8.2) into the
// addition of the invitees who are not members yet: in a members-only
// room only admins invite (forbidden for others), and an invitation adds
// to the member list. A member invited again is invited, not added.
func InvitePlan(g *domain.Group, by string, invites []protocol.Invitation) (Plan, error) {
	me, err := domain.RequireMember(g, by, "")
	if err != nil {
		return Plan{}, err
	}
	if me.Role == domain.RoleMember {
		return Plan{}, errForbidden("only the owner and admins invite: an invitation makes a member")
	}
	add := domain.AddMembers{By: by}
	seen := map[string]bool{}
	var p Plan
	for _, inv := range invites {
		if seen[inv.JID] {
			continue
		}
		seen[inv.JID] = true
		p.Invite = append(p.Invite, inv)
		if _, ok := g.Member(inv.JID); !ok {
			add.Members = append(add.Members, domain.Member{JID: inv.JID, Role: domain.RoleMember})
		}
	}
	if len(add.Members) > 0 {
		p.Commands = append(p.Commands, add)
	}
	return p, nil
}

// requireOwner lets the owner through; others are refused as XEP-0045
// §10 refuses a non-owner.
func requireOwner(g *domain.Group, by, what string) error {
	me, err := domain.RequireMember(g, by, "")
	if err != nil {
		return err
	}
	if me.Role != domain.RoleOwner {
		return errForbidden("only the owner " + what)
	}
	return nil
}

// ConfigForm is the owner's configuration form of a group's room.
func ConfigForm(g *domain.Group, by string) ([]byte, error) {
	if err := requireOwner(g, by, "configures the room"); err != nil {
		return nil, err
	}
	return protocol.RoomConfigFormResult(g.ID(), g.Name()), nil
}

// ConfigPlan turns a submitted configuration form into a rename, the one
// setting a group's owner changes through it. An empty form accepts the
// room as it is (§10.1.2's instant room), a cancelled one changes nothing
// (§10.2), and a form that changes a fixed setting of the groups
// (members-only, persistent, …) is not-acceptable (§10.1.3).
func ConfigPlan(g *domain.Group, by string, r protocol.RoomConfigSubmit) (Plan, error) {
	if err := requireOwner(g, by, "configures the room"); err != nil {
		return Plan{}, err
	}
	if r.Cancel {
		return Plan{}, nil
	}
	if f := r.ChangedFact(); f != "" {
		return Plan{}, protocol.ErrNotAcceptable.With(f + " is the same for every group and cannot be changed")
	}
	name, ok := r.RoomName()
	if !ok || name == "" || name == g.Name() {
		return Plan{}, nil
	}
	return Plan{Commands: []domain.Command{domain.UpdateGroup{By: by, Name: name}}}, nil
}

// SubjectPlan turns a subject change (XEP-0045 §8.1) into a rename: the
// subject is the group's name, which the owner and admins change (others:
// forbidden, as §8.1 answers an occupant without the privilege).
func SubjectPlan(g *domain.Group, by, subject string) (Plan, error) {
	me, err := domain.RequireMember(g, by, "")
	if err != nil {
		return Plan{}, err
	}
	if me.Role == domain.RoleMember {
		return Plan{}, errForbidden("only the owner and admins change the subject: it is the group's name")
	}
	if subject == g.Name() {
		return Plan{}, nil
	}
	return Plan{Commands: []domain.Command{domain.UpdateGroup{By: by, Name: subject}}}, nil
}

// DestroyPlan turns a room's destruction (§10.9) into the group's
// deletion, the owner's alone, with its reason and alternate venue for
// the occupants.
func DestroyPlan(g *domain.Group, by string, r protocol.RoomDestroy) (Plan, error) {
	if err := requireOwner(g, by, "destroys the room"); err != nil {
		return Plan{}, err
	}
	return Plan{Commands: []domain.Command{domain.DeleteGroup{By: by, Reason: r.Reason, Venue: r.AltVenue}}}, nil
}

// Creation is the group that entering a room that does not exist makes
// (§10.1: an instant room, owned by who entered): its id is the room's,
// its name too until the owner renames it, and the creator's member id is
// the nick asked for, or, when that cannot be one, the one the domain
// assigns from the user's JID.
func Creation(group, jid, nick string) domain.CreateGroup {
	c := domain.CreateGroup{GroupID: group, Name: group, Type: domain.TypeCustomized, Creator: domain.Member{JID: jid}}
	if mid, ok := protocol.NickMID(nick); ok {
		c.Creator.MID = mid
	} else if local, _, found := strings.Cut(jid, "@"); found {
		if mid, ok := protocol.NickMID(local); ok {
			c.Creator.MID = mid
		}
	}
	return c
}
