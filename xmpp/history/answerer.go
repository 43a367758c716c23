package history

import (
	"context"
	"strconv"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// GroupSummary is a group as the read model lists it.
type GroupSummary struct {
	ID, Name string
	Type     domain.GroupType
	Members  int
	// Role, Unread and Mentions are the asking user's, in GroupsOf.
	Role     domain.Role
	Unread   int
	Mentions int
	Deleted  bool
}

// UserGroup is the group with the asking member's role and counters, as
// #items and the catch-up list it; jid is the group's address.
func (g GroupSummary) UserGroup(jid string) protocol.UserGroup {
	return protocol.UserGroup{JID: jid, ID: g.ID, Name: g.Name, Role: g.Role,
		Members: g.Members, Unread: g.Unread, Mentions: g.Mentions}
}

// TimelineQuery selects events for catch-up and archive queries.
type TimelineQuery struct {
	// JID is whose view: events of the spans it was a member, and read
	// receipts addressed to it.
	JID string
	// Group limits the query to one group ("" is every group).
	Group string
	// MessagesOnly keeps only messages (archive queries).
	MessagesOnly bool
	// After and Before bound the range's positions, exclusive (0 is open).
	After, Before uint64
	// Start and End bound the events' time, inclusive (zero is open).
	Start, End time.Time
	// Sender keeps the messages of one member (a bare JID), and SenderMID
	// those sent as one member id; either keeps messages only.
	Sender, SenderMID string
	// Positions keeps only the events at these positions (nil: no filter).
	Positions []uint64
	// PageAfter and PageBefore place the page within the range (0: not
	// given), leaving the range, its count and the index as they are.
	PageAfter, PageBefore uint64
	// Max is the page size; Last takes the last Max events of the range
	// instead of the first.
	Max  int
	Last bool
	// CountUpTo, if positive, stops counting the range there: a longer
	// range has no Count or Index (-1).
	CountUpTo int
}

// TimelineEntry locates one event of a timeline in the log.
type TimelineEntry struct {
	Group             string
	Version, Position uint64
	// RetractedBy is the version of the event that withdrew this message
	// (0: it stands).
	RetractedBy uint64
}

// TimelinePage is a page of a timeline: its events, how many the whole
// range holds (XEP-0059's count), and how many of those come before the
// page's first (its index).
type TimelinePage struct {
	Entries      []TimelineEntry
	Count, Index int
	// More tells whether the range goes on beyond the page, in the
	// direction of paging.
	More bool
}

// MessageFinder finds a group's messages by the ids clients name them with.
type MessageFinder interface {
	// MessageByID finds the earliest message of a group with the id its
	// sender gave it, among those of sender unless sender is empty.
	MessageByID(ctx context.Context, group, sender, id string) (domain.MessageRef, bool, error)
	// MessageByPosition finds a message of a group by its archive id.
	MessageByPosition(ctx context.Context, group string, position uint64) (domain.MessageRef, bool, error)
}

// ReadModel is what the history queries ask of the projections.
type ReadModel interface {
	MessageFinder
	// GroupsOf lists the live groups a user belongs to.
	GroupsOf(ctx context.Context, jid string) ([]GroupSummary, error)
	// GroupByID finds a group, deleted ones included.
	GroupByID(ctx context.Context, id string) (GroupSummary, bool, error)
	// Timeline lists a page of the events a user may see (history follows
	// membership), in position order, and where it lies in the range.
	Timeline(ctx context.Context, q TimelineQuery) (TimelinePage, error)
	// PreviousChange is the position of the group's last change before
	// position (0: none), which a change's broadcast names.
	PreviousChange(ctx context.Context, group string, position uint64) (uint64, error)
	// WasMember reports whether jid is or ever was a member of group.
	WasMember(ctx context.Context, group, jid string) (bool, error)
	// ReadBy lists the bare JIDs of the members who have read a group up to
	// version or beyond.
	ReadBy(ctx context.Context, group string, version uint64) ([]string, error)
	// Members lists a group's current members.
	Members(ctx context.Context, group string) ([]domain.Member, error)
}

// Log is what the history queries read of the event store: the events a
// timeline names, and the position a catch-up tells the client.
type Log interface {
	// ReadStream returns up to max events of stream with Version >= from,
	// in version order.
	ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error)
	// LastPosition is the position of the newest committed event.
	LastPosition(ctx context.Context) (uint64, error)
}

// Render is the stanza members received for an event (addressed by For),
// and its kind ("presence" or "message"); kind is empty for events nobody
// receives. previous is the position of the group's change before a group
// change (0: none). History replays what was broadcast, so it renders
// events the way the broadcaster does.
type Render func(ctx context.Context, re eventstore.RecordedEvent, e domain.Event, previous uint64) (protocol.Outbound, string)

// Answerer answers the history queries. Its fields are what it needs; all
// must be set.
type Answerer struct {
	// Reads is the read model the queries select from.
	Reads ReadModel
	// Log holds the events the read model's timelines name.
	Log Log
	// Render renders an event as its members received it.
	Render Render
	// Addr names groups and their members on the wire.
	Addr protocol.Addresses
	// MaxOutboundBytes is the largest stanza the XMPP server accepts from
	// the service (0 is unlimited): answers are cut to fit it.
	MaxOutboundBytes int
	// Send sends one stanza: MAM's result messages and its final IQ
	// result are several stanzas, sent in order.
	Send func(ctx context.Context, o protocol.Outbound)
}

// MessageNamed finds the message id names in a group: the message whose
// archive id it is, else the earliest message with that client id, among
// sender's own unless sender is empty. Archive ids are unique and client
// ids are not, so another member reusing an id cannot redirect a receipt or
// a #readers query to its own message.
func MessageNamed(ctx context.Context, r MessageFinder, group, sender, id string) (domain.MessageRef, bool, error) {
	if pos, err := strconv.ParseUint(id, 10, 64); err == nil {
		ref, ok, err := r.MessageByPosition(ctx, group, pos)
		if err != nil || ok {
			return ref, ok, err
		}
	}
	return r.MessageByID(ctx, group, sender, id)
}
