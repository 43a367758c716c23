package protocol

import (
	"strconv"
	"time"

	"github.com/uuchat/groupchat/domain"
)

// The namespaces of the XEP-0045 front door.
const NSMUC = "http://jabber.org/protocol/muc"

// RoomFeatures are what a group announces to MUC clients besides its own
// features: a persistent, members-only, non-anonymous room (XEP-0045 §6.4).
// Messages keep the id their sender gave them (muc#stable_id, XEP-0045
// §7.4).
var RoomFeatures = []string{NSMUC, NSMUCStableID, "muc_membersonly", "muc_persistent", "muc_nonanonymous", "muc_hidden", "muc_unmoderated", "muc_unsecured"}

// NSMUCStableID says that a room reflects a message with its sender's id.
const NSMUCStableID = "http://jabber.org/protocol/muc#stable_id"

// ReservedNick asks a group, through the disco node x-roomuser-item, for
// the asker's nick in its room (XEP-0045 §7.12).
type ReservedNick struct{ Group string }

// NickChange is an occupant's presence to another occupant JID of a room
// it is in: a nick change (XEP-0045 §7.6), or a status update to its own.
type NickChange struct{ Group, Nick string }

func (ReservedNick) request() {}
func (NickChange) request()   {}

// ReservedNickResult renders the answer to x-roomuser-item: the member's
// nick as a conference identity, or an empty answer for a stranger.
func ReservedNickResult(nick string) []byte {
	p := AppendStart(nil, "query", nick == "", A("xmlns", NSDiscoInfo), A("node", "x-roomuser-item"))
	if nick == "" {
		return p
	}
	p = AppendStart(p, "identity", true, A("category", "conference"), A("name", nick), A("type", "text"))
	return AppendEnd(p, "query")
}

// ErrNickLocked refuses a new nick in a room (XEP-0045 §7.6: nicks are
// locked down to the member ids).
func ErrNickLocked(mid string) *Error {
	return Error{Type: Cancel, Condition: "not-acceptable"}.With("a member's nick is its member id, " + mid)
}

// MUC status codes (XEP-0045 §15.6.2) the front door sends.
const (
	StatusNonAnonymous = 100 // any occupant sees real JIDs
	StatusSelf         = 110 // this presence is about you
	StatusNickAssigned = 210 // the service chose your nick
	StatusConfigChange = 104 // the room's configuration changed
	StatusCreated      = 201 // this entry created the room
	StatusAffiliation  = 321 // removed: no longer a member
)

// RoomHistory is what history a joining MUC client asks for (XEP-0045
// §7.2.15); a negative number is "not given".
type RoomHistory struct {
	MaxStanzas, MaxChars, Seconds int
	Since                         time.Time
}

// RoomJoin is a MUC client entering a group as a room: presence to
// group@service/nick with <x xmlns="http://jabber.org/protocol/muc"/>.
type RoomJoin struct {
	Group, Nick string
	History     RoomHistory
}

// RoomLeave is a MUC client leaving a room: unavailable presence to its
// occupant JID.
type RoomLeave struct{ Group string }

// PrivateMessage is a message to an occupant JID: private messages
// through a group are not offered.
type PrivateMessage struct{}

func (RoomJoin) request()       {}
func (RoomLeave) request()      {}
func (PrivateMessage) request() {}

// parseRoomPresence recognises the presences of the MUC front door: to an
// occupant JID of a group; ok is false for others.
func parseRoomPresence(s Stanza) (r Request, err error, ok bool) {
	if s.Group() == "" || s.To.Resourcepart() == "" {
		return nil, nil, false
	}
	switch s.Type {
	case "unavailable":
		return RoomLeave{Group: s.Group()}, nil, true
	case "":
	default:
		return nil, nil, false
	}
	x := s.Node.Child(NSMUC, "x")
	if x == nil {
		return NickChange{Group: s.Group(), Nick: s.To.Resourcepart()}, nil, true
	}
	j := RoomJoin{Group: s.Group(), Nick: s.To.Resourcepart(), History: RoomHistory{MaxStanzas: -1, MaxChars: -1, Seconds: -1}}
	if h := x.Child(NSMUC, "history"); h != nil {
		for _, a := range []struct {
			name string
			to   *int
		}{{"maxstanzas", &j.History.MaxStanzas}, {"maxchars", &j.History.MaxChars}, {"seconds", &j.History.Seconds}} {
			if v := h.Attr(a.name); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return nil, ErrBadRequest.With("<history/> " + a.name + " must be a non-negative number"), true
				}
				*a.to = n
			}
		}
		if v := h.Attr("since"); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, ErrBadRequest.With("<history/> since is not an XEP-0082 date-time"), true
			}
			j.History.Since = t
		}
	}
	return j, nil, true
}

// RoomItem is the <item/> of an occupant's presence: its affiliation and
// role, and its real JID (the rooms are non-anonymous).
type RoomItem struct {
	Affiliation, Role, JID string
}

