package broadcast

import (
	"context"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// Render is the stanza members receive for an event (addressed by For),
// and its kind ("presence" or "message"); kind is empty for events nobody
// receives (a read of one's own message). previous is the position of the
// group's change before a group change (0: none, the creation); other
// events ignore it. History replays events with it, so they read as they
// were broadcast.
func (b *Broadcaster) Render(ctx context.Context, re eventstore.RecordedEvent, e domain.Event, previous uint64) (protocol.Outbound, string) {
	group, gj := re.Stream, b.addr.Group(re.Stream)
	c := change(re.Position, previous)
	switch e := e.(type) {
	case domain.GroupCreated:
		return protocol.GroupPresence(gj, protocol.NSCreate, c, []protocol.Property{{Name: "name", Value: e.Name}, {Name: "id", Value: e.GroupID}}, nil), "presence"
	case domain.GroupUpdated:
		return protocol.GroupPresence(gj, protocol.NSUpdate, c, updateProperties(e), nil), "presence"
	case domain.GroupDeleted:
		return protocol.GroupPresence(gj, protocol.NSDelete, c, nil, nil), "presence"
	case domain.MemberAdded:
		return protocol.GroupPresence(gj, protocol.NSAdd, c, nil, e.Members), "presence"
	case domain.MemberRemoved:
		return protocol.GroupPresence(gj, protocol.NSRemove, c, nil, e.Members), "presence"
	case domain.MemberRoleChanged:
		// An update of the group that names the member with its new role.
		return protocol.GroupPresence(gj, protocol.NSUpdate, c, nil, []domain.Member{e.Member}), "presence"
	case domain.MessagePosted:
		return protocol.GroupMessage(b.addr.Occupant(group, e.MID), gj, e, protocol.ArchiveID(re.Position)), "message"
	case domain.MessageRead:
		if e.Message == nil || e.Message.Sender == e.Reader {
			return protocol.Outbound{}, ""
		}
		id := e.Message.ID
		if id == "" {
			id = b.archiveIDAt(ctx, group, e.Message.Version)
		}
		return protocol.ReadReceipt(b.addr.Occupant(group, e.MID), id), "message"
	case domain.MessageRetracted:
		by := b.addr.Occupant(group, e.MID)
		return protocol.Retraction(by, gj, e, by, protocol.ArchiveID(re.Position)), "message"
	}
	return protocol.Outbound{}, ""
}

// change is a group change's place in its group's chain, as archive ids.
func change(position, previous uint64) protocol.Change {
	c := protocol.Change{ID: protocol.ArchiveID(position)}
	if previous > 0 {
		c.Previous = protocol.ArchiveID(previous)
	}
	return c
}

// Stored renders the message stored at a group's version as its members
// received it: a resend is answered with its original.
func (b *Broadcaster) Stored(ctx context.Context, group string, version uint64) (protocol.Outbound, error) {
	re, ok, err := eventstore.EventAt(ctx, b.store, group, version)
	if err != nil || !ok {
		return protocol.Outbound{}, notFound(err)
	}
	e, err := domain.DecodeEvent(re.Type, re.Data)
	if err != nil {
		return protocol.Outbound{}, err
	}
	if _, ok := e.(domain.MessagePosted); !ok {
		return protocol.Outbound{}, notFound(nil)
	}
	o, _ := b.Render(ctx, re, e, 0)
	return o, nil
}

func notFound(err error) error {
	if err != nil {
		return err
	}
	return protocol.ErrNotExists.With("no such message in the group")
}

// archiveIDAt is the archive id of the event at a group's version, for
// messages their sender gave no id.
func (b *Broadcaster) archiveIDAt(ctx context.Context, group string, version uint64) string {
	re, ok, err := eventstore.EventAt(ctx, b.store, group, version)
	if err != nil || !ok {
		return ""
	}
	return protocol.ArchiveID(re.Position)
}

func updateProperties(e domain.GroupUpdated) []protocol.Property {
	var props []protocol.Property
	if e.Name != "" {
		props = append(props, protocol.Property{Name: "name", Value: e.Name})
	}
	if e.NewOwner != "" {
		props = append(props, protocol.Property{Name: "owner", Value: e.NewOwner})
	}
	return props
}
