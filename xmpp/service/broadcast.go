package service

import (
	"context"
	"encoding/json"

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
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			s.log.Error("cannot decode a stored event; not broadcast", "group", re.Stream, "version", re.Version, "err", err)
			continue
		}
		var meta Meta
		_ = json.Unmarshal(re.Metadata, &meta)
		g := s.broadcastState(re.Stream)
		group, gj := re.Stream, s.groupJID(re.Stream)
		switch e := e.(type) {
		case domain.GroupCreated:
			o := protocol.GroupPresence(gj, protocol.NSCreate, []protocol.Property{{Name: "name", Value: e.Name}, {Name: "id", Value: e.GroupID}}, nil)
			s.fanOut(ctx, o, e.Members, "")
		case domain.GroupUpdated:
			var props []protocol.Property
			if e.Name != "" {
				props = append(props, protocol.Property{Name: "name", Value: e.Name})
			}
			if e.NewOwner != "" {
				props = append(props, protocol.Property{Name: "owner", Value: e.NewOwner})
			}
			// The requester gets the new properties with the id, then
			// everyone gets the change.
			if meta.From != "" {
				reply := protocol.GroupPresence(gj, protocol.NSUpdate, append(props, protocol.Property{Name: "id", Value: group}), nil)
				s.reply(ctx, reply.For(meta.From))
			}
			g.Apply(e)
			s.fanOut(ctx, protocol.GroupPresence(gj, protocol.NSUpdate, props, nil), g.Members(), "")
			continue
		case domain.GroupDeleted:
			s.fanOut(ctx, protocol.GroupPresence(gj, protocol.NSDelete, nil, nil), e.Members, "")
		case domain.MemberAdded:
			g.Apply(e)
			s.fanOut(ctx, protocol.GroupPresence(gj, protocol.NSAdd, nil, e.Members), g.Members(), "")
			continue
		case domain.MemberRemoved:
			s.fanOut(ctx, protocol.GroupPresence(gj, protocol.NSRemove, nil, e.Members), g.Members(), "")
		case domain.MessagePosted:
			o := protocol.GroupMessage(s.occupant(group, e.MID), gj, e, protocol.ArchiveID(re.Version))
			s.fanOut(ctx, o, g.Members(), "")
		case domain.MessageRead:
			if e.Message != nil && e.Message.Sender != e.Reader {
				id := e.Message.ID
				if id == "" {
					id = protocol.ArchiveID(e.Message.Version)
				}
				o := protocol.ReadReceipt(s.occupant(group, e.MID), id)
				to = s.online.Resources(to[:0], e.Message.Sender)
				for _, full := range to {
					s.reply(ctx, o.For(full))
				}
			}
		}
		g.Apply(e)
	}
}

// fanOut sends one rendered stanza to every online resource of members.
func (s *Service) fanOut(ctx context.Context, o protocol.Outbound, members []domain.Member, skip string) {
	var to []string
	for _, m := range members {
		if m.JID == skip {
			continue
		}
		to = s.online.Resources(to[:0], m.JID)
		for _, full := range to {
			if err := s.out.Send(ctx, o.For(full)); err != nil {
				return
			}
		}
	}
}
