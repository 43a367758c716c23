package broadcast

import (
	"context"
	"log/slog"

	"github.com/uuchat/groupchat/aggregate"
	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/muc"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// LogDroppedBroadcast is logged for a broadcast copy the link refused to
// write (the edge's check) or could not queue; tests watch for it.
const LogDroppedBroadcast = "dropping a broadcast"

// LogMulticast is logged (debug) for each stanza sent through the server's
// multicast service, with the group and the number of its addresses.
const LogMulticast = "broadcast through the multicast service"

// Multicaster names the XMPP server's multicast service (XEP-0033), if
// any: its JID ("" for none) and the most addresses one stanza may carry.
type Multicaster interface {
	Service() (jid string, limit int)
}

// Config is what the broadcaster needs to know about the service.
type Config struct {
	// Addresses names groups and occupants on the wire.
	Addresses protocol.Addresses
	// Limits are the groups' limits, for the view's group state.
	Limits domain.Limits
	Logger *slog.Logger
	// Changes tells where a group's previous change is, for a group whose
	// view is not in memory.
	Changes Changes
	// CacheBytes bounds the memory of the groups' views kept between
	// broadcasts (0: every group's); a view not in memory is folded from
	// the group's stream.
	CacheBytes int
	// Snapshots, if set, holds the states of groups with long streams,
	// which a view is folded from.
	Snapshots aggregate.Snapshots
}

// Changes is where the read model says a group's changes are.
type Changes interface {
	// PreviousChange is the position of group's last change before
	// position (0: none).
	PreviousChange(ctx context.Context, group string, position uint64) (uint64, error)
}

// Sender delivers outgoing stanzas (the component link).
type Sender interface {
	Send(ctx context.Context, o protocol.Outbound) error
}

// Online is the set of members' online resources.
type Online interface {
	// Join and Leave count a user in and out of one group: only members
	// of some group are online for broadcasts.
	Join(bare string)
	Leave(bare string)
	// Resources appends the online full JIDs of a user to dst.
	Resources(dst []string, bare string) []string
}

// Log is the part of the event log the broadcaster reads.
type Log interface {
	// ReadStream returns up to max events of stream with Version >= from,
	// in version order.
	ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error)
}

// Rooms is who is in which group's room through the XEP-0045 front door.
type Rooms interface {
	// Occupants appends to dst the resources of user bare in group's room.
	Occupants(dst []string, group, bare string) []string
	// ExitGroup empties a group's room of user bare ("" for everyone).
	ExitGroup(group, bare string)
}

// Pusher notifies offline members of a message (push notifications).
type Pusher interface {
	Message(group, occupant string, m domain.MessagePosted, members []domain.Member)
}

// Broadcaster renders applied events and fans them out; see the package
// documentation.
type Broadcaster struct {
	addr   protocol.Addresses
	limits domain.Limits
	log    *slog.Logger
	online Online
	store  Log
	// reply sends the one stanza addressed to a requester, which may be an
	// answer too large for the server (the service turns it into an error).
	reply func(ctx context.Context, o protocol.Outbound)
	out   Sender
	push  Pusher
	rooms Rooms
	mc    Multicaster

	changes Changes
	// views are the groups as of the last applied event, those used
	// lately; the others are folded from their streams when next needed.
	views *aggregate.Repository[*domain.Group]
	// lastChange is the position of the last change of each group whose
	// view is in memory: the previous change the next one names.
	lastChange map[string]uint64
}

// New returns a broadcaster; Attach gives it its link. reply sends a
// stanza meant for one requester.
func New(cfg Config, online Online, log Log, reply func(ctx context.Context, o protocol.Outbound)) *Broadcaster {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Broadcaster{
		addr: cfg.Addresses, limits: cfg.Limits, log: cfg.Logger,
		online: online, store: log, reply: reply, changes: cfg.Changes,
		lastChange: map[string]uint64{},
	}
	b.views = aggregate.New(aggregate.ReadOnly(log), aggregate.Config[*domain.Group]{
		New: func(string) *domain.Group { return domain.NewGroup(cfg.Limits) },
		// A group's creation is applied to the view after it is handed
		// out, so even an empty view is worth keeping.
		Keep:      func(*domain.Group) bool { return true },
		MaxBytes:  cfg.CacheBytes,
		Size:      (*domain.Group).Size,
		Evicted:   func(group string) { delete(b.lastChange, group) },
		Snapshots: cfg.Snapshots, Encode: (*domain.Group).Snapshot,
		Decode: func(_ string, data []byte) (*domain.Group, error) { return domain.RestoreGroup(cfg.Limits, data) },
	})
	return b
}

// Attach sets where broadcasts go. Call it before OnApplied or FanOut.
func (b *Broadcaster) Attach(out Sender) { b.out = out }

// AttachRooms sets who is in which group's room as a MUC occupant; nil is
// nobody. Call it before OnApplied.
func (b *Broadcaster) AttachRooms(r Rooms) { b.rooms = r }

// AttachPush sets who is offered each message for push notifications; nil
// is none. Call it before OnApplied.
func (b *Broadcaster) AttachPush(p Pusher) { b.push = p }

