package domain

import (
	"time"
	"unicode/utf8"
)

// Decision is what Decide concluded: events to append, or, for a resent
// message, the original it duplicates (and no events).
type Decision struct {
	Events    []Event
	Duplicate *MessageRef
}

// Decide applies the rules of the group to a command and returns the events
// it yields. It never changes g. cmd may be a command or a pointer to one.
func Decide(g *Group, cmd Command, at time.Time, lim Limits) (Decision, error) {
	if g == nil {
		g = &Group{}
	}
	at = at.UTC()
	cmd = commandValue(cmd)
	if cmd == nil {
		return Decision{}, refuse(KindBadRequest, "no command")
	}
	if c, ok := cmd.(CreateGroup); ok {
		return one(decideCreate(g, c, at, lim))
	}
	if !g.Exists() {
		return Decision{}, refuse(KindNotFound, "group does not exist")
	}
	me, isMember := g.Member(cmd.requester())
	if !isMember {
		return Decision{}, refuse(KindNotMember, "%s is not a member of the group", cmd.requester())
	}
	switch c := cmd.(type) {
	case UpdateGroup:
		return one(decideUpdate(g, me, c, at, lim))
	case DeleteGroup:
		if me.Role != RoleOwner {
			return Decision{}, refuse(KindNotAllowed, "only the owner may delete the group")
		}
		if lim.MaxBodyBytes > 0 && len(c.Reason) > lim.MaxBodyBytes {
			return Decision{}, refuse(KindLimit, "the reason is larger than %d bytes", lim.MaxBodyBytes)
		}
		return one(GroupDeleted{Members: g.Members(), By: me.JID, At: at, Reason: c.Reason, Venue: c.Venue}, nil)
	case AddMembers:
		return one(decideAdd(g, me, c, at, lim))
	case RemoveMembers:
		return one(decideRemove(g, me, c, at))
	case PostMessage:
		return decidePost(g, me, c, at, lim)
	case MarkRead:
		return one(decideRead(g, me, c, at))
	case RetractMessage:
		return one(decideRetract(g, me, c, at, lim))
	case ChangeRole:
		return one(decideRole(g, me, c, at))
	}
	return Decision{}, refuse(KindBadRequest, "unknown command %T", cmd)
}

// commandValue turns a pointer to a command into the command, so that callers
// may pass either; a nil pointer yields nil.
func commandValue(cmd Command) Command {
	switch c := cmd.(type) {
	case *CreateGroup:
		return deref(c)
	case *UpdateGroup:
		return deref(c)
	case *DeleteGroup:
		return deref(c)
	case *AddMembers:
		return deref(c)
	case *RemoveMembers:
		return deref(c)
	case *PostMessage:
		return deref(c)
	case *MarkRead:
		return deref(c)
	case *RetractMessage:
		return deref(c)
	case *ChangeRole:
		return deref(c)
	}
	return cmd
}

func deref[T Command](p *T) Command {
	if p == nil {
		return nil
	}
	return *p
}

func one(e Event, err error) (Decision, error) {
	if err != nil {
		return Decision{}, err
	}
	return Decision{Events: []Event{e}}, nil
}

func checkName(name string, lim Limits) error {
	ok, tooLong := validText(name, lim.MaxNameChars)
	if !ok {
		return refuse(KindBadRequest, "the group name is missing or invalid")
	}
	if tooLong {
		return refuse(KindLimit, "the group name is longer than %d characters", lim.MaxNameChars)
	}
	return nil
}

// tooLong reports whether s has more than max characters (max > 0).
func tooLong(s string, max int) bool {
	return max > 0 && utf8.RuneCountInString(s) > max
}

func decideCreate(g *Group, c CreateGroup, at time.Time, lim Limits) (Event, error) {
	if !ValidGroupID(c.GroupID) {
		return nil, refuse(KindBadRequest, "invalid group id %q", c.GroupID)
	}
	if g.Created() {
		return nil, refuse(KindConflict, "group id %q is taken", c.GroupID)
	}
	if err := checkName(c.Name, lim); err != nil {
		return nil, err
	}
	typ := c.Type
	if typ == "" {
		typ = TypeCustomized
	}
	if typ != TypeCustomized && typ != TypeSystem {
		return nil, refuse(KindBadRequest, "invalid group type %q", typ)
	}
	owner := c.Creator
	owner.Role = RoleOwner
	var rest []Member
	for _, m := range c.Members {
		if m.JID == owner.JID {
			// The creator listed itself: take its mid and nick, keep it owner.
			if owner.MID == "" {
				owner.MID = m.MID
			}
			if owner.Nick == "" {
				owner.Nick = m.Nick
			}
			continue
		}
		rest = append(rest, m)
	}
	all := append([]Member{owner}, rest...)
	members, err := g.admit(all, RoleOwner, lim, true)
	if err != nil {
		return nil, err
	}
	return GroupCreated{GroupID: c.GroupID, Name: c.Name, Type: typ, Members: members, By: owner.JID, At: at}, nil
}

