package service

import (
	"context"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

func (s *Service) broadcastState(group string) *domain.Group {
	g := s.bcast[group]
	if g == nil {
		g = domain.NewGroup(s.cfg.Limits)
		s.bcast[group] = g
	}
	return g
}

// OnApplied fans out the broadcasts of events the projections have just
// applied, in order. It runs on the projector's goroutine.
func (s *Service) OnApplied(ctx context.Context, events []eventstore.RecordedEvent) {
	var to []string
	for _, re := range events {
		if domain.IsPushStream(re.Stream) {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			s.log.Error("cannot decode a stored event; not broadcast", "group", re.Stream, "version", re.Version, "err", err)
			continue
		}
		// Metadata that does not read answers no requester; the
		// broadcast itself goes out all the same.
		meta, _ := eventstore.DecodeMeta(re.Metadata)
		g := s.broadcastState(re.Stream)
		group, gj := re.Stream, s.addr.Group(re.Stream)
		o, kind := s.render(ctx, re, e)
		joined, left := membershipChange(e)
		// New members are online for the broadcast that adds them, and
		// removed ones for the broadcast that removes them.
		s.join(joined)
		switch e := e.(type) {
		case domain.GroupCreated:
			s.fanOut(ctx, o, e.Members)
		case domain.GroupUpdated:
			// The requester gets the new properties with the group id
			// (and its request's id), then everyone gets the change.
			if meta.From != "" {
				reply := protocol.GroupReply(gj, meta.ID, protocol.NSUpdate, append(updateProperties(e), protocol.Property{Name: "id", Value: group}))
				s.reply(ctx, reply.For(meta.From))
			}
			g.Apply(e)
			s.fanOut(ctx, o, g.Members())
			continue
		case domain.GroupDeleted:
			s.fanOut(ctx, o, e.Members)
		case domain.MemberAdded:
			g.Apply(e)
			s.fanOut(ctx, o, g.Members())
			continue
		case domain.MemberRemoved:
			s.fanOut(ctx, o, g.Members())
		case domain.MessagePosted:
			members := g.Members()
			s.fanOut(ctx, o, members)
			if s.push != nil {
				s.push.Message(group, s.addr.Occupant(group, e.MID), e, members)
			}
		case domain.MessageRead:
			if kind != "" {
				to = s.online.Resources(to[:0], e.Message.Sender)
				for _, full := range to {
					s.reply(ctx, o.For(full))
				}
			}
		}
		s.leave(left)
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
func (s *Service) join(ms []domain.Member) {
	for _, m := range ms {
		s.online.Join(m.JID)
	}
}

func (s *Service) leave(ms []domain.Member) {
	for _, m := range ms {
		s.online.Leave(m.JID)
	}
}

// fanOut sends one rendered stanza to every online resource of members. A
// recipient the edge refuses is skipped; only the end of ctx stops it.
func (s *Service) fanOut(ctx context.Context, o protocol.Outbound, members []domain.Member) {
	var to []string
	for _, m := range members {
		to = s.online.Resources(to[:0], m.JID)
		for _, full := range to {
			if err := s.out.Send(ctx, o.For(full)); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn(LogDroppedBroadcast, "to", full, "err", err)
			}
		}
	}
}

// archiveIDAt is the archive id of the event at a group's version, for
// messages their sender gave no id.
func (s *Service) archiveIDAt(ctx context.Context, group string, version uint64) string {
	evs, err := s.store.ReadStream(ctx, group, version, 1)
	if err != nil || len(evs) == 0 {
		return ""
	}
	return protocol.ArchiveID(evs[0].Position)
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

// render is the stanza members receive for an event (addressed by For),
// and its kind ("presence" or "message"); kind is empty for events nobody
// receives (a read of one's own message).
func (s *Service) render(ctx context.Context, re eventstore.RecordedEvent, e domain.Event) (protocol.Outbound, string) {
	group, gj := re.Stream, s.addr.Group(re.Stream)
	switch e := e.(type) {
	case domain.GroupCreated:
		return protocol.GroupPresence(gj, protocol.NSCreate, []protocol.Property{{Name: "name", Value: e.Name}, {Name: "id", Value: e.GroupID}}, nil), "presence"
	case domain.GroupUpdated:
		return protocol.GroupPresence(gj, protocol.NSUpdate, updateProperties(e), nil), "presence"
	case domain.GroupDeleted:
		return protocol.GroupPresence(gj, protocol.NSDelete, nil, nil), "presence"
	case domain.MemberAdded:
		return protocol.GroupPresence(gj, protocol.NSAdd, nil, e.Members), "presence"
	case domain.MemberRemoved:
		return protocol.GroupPresence(gj, protocol.NSRemove, nil, e.Members), "presence"
	case domain.MessagePosted:
		return protocol.GroupMessage(s.addr.Occupant(group, e.MID), gj, e, protocol.ArchiveID(re.Position)), "message"
	case domain.MessageRead:
		if e.Message == nil || e.Message.Sender == e.Reader {
			return protocol.Outbound{}, ""
		}
		id := e.Message.ID
		if id == "" {
			id = s.archiveIDAt(ctx, group, e.Message.Version)
		}
		return protocol.ReadReceipt(s.addr.Occupant(group, e.MID), id), "message"
	}
	return protocol.Outbound{}, ""
}
