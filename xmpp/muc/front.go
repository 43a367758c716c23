package muc

import (
	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// Entry is what a member entering a group's room receives, in XEP-0045
// §7.2's order: every other member's presence (members are occupants
// whether or not they are online: membership, not presence, makes one),
// then its own, with status 110 and 100 (the room is non-anonymous), and
// 210 when it asked for another nick than its member id, which is its
// nick in every group's room, and 201 when its entry created the group
// (§10.1.1). Each is addressed by the caller.
func Entry(addr protocol.Addresses, g *domain.Group, me domain.Member, askedNick string, created bool) []protocol.Outbound {
	group := g.ID()
	members := g.Members()
	out := make([]protocol.Outbound, 0, len(members))
	for _, m := range members {
		if m.JID == me.JID {
			continue
		}
		out = append(out, protocol.OccupantPresence(addr.Occupant(group, m.MID), protocol.RoomItemOf(m), false))
	}
	codes := []int{protocol.StatusNonAnonymous, protocol.StatusSelf}
	if askedNick != me.MID {
		codes = append(codes, protocol.StatusNickAssigned)
	}
	if created {
		codes = append(codes, protocol.StatusCreated)
	}
	return append(out, protocol.OccupantPresence(addr.Occupant(group, me.MID), protocol.RoomItemOf(me), false, codes...))
}

// Exit is the presence that confirms a member's exit from a room
// (XEP-0045 §7.14): its own, unavailable, with status 110.
func Exit(addr protocol.Addresses, group string, me domain.Member) protocol.Outbound {
	it := protocol.RoomItemOf(me)
	it.Role = "none"
	return protocol.OccupantPresence(addr.Occupant(group, me.MID), it, true, protocol.StatusSelf)
}

// Change is what an occupant (of member to) sees of a group change,
// beside the native broadcast: members added come in, members removed go
// out with status 321 (110 for the one removed), a new name is the new
// subject and a configuration change (104), a new owner changes two
// affiliations, a new role one, and a deleted group destroys the room (XEP-0045 §10.9).
// Events that are not changes give nothing.
func Change(addr protocol.Addresses, group string, e domain.Event, g *domain.Group, to domain.Member) []protocol.Outbound {
	var out []protocol.Outbound
	switch e := e.(type) {
	case domain.MemberAdded:
		for _, m := range e.Members {
			out = append(out, protocol.OccupantPresence(addr.Occupant(group, m.MID), protocol.RoomItemOf(m), false))
		}
	case domain.MemberRemoved:
		for _, m := range e.Members {
			codes := []int{protocol.StatusAffiliation}
			if m.JID == to.JID {
				codes = append(codes, protocol.StatusSelf)
			}
			out = append(out, protocol.OccupantPresence(addr.Occupant(group, m.MID), protocol.RoomItem{Affiliation: "none", Role: "none", JID: m.JID}, true, codes...))
		}
	case domain.MemberRoleChanged:
		out = append(out, protocol.OccupantPresence(addr.Occupant(group, e.Member.MID), protocol.RoomItemOf(e.Member), false))
	case domain.GroupUpdated:
		if e.Name != "" {
			out = append(out, protocol.RoomSubject(addr.Group(group), e.Name), protocol.RoomConfigChanged(addr.Group(group)))
		}
		if e.NewOwner != "" {
			// g is the group after the change: both affected members
			// show their new affiliations.
			for _, m := range g.Members() {
				if m.JID == e.NewOwner || m.JID == e.By {
					out = append(out, protocol.OccupantPresence(addr.Occupant(group, m.MID), protocol.RoomItemOf(m), false))
				}
			}
		}
	case domain.GroupDeleted:
		out = append(out, protocol.RoomDestroyed(addr.Occupant(group, to.MID), to.JID, e.Reason, e.Venue))
	}
	return out
}