// admit validates members to be added, stores their mids and nicks in normal
// form (NormalizeMID, NormalizeNick) and fills in defaults. first is true at
// creation, where the first member is the owner.
func (g *Group) admit(in []Member, requesterRole Role, lim Limits, first bool) ([]Member, error) {
	if len(in) == 0 {
		return nil, refuse(KindBadRequest, "no member named")
	}
	if lim.MaxMembers > 0 && len(g.members)+len(in) > lim.MaxMembers {
		return nil, refuse(KindLimit, "a group has at most %d members", lim.MaxMembers)
	}
	seenJID := make(map[string]bool, len(in))
	seenMID := make(map[string]bool, len(in))
	out := make([]Member, 0, len(in))
	for i, m := range in {
		if m.JID == "" {
			return nil, refuse(KindBadRequest, "a member has no jid")
		}
		if seenJID[m.JID] {
			return nil, refuse(KindBadRequest, "%s is listed twice", m.JID)
		}
		// The role is judged before membership, so that the seed's
		// example (the owner adding itself as owner) is refused for the
		// role, as the seed's error example for it says.
		switch {
		case first && i == 0:
			m.Role = RoleOwner
		case m.Role == "":
			m.Role = RoleMember
		case m.Role == RoleOwner:
			return nil, refuse(KindNotAllowed, "a group has one owner; hand ownership over with updategroup")
		case m.Role == RoleAdmin:
			if requesterRole != RoleOwner {
				return nil, refuse(KindNotAllowed, "only the owner may add admins")
			}
		case m.Role != RoleMember:
			return nil, refuse(KindBadRequest, "invalid role %q", m.Role)
		}
		if _, ok := g.byJID[m.JID]; ok {
			return nil, refuse(KindConflict, "%s is already a member", m.JID)
		}
		seenJID[m.JID] = true
		if m.MID != "" {
			mid, err := NormalizeMID(m.MID)
			if err != nil {
				return nil, err
			}
			if tooLong(mid, lim.MaxMIDChars) {
				return nil, refuse(KindLimit, "a mid has at most %d characters", lim.MaxMIDChars)
			}
			// seenMID holds normal forms, and midTaken compares in them, so
			// mids a server would take for one another conflict.
			if seenMID[mid] || g.midTaken(mid) {
				if mid != m.MID {
					return nil, refuse(KindConflict, "mid %q is taken (it is %q in normal form)", m.MID, mid)
				}
				return nil, refuse(KindConflict, "mid %q is taken", mid)
			}
			seenMID[mid] = true
			m.MID = mid
		}
		if m.Nick != "" {
			nick, err := NormalizeNick(m.Nick)
			if err != nil {
				return nil, err
			}
			if tooLong(nick, lim.MaxNickChars) {
				return nil, refuse(KindLimit, "a nick has at most %d characters", lim.MaxNickChars)
			}
			m.Nick = nick
		}
		out = append(out, m)
	}
	// Assign mids after every given one is known, so an assigned mid never
	// takes one that a later item asked for.
	for i := range out {
		if out[i].MID == "" {
			out[i].MID = g.assignMID(out[i].JID, seenMID, lim.MaxMIDChars)
			seenMID[out[i].MID] = true
		}
		if out[i].Nick == "" {
			out[i].Nick = out[i].MID
		}
	}
	return out, nil
}

func decideUpdate(g *Group, me Member, c UpdateGroup, at time.Time, lim Limits) (Event, error) {
	if me.Role != RoleOwner && me.Role != RoleAdmin {
		return nil, refuse(KindNotAllowed, "only the owner or an admin may update the group")
	}
	if c.Name == "" && c.NewOwner == "" {
		return nil, refuse(KindBadRequest, "nothing to update")
	}
	if c.Name != "" {
		if err := checkName(c.Name, lim); err != nil {
			return nil, err
		}
	}
	if c.NewOwner != "" {
		if me.Role != RoleOwner {
			return nil, refuse(KindNotAllowed, "only the owner may hand ownership over")
		}
		if _, ok := g.Member(c.NewOwner); !ok {
			return nil, refuse(KindNotFound, "%s is not a member", c.NewOwner)
		}
		if c.NewOwner == me.JID {
			c.NewOwner = ""
			if c.Name == "" {
				return nil, refuse(KindBadRequest, "%s already owns the group", me.JID)
			}
		}
	}
	return GroupUpdated{Name: c.Name, NewOwner: c.NewOwner, By: me.JID, At: at}, nil
}

