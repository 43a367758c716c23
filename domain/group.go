package domain

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Role is a member's standing in a group.
type Role string

// The roles. A group has exactly one owner.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// GroupType says who made a group.
type GroupType string

// The group types: customized groups are made by users, system groups by the
// service administrators named in the configuration.
const (
	TypeCustomized GroupType = "customized"
	TypeSystem     GroupType = "system"
)

// Member is one member of a group, identified by its bare JID. MID (the
// occupant JID's resource) and Nick are stored in NFKC form (NormalizeMID,
// NormalizeNick); events written before that may hold other forms.
type Member struct {
	JID  string `json:"jid"`
	MID  string `json:"mid"`
	Nick string `json:"nick,omitempty"`
	Role Role   `json:"role"`
}

// MessageRef names a stored message of a group.
type MessageRef struct {
	// ID is the id the sender gave the message.
	ID string `json:"id,omitempty"`
	// Version is the message's archive position in its group.
	Version uint64 `json:"version"`
	Sender  string `json:"sender"`
}

type dedupKey struct{ sender, id string }

// Group is the state of one group, built by Evolve from its events. The zero
// value is a group that does not exist yet.
type Group struct {
	id      string
	name    string
	typ     GroupType
	deleted bool
	// version is the number of events applied; the last event's stream
	// version is version-1.
	version uint64
	members []Member
	byJID   map[string]int
	// byMID is keyed by nameKey: members stored before mids were normalized
	// are found, and conflict, by the form the XMPP server knows them by.
	byMID map[string]int

	// recent remembers the last messages by (sender, client id) so that a
	// resend yields the original; ring keeps their order for eviction.
	recent     map[dedupKey]MessageRef
	ring       []dedupKey
	ringNext   int
	dedupLimit int
	// forgotten is one more than the version of the newest message that
	// left the window (0: none did): a resend of it, or of any older one,
	// is found in the archive instead.
	forgotten uint64

	// last is the newest message, which a read receipt without an id
	// marks; hasLast tells whether one was posted.
	last    MessageRef
	hasLast bool
}

// view lets the accessors read a nil *Group as the zero group, one that does
// not exist yet, as Exists and Decide already do.
func (g *Group) view() *Group {
	if g == nil {
		return &Group{}
	}
	return g
}

// ID is the group's id (the local part of its JID).
func (g *Group) ID() string { return g.view().id }

// Name is the group's display name.
func (g *Group) Name() string { return g.view().name }

// Type is who made the group.
func (g *Group) Type() GroupType { return g.view().typ }

// Exists reports whether the group was created and not deleted.
func (g *Group) Exists() bool { return g != nil && g.id != "" && !g.deleted }

// Created reports whether the group was ever created (deleted groups
// included): its id stays taken.
func (g *Group) Created() bool { return g != nil && g.id != "" }

// Deleted reports whether the group was deleted.
func (g *Group) Deleted() bool { return g != nil && g.deleted }

// Version is the number of events in the group's stream.
func (g *Group) Version() uint64 { return g.view().version }

// Members returns a copy of the members in the order they joined.
func (g *Group) Members() []Member { return append([]Member(nil), g.view().members...) }

// MemberCount is the number of members.
func (g *Group) MemberCount() int { return len(g.view().members) }

// Member returns the member with the given bare JID.
func (g *Group) Member(jid string) (Member, bool) {
	g = g.view()
	if i, ok := g.byJID[jid]; ok {
		return g.members[i], true
	}
	return Member{}, false
}

// MemberByMID returns the member with the given mid. Mids are compared in
// normal form (see NormalizeMID), so a mid written in another form, or with
// characters XMPP servers drop, finds the member the server would address; a
// member stored with exactly mid wins over one that only normalizes alike.
func (g *Group) MemberByMID(mid string) (Member, bool) {
	g = g.view()
	i, ok := g.byMID[nameKey(mid)]
	if !ok {
		return Member{}, false
	}
	if g.members[i].MID != mid {
		// Only members stored before mids were normalized can share a key.
		for _, m := range g.members {
			if m.MID == mid {
				return m, true
			}
		}
	}
	return g.members[i], true
}

// MemberByNick returns the first member with the given nick, compared in
// normal form as mids are (see MemberByMID).
func (g *Group) MemberByNick(nick string) (Member, bool) {
	members := g.view().members
	for _, m := range members {
		if m.Nick == nick {
			return m, true
		}
	}
	key := nameKey(nick)
	for _, m := range members {
		if nameKey(m.Nick) == key {
			return m, true
		}
	}
	return Member{}, false
}

