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
