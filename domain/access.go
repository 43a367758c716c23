package domain

// The access rules of requests that change nothing (queries, live-only
// signals, history): who may ask what. Commands are judged by Decide; these
// are the same rules for the requests that are answered without an event.

// Activity names what only members may do, for the refusal's text.
type Activity string

// The activities reserved to members.
const (
	SeeMembers    Activity = "see the group's members"
	Write         Activity = "write to the group"
	ReadHistory   Activity = "read the group's history"
	ChooseNotices Activity = "choose how a group notifies them"
)

// RequireMember returns jid's membership of g, or why it may not act: the
// group does not exist (KindNotFound), or jid is not a member
// (KindNotMember). A zero activity names the requester in the refusal.
func RequireMember(g *Group, jid string, what Activity) (Member, error) {
	if !g.Exists() {
		return Member{}, refuse(KindNotFound, "the group does not exist")
	}
	m, ok := g.Member(jid)
	if !ok {
		if what == "" {
			return Member{}, refuse(KindNotMember, "%s is not a member of the group", jid)
		}
		return Member{}, refuse(KindNotMember, "only members may %s", what)
	}
	return m, nil
}

// RequireHistoryAccess allows a group's history to those who are or were
// members. A deleted group is gone for queries (KindNotFound); its history
// stays in the log for audit.
func RequireHistoryAccess(exists, deleted, wasMember bool) error {
	if !exists || deleted {
		return refuse(KindNotFound, "the group does not exist")
	}
	if !wasMember {
		return refuse(KindNotMember, "only members may %s", ReadHistory)
	}
	return nil
}

// RequireLiveGroupMember is the rule for a member's own settings of a
// group (push levels): the group exists and is not deleted, and the user is
// a current member.
func RequireLiveGroupMember(exists, deleted, member bool) error {
	if !exists || deleted {
		return refuse(KindNotFound, "no such group")
	}
	if !member {
		return refuse(KindNotMember, "only members may %s", ChooseNotices)
	}
	return nil
}

// RequireSender allows only a message's sender to ask who read it.
func RequireSender(m MessageRef, asker string) error {
	if m.Sender != asker {
		return refuse(KindNotAllowed, "only the sender of a message may ask who read it")
	}
	return nil
}

// RequireSystemAdmin allows system groups to the service's administrators.
func RequireSystemAdmin(isAdmin bool) error {
	if !isAdmin {
		return refuse(KindNotAllowed, "only service administrators create system groups")
	}
	return nil
}