// Owner returns the group's owner.
func (g *Group) Owner() (Member, bool) {
	for _, m := range g.view().members {
		if m.Role == RoleOwner {
			return m, true
		}
	}
	return Member{}, false
}

// Recent returns the message a sender posted with a client id, if it is
// still in the deduplication window.
func (g *Group) Recent(sender, id string) (MessageRef, bool) {
	r, ok := g.view().recent[dedupKey{sender, id}]
	return r, ok
}

// Forgotten returns the version of the newest message that left the
// deduplication window; ok is false while every message is in it. A resend
// of a message up to that version is not recognised by Recent: the caller
// looks for it in the archive and names it in PostMessage.Resent.
func (g *Group) Forgotten() (version uint64, ok bool) {
	g = g.view()
	if g.forgotten == 0 {
		return 0, false
	}
	return g.forgotten - 1, true
}

// LastMessage returns the group's newest message, if one was posted.
func (g *Group) LastMessage() (MessageRef, bool) {
	g = g.view()
	return g.last, g.hasLast
}

// Limits are the configurable bounds the domain enforces.
type Limits struct {
	MaxNameChars int // group name, in characters
	MaxBodyBytes int // message body, in bytes (UTF-8)
	// MaxPayloadBytes bounds a message's extension elements.
	MaxPayloadBytes int
	MaxMembers      int // members per group
	MaxMIDChars     int // mid, in characters after normalization
	MaxNickChars    int // nick, in characters after normalization
	// DedupWindow is how many recent messages per group are remembered to
	// recognise a resend.
	DedupWindow int
}

// DefaultLimits are the limits a fresh deployment starts with.
func DefaultLimits() Limits {
	return Limits{
		MaxNameChars:    256,
		MaxBodyBytes:    64 << 10,
		MaxPayloadBytes: 64 << 10,
		MaxMembers:      1000,
		MaxMIDChars:     64,
		MaxNickChars:    128,
		DedupWindow:     256,
	}
}

// validText reports whether s is valid UTF-8, free of control characters and
// not blank (a name of spaces only is a missing name), within max characters.
func validText(s string, max int) (ok bool, tooLong bool) {
	if strings.TrimSpace(s) == "" || !utf8.ValidString(s) {
		return false, false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false, false
		}
	}
	return true, max > 0 && utf8.RuneCountInString(s) > max
}

// ValidGroupID reports whether id can be the local part of a group JID: no
// white space, upper case letter, character a JID local part may not hold,
// nor any character NormalizeMID refuses (an XMPP server would drop or refuse
// it, or two ids would look alike).
func ValidGroupID(id string) bool {
	if id == "" || len(id) > 256 || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if unicode.IsSpace(r) || unicode.IsUpper(r) || strings.ContainsRune(`"&'/:<>@`, r) || refusedInName(r) != "" {
			return false
		}
	}
	return true
}

// assignMID picks a mid for a member who came without one: the JID's local
// part, made unique with a numeric suffix and kept within maxChars (when
// positive) so that it passes the checks a given mid would.
func (g *Group) assignMID(jid string, taken map[string]bool, maxChars int) string {
	base := jid
	if i := strings.IndexByte(base, '@'); i > 0 {
		base = base[:i]
	}
	base, err := NormalizeMID(base)
	if err != nil {
		base = "member"
	}
	limit := 48
	if maxChars > 0 && maxChars < limit {
		limit = maxChars
	}
	runes := []rune(base)
	for n := 1; ; n++ {
		suffix := ""
		if n > 1 {
			suffix = "-" + strconv.Itoa(n)
		}
		mid := ""
		// Cutting may leave a trailing space, which a mid may not end with,
		// or split what NFKC composes: cut further until the mid is its own
		// normal form. base passed the rules, so its first rune alone does.
		for keep := min(max(limit-utf8.RuneCountInString(suffix), 1), len(runes)); keep > 0 && mid == ""; keep-- {
			c := string(runes[:keep]) + suffix
			if got, err := NormalizeMID(c); err == nil && got == c {
				mid = c
			}
		}
		if mid == "" {
			// Unreachable while the above holds; a valid mid all the same.
			mid = "member" + suffix
		}
		if !taken[mid] && !g.midTaken(mid) {
			return mid
		}
	}
}

// midTaken reports whether a member holds mid, compared in normal form.
func (g *Group) midTaken(mid string) bool {
	_, ok := g.byMID[nameKey(mid)]
	return ok
}

// Size estimates the group state's memory in bytes, for a cache that
// bounds the states it keeps: a few hundred bytes per member (the member,
// its two index entries) and per message remembered for resend detection
// (the key, the reference, the ring slot).
func (g *Group) Size() int {
	g = g.view()
	return 512 + 256*len(g.members) + 192*len(g.ring)
}