// AttachMulticast sets where the server's multicast service is found; nil
// (the default) sends one stanza per recipient. Call it before OnApplied.
func (b *Broadcaster) AttachMulticast(m Multicaster) { b.mc = m }

// view returns a group as it was before the event re: the view in memory,
// or else folded from the group's stream, with the position of its last
// change before re from the read model.
func (b *Broadcaster) view(ctx context.Context, re eventstore.RecordedEvent) (*domain.Group, uint64, error) {
	g, err := b.views.GetAt(ctx, re.Stream, re.Version)
	if err != nil {
		return nil, 0, err
	}
	previous, ok := b.lastChange[re.Stream]
	if !ok && re.Version > 0 {
		if previous, err = b.changes.PreviousChange(ctx, re.Stream, re.Position); err != nil {
			b.views.Evict(re.Stream)
			return nil, 0, err
		}
	}
	return g, previous, nil
}

// OnApplied fans out the broadcasts of events the projections have just
// applied, in order. It runs on the projector's goroutine.
func (b *Broadcaster) OnApplied(ctx context.Context, events []eventstore.RecordedEvent) {
	var to []string
	for _, re := range events {
		if domain.IsPushStream(re.Stream) {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			b.log.Error("cannot decode a stored event; not broadcast", "group", re.Stream, "version", re.Version, "err", err)
			continue
		}
		// Metadata that does not read answers no requester; the
		// broadcast itself goes out all the same.
		meta, _ := eventstore.DecodeMeta(re.Metadata)
		g, previous, err := b.view(ctx, re)
		if err != nil {
			b.log.Error("cannot read a group to broadcast its event; not broadcast", "group", re.Stream, "version", re.Version, "err", err)
			continue
		}
		group, gj := re.Stream, b.addr.Group(re.Stream)
		o, kind := b.Render(ctx, re, e, previous)
		if protocol.IsGroupChange(e) {
			b.lastChange[group] = re.Position
		}
		joined, left := membershipChange(e)
		// New members are online for the broadcast that adds them, and
		// removed ones for the broadcast that removes them.
		b.join(joined)
		switch e := e.(type) {
		case domain.GroupCreated:
			b.fanOutNative(ctx, group, o, e.Members)
		case domain.GroupUpdated:
			// The requester gets the new properties with the group id
			// (and its request's id), then everyone gets the change;
			// both place it in the chain alike.
			if meta.From != "" {
				reply := protocol.GroupReply(gj, meta.ID, protocol.NSUpdate, change(re.Position, previous), append(updateProperties(e), protocol.Property{Name: "id", Value: group}))
				b.reply(ctx, reply.For(meta.From))
			}
			g.Apply(e)
			b.fanOutNative(ctx, group, o, g.Members())
			b.toRooms(ctx, group, e, g, g.Members())
			continue
		case domain.GroupDeleted:
			b.fanOutNative(ctx, group, o, e.Members)
			b.toRooms(ctx, group, e, g, e.Members)
			if b.rooms != nil {
				b.rooms.ExitGroup(group, "")
			}
		case domain.MemberAdded:
			g.Apply(e)
			b.fanOutNative(ctx, group, o, g.Members())
			b.toRooms(ctx, group, e, g, g.Members())
			continue
		case domain.MemberRoleChanged:
			g.Apply(e)
			b.fanOutNative(ctx, group, o, g.Members())
			b.toRooms(ctx, group, e, g, g.Members())
			continue
		case domain.MemberRemoved:
			b.fanOutNative(ctx, group, o, g.Members())
			b.toRooms(ctx, group, e, g, g.Members())
			for _, m := range e.Members {
				if b.rooms != nil {
					b.rooms.ExitGroup(group, m.JID)
				}
			}
		case domain.MessagePosted:
			members := g.Members()
			b.FanOut(ctx, group, o, members)
			if b.push != nil {
				b.push.Message(group, b.addr.Occupant(group, e.MID), e, members)
			}
		case domain.MessageRetracted:
			// Everyone learns of it, as of the message; a moderator's IQ
			// is answered once it is stored.
			if e.Moderated && meta.From != "" {
				b.reply(ctx, protocol.ModerationDone(gj, meta.ID, meta.From))
			}
			b.FanOut(ctx, group, o, g.Members())
		case domain.MessageRead:
			if kind != "" {
				to = b.online.Resources(to[:0], e.Message.Sender)
				for _, full := range to {
					b.reply(ctx, o.For(full))
				}
			}
		}
		b.leave(left)
		g.Apply(e)
	}
}

// membershipChange is who an event makes a member of its group, and who it
// makes no longer one.
func membershipChange(e domain.Event) (joined, left []domain.Member) {
	switch e := e.(type) {
	case domain.GroupCreated:
		return e.Members, nil
	case domain.MemberAdded:
		return e.Members, nil
	case domain.MemberRemoved:
		return nil, e.Members
	case domain.GroupDeleted:
		return nil, e.Members
	}
	return nil, nil
}

// join and leave keep the online set's count of groups per user, which
// tells it whose resources are online for broadcasts.
func (b *Broadcaster) join(ms []domain.Member) {
	for _, m := range ms {
		b.online.Join(m.JID)
	}
}

