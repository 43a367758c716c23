package service

import (
	"context"

	"github.com/uuchat/groupchat/xmpp/broadcast"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/push"
)

// AttachPush gives the service its push notifier: push requests are
// answered, push settings loaded, and committed messages offered to it.
// Call it before Load. Without one, push requests are refused with
// service-unavailable.
func (s *Service) AttachPush(n *push.Notifier) {
	s.push = n
	if n != nil {
		n.AttachRooms(s.rooms)
	}
	// A nil notifier must reach the broadcaster as no pusher at all, not
	// as a nil pointer in an interface.
	var p broadcast.Pusher
	if n != nil {
		p = n
	}
	s.broadcaster.AttachPush(p)
}

// pushRequest answers an enable, disable or notification level request on
// a query worker: each appends to the requester's push stream, and a level
// first checks membership against the projections.
func (s *Service) pushRequest(ctx context.Context, st protocol.Stanza, req protocol.Request) {
	if s.push == nil {
		s.reply(ctx, protocol.ErrorReply(st, protocol.ErrServiceUnavailable.With("push notifications are not enabled")))
		return
	}
	s.answerOnQueryWorker(ctx, st, func(ctx context.Context) ([]byte, error) { return s.answerPush(ctx, st, req) })
}

func (s *Service) answerPush(ctx context.Context, st protocol.Stanza, req protocol.Request) ([]byte, error) {
	if _, level := req.(protocol.NotifyLevel); level {
		// Membership is read from the projections: they must hold what
		// the asker saw acknowledged.
		if err := s.catchUpProjections(ctx); err != nil {
			return nil, err
		}
	}
	return s.push.Settings().Answer(ctx, st.Requester(), req, s.reads)
}
