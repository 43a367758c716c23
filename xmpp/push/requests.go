package push

import (
	"context"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// Membership tells whether a user may set a notification level for a
// group: it exists, is live, and the user is one of its members.
type Membership interface {
	// LiveMember reports whether group exists, whether it is deleted, and
	// whether user is a member of it.
	LiveMember(ctx context.Context, group, user string) (exists, deleted, member bool, err error)
}

// Answer carries out a user's push request (XEP-0357 enable and disable
// on the service, a group's notification level) and returns the IQ
// result's payload; a refusal is a *domain.Error or *protocol.Error.
func (s *Settings) Answer(ctx context.Context, user string, req protocol.Request, groups Membership) ([]byte, error) {
	switch r := req.(type) {
	case protocol.PushEnable:
		return nil, s.Do(ctx, domain.EnablePush{User: user, JID: r.JID, Node: r.Node, PublishOptions: r.PublishOptions, IncludeBody: r.IncludeBody})
	case protocol.PushDisable:
		return nil, s.Do(ctx, domain.DisablePush{User: user, JID: r.JID, Node: r.Node, Reason: domain.DisabledByUser})
	case protocol.NotifyLevel:
		exists, deleted, member, err := groups.LiveMember(ctx, r.Group, user)
		if err != nil {
			return nil, err
		}
		if err := domain.RequireLiveGroupMember(exists, deleted, member); err != nil {
			return nil, err
		}
		if r.Set {
			return nil, s.Do(ctx, domain.SetNotifyLevel{User: user, Group: r.Group, Level: r.Level})
		}
		return protocol.NotifyLevelResult(s.Level(user, r.Group)), nil
	}
	return nil, protocol.ErrServiceUnavailable.With("")
}