func (b *Broadcaster) leave(ms []domain.Member) {
	for _, m := range ms {
		b.online.Leave(m.JID)
	}
}

// FanOut sends one rendered message of group to every online resource of
// members, native clients and MUC occupants of the group's room alike. A
// recipient the edge refuses is skipped; only the end of ctx stops it.
//
// With a multicast service, the copies go out as stanzas to the service,
// each with up to its limit of bcc addresses; see sendMulticast.
func (b *Broadcaster) FanOut(ctx context.Context, group string, o protocol.Outbound, members []domain.Member) {
	var to []string
	if svc, limit := b.multicastService(); svc != "" {
		for _, m := range members {
			to = b.online.Resources(to, m.JID)
			if b.rooms != nil {
				to = b.rooms.Occupants(to, group, m.JID)
			}
		}
		b.sendMulticast(ctx, group, o, to, svc, limit)
		return
	}
	for _, m := range members {
		to = b.online.Resources(to[:0], m.JID)
		if b.rooms != nil {
			to = b.rooms.Occupants(to, group, m.JID)
		}
		if !b.sendAll(ctx, o, to) {
			return
		}
	}
}

// multicastService is the server's multicast service and its limit, or
// "" without one.
func (b *Broadcaster) multicastService() (string, int) {
	if b.mc == nil {
		return "", 0
	}
	return b.mc.Service()
}

// fanOutNative sends a stanza of the native protocol (a group presence)
// to the online resources of members that are not MUC clients: through
// the multicast service when there is one, like the group's messages, so
// that a client gets a group's changes and messages in the order they
// were made.
func (b *Broadcaster) fanOutNative(ctx context.Context, group string, o protocol.Outbound, members []domain.Member) {
	var to []string
	if svc, limit := b.multicastService(); svc != "" {
		for _, m := range members {
			to = b.online.Resources(to, m.JID)
		}
		b.sendMulticast(ctx, group, o, to, svc, limit)
		return
	}
	for _, m := range members {
		to = b.online.Resources(to[:0], m.JID)
		if !b.sendAll(ctx, o, to) {
			return
		}
	}
}

// toRooms sends the occupants of group's room what MUC clients see of a
// change (muc.Change), each member's resources their own view of it.
func (b *Broadcaster) toRooms(ctx context.Context, group string, e domain.Event, g *domain.Group, members []domain.Member) {
	if b.rooms == nil {
		return
	}
	var to []string
	for _, m := range members {
		to = b.rooms.Occupants(to[:0], group, m.JID)
		if len(to) == 0 {
			continue
		}
		for _, o := range muc.Change(b.addr, group, e, g, m) {
			if !b.sendAll(ctx, o, to) {
				return
			}
		}
	}
}

// sendMulticast sends o to each full JID of to through the multicast
// service svc: ceil(n/limit) stanzas, each carrying up to limit bcc
// addresses. An address the edge's rules refuse is never written in one:
// it is sent on its own (and refused there, logged as a dropped
// broadcast); a batch the edge or the link refuses is sent one by one.
// Even a lone recipient's copy goes through the service, so that a
// group's messages reach every resource by one path, in order. False once
// ctx has ended.
func (b *Broadcaster) sendMulticast(ctx context.Context, group string, o protocol.Outbound, to []string, svc string, limit int) bool {
	single, batches := Batches(to, limit)
	for _, bcc := range batches {
		m, ok := o.Multicast(svc, bcc)
		if ok {
			err := b.out.Send(ctx, m)
			if err == nil {
				b.log.Debug(LogMulticast, "group", group, "service", svc, "addresses", len(bcc))
				continue
			}
			if ctx.Err() != nil {
				return false
			}
			b.log.Warn("a multicast stanza was refused; sent one by one", "service", svc, "addresses", len(bcc), "err", err)
		}
		if !b.sendAll(ctx, o, bcc) {
			return false
		}
	}
	return b.sendAll(ctx, o, single)
}

// Batches splits recipients into the ones sent on their own (an address
// the edge's rules refuse) and batches of at most limit addresses (limit
// < 1 counts as 1) for the multicast service, in their order.
func Batches(to []string, limit int) (single []string, batches [][]string) {
	limit = max(limit, 1)
	valid := make([]string, 0, len(to))
	for _, full := range to {
		if address.Check(full) != nil {
			single = append(single, full)
		} else {
			valid = append(valid, full)
		}
	}
	for i := 0; i < len(valid); i += limit {
		batches = append(batches, valid[i:min(i+limit, len(valid)):min(i+limit, len(valid))])
	}
	return single, batches
}

// sendAll sends o to each full JID; false once ctx has ended.
func (b *Broadcaster) sendAll(ctx context.Context, o protocol.Outbound, to []string) bool {
	for _, full := range to {
		if err := b.out.Send(ctx, o.For(full)); err != nil {
			if ctx.Err() != nil {
				return false
			}
			b.log.Warn(LogDroppedBroadcast, "to", full, "err", err)
		}
	}
	return true
}