// RoomItemOf is how a member shows as a MUC occupant: the owner as owner,
// admins as admins (both moderators), members as participants.
func RoomItemOf(m domain.Member) RoomItem {
	switch m.Role {
	case domain.RoleOwner:
		return RoomItem{"owner", "moderator", m.JID}
	case domain.RoleAdmin:
		return RoomItem{"admin", "moderator", m.JID}
	}
	return RoomItem{"member", "participant", m.JID}
}

// OccupantPresence renders an occupant's presence in a room (XEP-0045
// §7.2.3), unavailable when gone, with its item and status codes.
func OccupantPresence(occupant string, it RoomItem, unavailable bool, codes ...int) Outbound {
	tail := append(make([]byte, 0, 192), `">`...)
	tail = AppendStart(tail, "x", false, A("xmlns", NSMUCUser))
	tail = AppendStart(tail, "item", true, A("affiliation", it.Affiliation), A("jid", it.JID), A("role", it.Role))
	for _, c := range codes {
		tail = AppendStart(tail, "status", true, A("code", strconv.Itoa(c)))
	}
	tail = AppendEnd(tail, "x")
	tail = AppendEnd(tail, "presence")
	typ := ""
	if unavailable {
		typ = "unavailable"
	}
	return outbound("presence", occupant, "", typ, "", tail)
}

// appendWithReason appends an element with one attribute and, when reason
// is not empty, a <reason/> child (XEP-0045's destroy and invite).
func appendWithReason(buf []byte, name string, attr Attr, reason string) []byte {
	if reason == "" {
		return AppendStart(buf, name, true, attr)
	}
	buf = AppendStart(buf, name, false, attr)
	buf = AppendElementText(buf, "reason", reason)
	return AppendEnd(buf, name)
}

// RoomDestroyed renders what an occupant of a deleted group receives
// (XEP-0045 §10.9): its own presence, unavailable, with <destroy/>, which
// carries the owner's reason and alternate venue if it gave them.
func RoomDestroyed(occupant, jid, reason, venue string) Outbound {
	tail := append(make([]byte, 0, 192+len(reason)), `">`...)
	tail = AppendStart(tail, "x", false, A("xmlns", NSMUCUser))
	tail = AppendStart(tail, "item", true, A("affiliation", "none"), A("jid", jid), A("role", "none"))
	tail = appendWithReason(tail, "destroy", A("jid", venue), reason)
	tail = AppendStart(tail, "status", true, A("code", strconv.Itoa(StatusSelf)))
	tail = AppendEnd(tail, "x")
	tail = AppendEnd(tail, "presence")
	return outbound("presence", occupant, "", "unavailable", "", tail)
}

// RoomSubject renders the subject message a room sends last when a client
// enters, or when the subject changes (XEP-0045 §7.2.16): the group's name.
func RoomSubject(groupJID, subject string) Outbound {
	tail := append(make([]byte, 0, 64+len(subject)), `">`...)
	tail = AppendElementText(tail, "subject", subject)
	tail = AppendEnd(tail, "message")
	return outbound("message", groupJID, "", "groupchat", "", tail)
}

// RoomConfigChanged renders the notice that a room's configuration (here:
// its name) changed (XEP-0045 §10.2.1, status 104).
func RoomConfigChanged(groupJID string) Outbound {
	tail := append(make([]byte, 0, 128), `">`...)
	tail = AppendStart(tail, "x", false, A("xmlns", NSMUCUser))
	tail = AppendStart(tail, "status", true, A("code", strconv.Itoa(StatusConfigChange)))
	tail = AppendEnd(tail, "x")
	tail = AppendEnd(tail, "message")
	return outbound("message", groupJID, "", "groupchat", "", tail)
}

// Delayed returns a message of room history (XEP-0045 §7.2.15): as it was
// broadcast, with an XEP-0203 delay from the group.
func Delayed(o Outbound, groupJID string, at time.Time) Outbound {
	return withChild(o, "message", func(b []byte) []byte {
		return AppendStart(b, "delay", true, A("xmlns", NSDelay), A("from", groupJID), A("stamp", at.UTC().Format("2006-01-02T15:04:05.000Z")))
	})
}

// JoinRefusal renders the error presence that refuses entry to a room
// (XEP-0045 §7.2.6 ff.): from the occupant JID asked for, echoing the
// request's <x/>.
func JoinRefusal(s Stanza, e *Error) Outbound {
	tail := append(make([]byte, 0, 256), `">`...)
	tail = AppendStart(tail, "x", true, A("xmlns", NSMUC))
	tail = AppendErrorElement(tail, e, s.To.Bare().String())
	tail = AppendEnd(tail, "presence")
	return outbound("presence", s.To.String(), s.ID, "error", s.From.String(), tail)
}

// errRegistrationRequired is XEP-0045 §7.2.7's refusal of a non-member.
var errRegistrationRequired = Error{Type: Auth, Condition: "registration-required"}

// ErrRegistrationRequired refuses a user who is not a member entry.
func ErrRegistrationRequired() *Error {
	return errRegistrationRequired.With("only members may enter; ask the owner or an admin to add you")
}
