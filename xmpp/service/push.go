package service

import (
	"context"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
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
	// A nil notifier must reach the broadcaster as no pusher at all, not
	// as a nil pointer in an interface.
	var p broadcast.Pusher
	if n != nil {
		p = n
	}
	s.broadcaster.AttachPush(p)
}

// loadPush folds a stored push settings event at start.
func (s *Service) loadPush(re eventstore.RecordedEvent, e domain.Event) {
	if s.push != nil {
		s.push.Settings().Load(re.Stream, e)
	}
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
	settings := s.push.Settings()
	user := st.Requester()
	switch r := req.(type) {
	case protocol.PushEnable:
		return nil, settings.Do(ctx, domain.EnablePush{User: user, JID: r.JID, Node: r.Node, PublishOptions: r.PublishOptions, IncludeBody: r.IncludeBody})
	case protocol.PushDisable:
		return nil, settings.Do(ctx, domain.DisablePush{User: user, JID: r.JID, Node: r.Node, Reason: domain.DisabledByUser})
	case protocol.NotifyLevel:
		if err := s.catchUpProjections(ctx); err != nil {
			return nil, err
		}
		g, ok, err := s.reads.GroupByID(ctx, r.Group)
		if err != nil {
			return nil, err
		}
		if !ok || g.Deleted {
			return nil, domain.RequireLiveGroupMember(ok, g.Deleted, false)
		}
		members, err := s.reads.Members(ctx, r.Group)
		if err != nil {
			return nil, err
		}
		member := false
		for _, m := range members {
			member = member || m.JID == user
		}
		if err := domain.RequireLiveGroupMember(true, false, member); err != nil {
			return nil, err
		}
		if r.Set {
			return nil, settings.Do(ctx, domain.SetNotifyLevel{User: user, Group: r.Group, Level: r.Level})
		}
		return protocol.NotifyLevelResult(settings.Level(user, r.Group)), nil
	}
	return nil, protocol.ErrServiceUnavailable.With("")
}
