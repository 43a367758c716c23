package projections

import (
	"fmt"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
)

// The rows of the tables, as the rules below produce them.
type (
	groupRow struct {
		ID, Name             string
		Type                 domain.GroupType
		Deleted              bool
		CreatedAt, UpdatedAt int64
		Version              uint64
		Members              int
		Owner                string
	}
	memberRow struct {
		JID, MID, Nick string
		Role           domain.Role
		JoinedVersion  uint64
		// JoinedSeq orders the members one event added, so that the member
		// list keeps the order in which they joined.
		JoinedSeq int
		JoinedAt  int64
	}
	messageRow struct {
		Version               uint64
		ClientID, Sender, MID string
		Position              uint64
		At                    int64
		// Counted is false for a message that amends another (a
		// correction, a reaction): it is never unread (domain.MessagePosted.Counted).
		Counted bool
		// ResendKey is the message's origin-id when it differs from its
		// client id (what recognises a resend, domain.ResendKey); else "".
		ResendKey string
	}
	// retractionRow says that the message at Version was withdrawn by the
	// event at RetractedBy (both versions of the group's stream).
	retractionRow struct {
		Version, RetractedBy uint64
	}
	// noticeRow is an event other than a message that members may be
	// shown in history and catch-up; ReceiptTo is the one member a read
	// receipt is for.
	noticeRow struct {
		Position, Version uint64
		At                int64
		Kind              string
		ReceiptTo         string
	}
)

// The kinds of notices: a change to the group or its members, or a read
// receipt.
const (
	kindChange  = "change"
	kindRead    = "read"
	kindRetract = "retract"
)

// tables is what the rules change. Two implementations exist, and must give
// the same rows for the same events: sqlTables maintains the SQL tables
// incrementally inside Apply's transaction, and Builder folds a whole log in
// memory for a rebuild. Keeping the rules here, written once against this
// interface, leaves each implementation only the storage to get right.
type tables interface {
	group(id string) (groupRow, bool, error)
	// putGroup inserts (isNew) or replaces the group's row.
	putGroup(g groupRow, isNew bool) error
	// addMember makes m a member with a fresh counter (nothing unread, read
	// up to m.JoinedVersion, so history before the join is not unread) and
	// opens its membership span at m.JoinedVersion. It reports false, and
	// changes nothing, if m.JID is already a member.
	addMember(group string, m memberRow) (bool, error)
	// removeMember removes the member and its counter and closes its span
	// at end (exclusive). It reports false if jid is not a member.
	removeMember(group, jid string, end uint64) (bool, error)
	setRole(group, jid string, role domain.Role) error
	// addMessage records a message and the members it mentions, counts it
	// as unread for every member but its sender (if m.Counted) and as a
	// mention for each member in mentions (which never holds the sender,
	// and is empty for a message not counted).
	addMessage(group string, m messageRow, mentions []string) error
	// markRead sets jid's read-up-to version to max(old, upto) and its
	// unread and mention counts to what is left after it: the counted
	// messages of others, and the mentions of jid, with a greater version.
	markRead(group, jid string, upto uint64) error
	// addNotice records an event other than a message that members are
	// shown.
	addNotice(group string, r noticeRow) error
	// addRetraction records that a message was withdrawn; the first
	// retraction of a message stands.
	addRetraction(group string, r retractionRow) error
}