func decideAdd(g *Group, me Member, c AddMembers, at time.Time, lim Limits) (Event, error) {
	if me.Role != RoleOwner && me.Role != RoleAdmin {
		return nil, refuse(KindNotAllowed, "only the owner or an admin may add members")
	}
	members, err := g.admit(c.Members, me.Role, lim, false)
	if err != nil {
		return nil, err
	}
	return MemberAdded{Members: members, By: me.JID, At: at}, nil
}

func decideRemove(g *Group, me Member, c RemoveMembers, at time.Time) (Event, error) {
	if len(c.Members) == 0 {
		return nil, refuse(KindBadRequest, "no member named")
	}
	seen := make(map[string]bool, len(c.Members))
	var out []Member
	for _, sel := range c.Members {
		var m Member
		var ok bool
		switch {
		case sel.JID != "":
			m, ok = g.Member(sel.JID)
		case sel.MID != "":
			m, ok = g.MemberByMID(sel.MID)
		case sel.Nick != "":
			m, ok = g.MemberByNick(sel.Nick)
		default:
			return nil, refuse(KindBadRequest, "an item names no member")
		}
		if !ok {
			return nil, refuse(KindNotFound, "no such member")
		}
		if seen[m.JID] {
			continue
		}
		seen[m.JID] = true
		switch {
		case m.Role == RoleOwner:
			return nil, refuse(KindNotAllowed, "the owner cannot be removed; hand ownership over or delete the group")
		case m.JID == me.JID:
			// Leaving is always allowed.
		case me.Role == RoleOwner:
		case me.Role == RoleAdmin && m.Role == RoleMember:
		default:
			return nil, refuse(KindNotAllowed, "%s may not remove %s", me.Role, m.JID)
		}
		out = append(out, m)
	}
	return MemberRemoved{Members: out, By: me.JID, At: at}, nil
}

func decidePost(g *Group, me Member, c PostMessage, at time.Time, lim Limits) (Decision, error) {
	if key := dedupID(c.OriginID, c.ID); key != "" {
		if ref, ok := g.Recent(me.JID, key); ok {
			return Decision{Duplicate: &ref}, nil
		}
		if c.Resent != nil && c.Resent.Sender == me.JID {
			ref := *c.Resent
			return Decision{Duplicate: &ref}, nil
		}
	}
	if c.Body == "" && c.Payload == "" {
		return Decision{}, refuse(KindBadRequest, "the message is empty")
	}
	if lim.MaxBodyBytes > 0 && len(c.Body) > lim.MaxBodyBytes {
		return Decision{}, refuse(KindLimit, "the body is larger than %d bytes", lim.MaxBodyBytes)
	}
	if lim.MaxPayloadBytes > 0 && len(c.Payload) > lim.MaxPayloadBytes {
		return Decision{}, refuse(KindLimit, "the message's extensions are larger than %d bytes", lim.MaxPayloadBytes)
	}
	var mentions []string
	seen := map[string]bool{}
	mention := func(m Member, ok bool) {
		if ok && !seen[m.JID] {
			seen[m.JID] = true
			mentions = append(mentions, m.JID)
		}
	}
	for _, j := range c.Mentions {
		mention(g.Member(j))
	}
	for _, mid := range c.MentionMIDs {
		mention(g.MemberByMID(mid))
	}
	return Decision{Events: []Event{MessagePosted{
		ID: c.ID, OriginID: c.OriginID, Sender: me.JID, MID: me.MID, Body: c.Body, Payload: c.Payload, Mentions: mentions, At: at, Kind: c.Kind,
	}}}, nil
}

func decideRead(g *Group, me Member, c MarkRead, at time.Time) (Event, error) {
	e := MessageRead{Reader: me.JID, MID: me.MID, At: at}
	if c.Message == nil {
		if g.version == 0 {
			return nil, refuse(KindBadRequest, "nothing to read")
		}
		e.Upto = g.version - 1
		return e, nil
	}
	if c.Message.Version >= g.version {
		return nil, refuse(KindNotFound, "no such message")
	}
	ref := *c.Message
	e.Message = &ref
	e.Upto = ref.Version
	return e, nil
}
