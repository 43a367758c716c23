// Package readmodel adapts the projections database to what the XMPP
// service asks of its read model (service.ReadModel, which includes what
// the history queries and the directory read: history.ReadModel,
// directory.ReadModel).
package readmodel

import (
	"context"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/xmpp/directory"
	"github.com/uuchat/groupchat/xmpp/history"
	"github.com/uuchat/groupchat/xmpp/service"
)

// ReadModel adapts a projections database to service.ReadModel.
type ReadModel struct{ DB *projections.DB }

// The service hands its read model to the history queries and the
// directory as well, so the adapter must keep satisfying their interfaces.
var (
	_ service.ReadModel   = ReadModel{}
	_ history.ReadModel   = ReadModel{}
	_ directory.ReadModel = ReadModel{}
)

// WaitFor implements service.ReadModel.
func (r ReadModel) WaitFor(ctx context.Context, pos uint64) error { return r.DB.WaitFor(ctx, pos) }

// GroupsOf implements history.ReadModel and directory.ReadModel.
func (r ReadModel) GroupsOf(ctx context.Context, jid string) ([]history.GroupSummary, error) {
	items, err := r.DB.GroupsOf(ctx, jid)
	if err != nil {
		return nil, err
	}
	out := make([]history.GroupSummary, len(items))
	for i, g := range items {
		out[i] = history.GroupSummary{ID: g.ID, Name: g.Name, Type: g.Type, Members: g.Members,
			Role: g.Role, Unread: g.Unread, Mentions: g.Mentions}
	}
	return out, nil
}

// GroupByName implements directory.ReadModel.
func (r ReadModel) GroupByName(ctx context.Context, name string) (history.GroupSummary, bool, error) {
	g, ok, err := r.DB.GroupByName(ctx, name)
	return history.GroupSummary{ID: g.ID, Name: g.Name, Type: g.Type, Members: g.Members}, ok, err
}

// MessageByID implements history.ReadModel.
func (r ReadModel) MessageByID(ctx context.Context, group, sender, id string) (domain.MessageRef, bool, error) {
	ref, _, ok, err := r.DB.MessageByID(ctx, group, sender, id)
	return ref, ok, err
}

// GroupByID implements history.ReadModel.
func (r ReadModel) GroupByID(ctx context.Context, id string) (history.GroupSummary, bool, error) {
	g, ok, err := r.DB.Group(ctx, id)
	return history.GroupSummary{ID: g.ID, Name: g.Name, Type: g.Type, Members: g.Members, Deleted: g.Deleted}, ok, err
}

// MessageByPosition implements history.ReadModel.
func (r ReadModel) MessageByPosition(ctx context.Context, group string, position uint64) (domain.MessageRef, bool, error) {
	ref, _, ok, err := r.DB.MessageByPosition(ctx, group, position)
	return ref, ok, err
}

// PreviousChange implements history.ReadModel.
func (r ReadModel) PreviousChange(ctx context.Context, group string, position uint64) (uint64, error) {
	return r.DB.PreviousChange(ctx, group, position)
}

// WasMember implements history.ReadModel.
func (r ReadModel) WasMember(ctx context.Context, group, jid string) (bool, error) {
	spans, err := r.DB.Spans(ctx, group, jid)
	return len(spans) > 0, err
}

// ReadBy implements history.ReadModel.
func (r ReadModel) ReadBy(ctx context.Context, group string, version uint64) ([]string, error) {
	return r.DB.ReadBy(ctx, group, version)
}

// LiveMember implements push.Membership.
func (r ReadModel) LiveMember(ctx context.Context, group, user string) (exists, deleted, member bool, err error) {
	g, ok, err := r.DB.Group(ctx, group)
	if err != nil || !ok || g.Deleted {
		return ok, g.Deleted, false, err
	}
	members, err := r.DB.Members(ctx, group)
	for _, m := range members {
		member = member || m.JID == user
	}
	return true, false, member, err
}

// Members implements history.ReadModel.
func (r ReadModel) Members(ctx context.Context, group string) ([]domain.Member, error) {
	return r.DB.Members(ctx, group)
}

// Timeline implements history.ReadModel.
func (r ReadModel) Timeline(ctx context.Context, q history.TimelineQuery) (history.TimelinePage, error) {
	page, err := r.DB.Timeline(ctx, projections.TimelineQuery(q))
	if err != nil {
		return history.TimelinePage{}, err
	}
	out := history.TimelinePage{Entries: make([]history.TimelineEntry, len(page.Entries)), Count: page.Count, Index: page.Index, More: page.More}
	for i, e := range page.Entries {
		out.Entries[i] = history.TimelineEntry(e)
	}
	return out, nil
}

// IsMember reports whether a user is a member of some live group.
func (r ReadModel) IsMember(ctx context.Context, jid string) (bool, error) {
	return r.DB.IsMember(ctx, jid)
}

// MessageResent finds the newest message sender posted to a group with a
// resend key.
func (r ReadModel) MessageResent(ctx context.Context, group, sender, key string) (domain.MessageRef, bool, error) {
	ref, _, ok, err := r.DB.MessageResent(ctx, group, sender, key)
	return ref, ok, err
}

// HoldsMessage reports whether the projections hold a group's message at
// version.
func (r ReadModel) HoldsMessage(ctx context.Context, group string, version uint64) (bool, error) {
	_, _, ok, err := r.DB.MessageByVersion(ctx, group, version)
	return ok, err
}