// applyEvent applies one decoded event to t. The stream name is the group
// id. Structural faults (a gap or repeat in the stream, an event before the
// group's creation) are errors matching ErrInvalidEvent; anything else the
// domain would never decide (removing a non-member, say) changes nothing
// rather than failing, as domain.Evolve does.
func applyEvent(t tables, ev eventstore.RecordedEvent, e domain.Event) error {
	// A user's push settings are no read model's business: the push
	// notifier folds them itself. A push event outside a push stream (or
	// the reverse) is a fault like any other stream mix-up.
	if push := domain.IsPushStream(ev.Stream); push || domain.IsPushEvent(e) {
		if push != domain.IsPushEvent(e) {
			return invalid(ev, "mixes push settings and group events in one stream")
		}
		return nil
	}
	id := ev.Stream
	g, exists, err := t.group(id)
	if err != nil {
		return err
	}
	at := e.OccurredAt().UnixNano()
	if c, ok := e.(domain.GroupCreated); ok {
		if exists || ev.Version != 0 {
			return invalid(ev, "creates a group whose stream already has events")
		}
		g = groupRow{ID: id, Name: c.Name, Type: c.Type, CreatedAt: at, UpdatedAt: at}
		if err := t.putGroup(g, true); err != nil {
			return err
		}
		if err := addMembers(t, &g, c.Members, ev.Version, at); err != nil {
			return err
		}
		if err := t.addNotice(id, noticeRow{Position: ev.Position, Version: ev.Version, At: at, Kind: kindChange}); err != nil {
			return err
		}
		return t.putGroup(g, false)
	}
	if !exists {
		return invalid(ev, "names a group that was never created")
	}
	if ev.Version != g.Version+1 {
		return invalid(ev, fmt.Sprintf("follows version %d of its stream", g.Version))
	}
	// Every event but a message is a notice members are shown, unless
	// it is a read that concerns nobody else.
	notice := &noticeRow{Position: ev.Position, Version: ev.Version, At: at, Kind: kindChange}
	switch e := e.(type) {
	case domain.GroupUpdated:
		if e.Name != "" {
			g.Name = e.Name
		}
		if e.NewOwner != "" && e.NewOwner != g.Owner {
			// As in the domain: the old owner becomes an admin.
			if g.Owner != "" {
				if err := t.setRole(id, g.Owner, domain.RoleAdmin); err != nil {
					return err
				}
			}
			if err := t.setRole(id, e.NewOwner, domain.RoleOwner); err != nil {
				return err
			}
			g.Owner = e.NewOwner
		}
	case domain.MemberRoleChanged:
		if err := t.setRole(id, e.Member.JID, e.Member.Role); err != nil {
			return err
		}
	case domain.GroupDeleted:
		// Deleting hides the group from the directory; its rows stay as
		// they were, for audit.
		g.Deleted = true
	case domain.MemberAdded:
		if err := addMembers(t, &g, e.Members, ev.Version, at); err != nil {
			return err
		}
	case domain.MemberRemoved:
		for _, m := range e.Members {
			// The removal event is the last one the member receives, so its
			// span ends just after it.
			removed, err := t.removeMember(id, m.JID, ev.Version+1)
			if err != nil {
				return err
			}
			if removed {
				g.Members--
				if m.JID == g.Owner {
					g.Owner = ""
				}
			}
		}
	case domain.MessagePosted:
		msg := messageRow{Version: ev.Version, ClientID: e.ID, Sender: e.Sender, MID: e.MID, Position: ev.Position, At: at, Counted: e.Counted()}
		if key := domain.ResendKey(e.OriginID, e.ID); key != e.ID {
			msg.ResendKey = key
		}
		if err := t.addMessage(id, msg, mentioned(e)); err != nil {
			return err
		}
		notice = nil
	case domain.MessageRead:
		// A read reaches at most the group's last event before it, so that
		// a message posted later is always after everyone's read-up-to.
		if err := t.markRead(id, e.Reader, min(e.Upto, g.Version)); err != nil {
			return err
		}
		// A receipt goes to the sender of the message read, and only
		// there; a read naming no message, or one's own, goes nowhere.
		if e.Message != nil && e.Message.Sender != e.Reader {
			notice.Kind, notice.ReceiptTo = kindRead, e.Message.Sender
		} else {
			notice = nil
		}
	case domain.MessageRetracted:
		// The retraction is archived like a message (XEP-0424: it must
		// be, for clients that were away); it counts for nobody.
		notice.Kind = kindRetract
		if err := t.addRetraction(id, retractionRow{Version: e.Message.Version, RetractedBy: ev.Version}); err != nil {
			return err
		}
	}
	if notice != nil {
		if err := t.addNotice(id, *notice); err != nil {
			return err
		}
	}
	g.Version, g.UpdatedAt = ev.Version, at
	return t.putGroup(g, false)
}

func addMembers(t tables, g *groupRow, ms []domain.Member, version uint64, at int64) error {
	for i, m := range ms {
		added, err := t.addMember(g.ID, memberRow{
			JID: m.JID, MID: m.MID, Nick: m.Nick, Role: m.Role,
			JoinedVersion: version, JoinedSeq: i, JoinedAt: at,
		})
		if err != nil {
			return err
		}
		if added {
			g.Members++
			if m.Role == domain.RoleOwner {
				g.Owner = m.JID
			}
		}
	}
	return nil
}

// mentioned returns the members a message's mentions count for: each bare
// JID once, never the sender, whose own messages never count for it, and
// nobody for a message that is not counted (a correction that adds a
// mention does not make the message new again).
func mentioned(e domain.MessagePosted) []string {
	if !e.Counted() {
		return nil
	}
	var out []string
	for _, j := range e.Mentions {
		if j == "" || j == e.Sender {
			continue
		}
		dup := false
		for _, o := range out {
			if o == j {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, j)
		}
	}
	return out
}

func invalid(ev eventstore.RecordedEvent, what string) error {
	return fmt.Errorf("%w: %s at position %d (stream %q version %d) %s", ErrInvalidEvent, ev.Type, ev.Position, ev.Stream, ev.Version, what)
}

// Decode decodes a recorded event as Apply does: with domain.DecodeEvent,
// a failure wrapped in ErrInvalidEvent. Builder.Add takes its result, so a
// rebuild can decode on several cores and fold in order.
func Decode(ev eventstore.RecordedEvent) (domain.Event, error) {
	if ev.Stream == "" {
		return nil, fmt.Errorf("%w: event at position %d has no stream", ErrInvalidEvent, ev.Position)
	}
	e, err := domain.DecodeEvent(ev.Type, ev.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: position %d (stream %q version %d): %w", ErrInvalidEvent, ev.Position, ev.Stream, ev.Version, err)
	}
	return e, nil
}
