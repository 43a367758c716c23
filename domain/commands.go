package domain

// Command is a request to change a group. Every command names its requester
// by bare JID.
type Command interface{ requester() string }

// CreateGroup makes a new group. The creator becomes its owner; Members may
// name others to add at once (role member or admin; an empty role means
// member, an empty mid is assigned).
type CreateGroup struct {
	GroupID string
	Name    string
	Type    GroupType
	Creator Member
	Members []Member
}

// UpdateGroup renames the group and/or hands ownership to another member.
type UpdateGroup struct {
	By       string
	Name     string
	NewOwner string
}

// DeleteGroup deletes the group. Reason and Venue (a group's or another
// room's JID to go to instead) are what a room's destruction may tell its
// occupants (XEP-0045 §10.9); both are optional.
type DeleteGroup struct {
	By            string
	Reason, Venue string
}

// AddMembers adds one or more members.
type AddMembers struct {
	By      string
	Members []Member
}

// MemberSelector names a member by bare JID, mid or nick (the first one set).
// Mids and nicks are compared in normal form (see Group.MemberByMID).
type MemberSelector struct {
	JID, MID, Nick string
}

// RemoveMembers removes members; a member may remove itself (leave).
type RemoveMembers struct {
	By      string
	Members []MemberSelector
}

// PostMessage posts a message. ID is the sender's stanza id, OriginID its
// XEP-0359 origin-id; the origin-id (or else the id) recognises a resend.
// Mentions name mentioned members by bare JID, MentionMIDs by mid (an
// occupant JID of the group names its member by mid); both count only for
// members.
type PostMessage struct {
	Sender      string
	ID          string
	OriginID    string
	Body        string
	Payload     string
	Mentions    []string
	MentionMIDs []string
	Kind        MessageKind
	// Resent is the original of a resend that is no longer in the group's
	// window (Group.Forgotten), found in the archive by the caller.
	Resent *MessageRef
}

// MarkRead records that Reader has read up to Message, or everything so far
// when Message is nil.
type MarkRead struct {
	Reader  string
	Message *MessageRef
}

func (c CreateGroup) requester() string   { return c.Creator.JID }
func (c UpdateGroup) requester() string   { return c.By }
func (c DeleteGroup) requester() string   { return c.By }
func (c AddMembers) requester() string    { return c.By }
func (c RemoveMembers) requester() string { return c.By }
func (c PostMessage) requester() string   { return c.Sender }
func (c MarkRead) requester() string      { return c.Reader }
