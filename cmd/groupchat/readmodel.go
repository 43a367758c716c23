package main

import (
	"context"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/xmpp/service"
)

// readModel adapts the projections database to what the service asks.
type readModel struct{ db *projections.DB }

func (r readModel) WaitFor(ctx context.Context, pos uint64) error { return r.db.WaitFor(ctx, pos) }

func (r readModel) GroupsOf(ctx context.Context, jid string) ([]service.GroupSummary, error) {
	items, err := r.db.GroupsOf(ctx, jid)
	if err != nil {
		return nil, err
	}
	out := make([]service.GroupSummary, len(items))
	for i, g := range items {
		out[i] = service.GroupSummary{ID: g.ID, Name: g.Name, Type: g.Type, Members: g.Members,
			Role: g.Role, Unread: g.Unread, Mentions: g.Mentions}
	}
	return out, nil
}

func (r readModel) GroupByName(ctx context.Context, name string) (service.GroupSummary, bool, error) {
	g, ok, err := r.db.GroupByName(ctx, name)
	return service.GroupSummary{ID: g.ID, Name: g.Name, Type: g.Type, Members: g.Members}, ok, err
}

func (r readModel) MessageByID(ctx context.Context, group, id string) (domain.MessageRef, bool, error) {
	ref, _, ok, err := r.db.MessageByID(ctx, group, id)
	return ref, ok, err
}

func (r readModel) GroupByID(ctx context.Context, id string) (service.GroupSummary, bool, error) {
	g, ok, err := r.db.Group(ctx, id)
	return service.GroupSummary{ID: g.ID, Name: g.Name, Type: g.Type, Members: g.Members, Deleted: g.Deleted}, ok, err
}

func (r readModel) MessageByPosition(ctx context.Context, group string, position uint64) (domain.MessageRef, bool, error) {
	ref, _, ok, err := r.db.MessageByPosition(ctx, group, position)
	return ref, ok, err
}

func (r readModel) WasMember(ctx context.Context, group, jid string) (bool, error) {
	spans, err := r.db.Spans(ctx, group, jid)
	return len(spans) > 0, err
}

func (r readModel) ReadBy(ctx context.Context, group string, version uint64) ([]string, error) {
	return r.db.ReadBy(ctx, group, version)
}

func (r readModel) Members(ctx context.Context, group string) ([]domain.Member, error) {
	return r.db.Members(ctx, group)
}

func (r readModel) Timeline(ctx context.Context, q service.TimelineQuery) ([]service.TimelineEntry, int, error) {
	entries, total, err := r.db.Timeline(ctx, projections.TimelineQuery(q))
	if err != nil {
		return nil, 0, err
	}
	out := make([]service.TimelineEntry, len(entries))
	for i, e := range entries {
		out[i] = service.TimelineEntry(e)
	}
	return out, total, nil
}
