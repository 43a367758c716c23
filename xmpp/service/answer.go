package service

import (
	"context"
	"crypto/rand"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/history"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// answer replies to a query about one group from the shard's state, which
// reflects every command received before it.
func (sh *shard) answer(ctx context.Context, j job) {
	s := sh.s
	group := j.st.Group()
	g, err := sh.state(ctx, group)
	if err != nil {
		s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
		return
	}
	if !g.Exists() {
		s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrNotExists.With("the group does not exist")))
		return
	}
	var payload []byte
	switch r := j.req.(type) {
	case protocol.GroupInfoQuery:
		payload = protocol.GroupInfoResult(s.groupInfo(history.GroupSummary{ID: g.ID(), Name: g.Name(), Type: g.Type(), Members: g.MemberCount()}))
	case protocol.DiscoInfo:
		payload = protocol.DiscoInfoResult(protocol.GroupchatIdentity(g.Name()), protocol.GroupFeatures, r.Node)
	case protocol.DiscoItems:
		payload = protocol.EmptyDiscoItems()
	case protocol.MembersQuery, protocol.MemberInfoQuery:
		if _, err := domain.RequireMember(g, j.st.Requester(), domain.SeeMembers); err != nil {
			s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
			return
		}
		if r, ok := r.(protocol.MemberInfoQuery); ok {
			m, found := selectMember(g, r.By)
			if !found {
				s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrNotExists.With("no such member")))
				return
			}
			payload = protocol.MemberInfoResult(m)
		} else {
			members := g.Members()
			keys, items := make([]string, len(members)), make([][]byte, len(members))
			for i, m := range members {
				keys[i], items[i] = m.MID, protocol.AppendMemberItem(nil, m)
			}
			var err error
			if payload, err = s.appendList(protocol.OpenList(protocol.NSMembers), j.st, j.req.(protocol.MembersQuery).Page, keys, items); err != nil {
				s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
				return
			}
			payload = protocol.CloseList(payload)
		}
	}
	s.reply(ctx, protocol.IQResult(j.st, payload))
}

func selectMember(g *domain.Group, sel domain.MemberSelector) (domain.Member, bool) {
	switch {
	case sel.JID != "":
		return g.Member(sel.JID)
	case sel.MID != "":
		return g.MemberByMID(sel.MID)
	default:
		return g.MemberByNick(sel.Nick)
	}
}

// groupInfo is what #groupinfo tells of a group.
func (s *Service) groupInfo(g history.GroupSummary) protocol.GroupInfo {
	return protocol.GroupInfo{JID: s.addr.Group(g.ID), ID: g.ID, Name: g.Name, Type: g.Type, Members: g.Members}
}

// archiveQuery runs an archive query on a query worker: its results are
// several stanzas, sent in order before the IQ result.
func (s *Service) archiveQuery(ctx context.Context, st protocol.Stanza, r protocol.ArchiveQuery) {
	q := func(ctx context.Context) {
		err := s.catchUpProjections(ctx)
		if err == nil {
			err = s.history.Archive(ctx, st, r)
		}
		if err != nil {
			s.reply(ctx, protocol.ErrorReply(st, protocol.ErrorFor(err)))
		}
	}
	select {
	case s.queries <- q:
	case <-ctx.Done():
	}
}

// catchUpProjections waits until the projections hold every committed
// event, so a query sees what its asker already saw acknowledged.
func (s *Service) catchUpProjections(ctx context.Context) error {
	last, err := s.store.LastPosition(ctx)
	if err != nil {
		return err
	}
	return s.reads.WaitFor(ctx, last)
}

// serviceQuery answers, on a query worker, what the projections know across
// groups, after they have caught up with everything already committed.
func (s *Service) serviceQuery(ctx context.Context, st protocol.Stanza, req protocol.Request) {
	s.answerOnQueryWorker(ctx, st, func(ctx context.Context) ([]byte, error) { return s.answerServiceQuery(ctx, st, req) })
}

// answerOnQueryWorker hands an IQ to a query worker, which answers it with
// the result's payload or with the error answer computes.
func (s *Service) answerOnQueryWorker(ctx context.Context, st protocol.Stanza, answer func(context.Context) ([]byte, error)) {
	q := func(ctx context.Context) {
		payload, err := answer(ctx)
		if err != nil {
			s.reply(ctx, protocol.ErrorReply(st, protocol.ErrorFor(err)))
			return
		}
		s.reply(ctx, protocol.IQResult(st, payload))
	}
	select {
	case s.queries <- q:
	case <-ctx.Done():
	}
}

func (s *Service) answerServiceQuery(ctx context.Context, st protocol.Stanza, req protocol.Request) ([]byte, error) {
	if err := s.catchUpProjections(ctx); err != nil {
		return nil, err
	}
	switch r := req.(type) {
	case protocol.ItemsQuery, protocol.DiscoItems:
		groups, err := s.reads.GroupsOf(ctx, st.Requester())
		if err != nil {
			return nil, err
		}
		keys, items := make([]string, len(groups)), make([][]byte, len(groups))
		_, myGroups := r.(protocol.ItemsQuery)
		for i, g := range groups {
			keys[i] = g.ID
			if myGroups {
				items[i] = protocol.ItemsItem(g.UserGroup(s.addr.Group(g.ID)))
			} else {
				items[i] = protocol.DiscoItem(s.addr.Group(g.ID), g.Name)
			}
		}
		ns, page := protocol.NSDiscoItems, protocol.Page{}
		if q, ok := r.(protocol.ItemsQuery); ok {
			ns, page = protocol.NSItems, q.Page
		} else {
			page = r.(protocol.DiscoItems).Page
		}
		payload, err := s.appendList(protocol.OpenList(ns), st, page, keys, items)
		if err != nil {
			return nil, err
		}
		return protocol.CloseList(payload), nil
	case protocol.CatchUp:
		return s.history.CatchUp(ctx, st, r)
	case protocol.Readers:
		return s.history.Readers(ctx, st, r)
	case protocol.FindByName:
		g, ok, err := s.reads.GroupByName(ctx, r.Name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, protocol.ErrNotExists.With("no group has that name")
		}
		return protocol.GroupInfoResult(s.groupInfo(g)), nil
	}
	return nil, protocol.ErrServiceUnavailable.With("")
}

// appendList appends the items of a list answer that fit one stanza of
// the server's size limit, within the page asked for, and the <set/> that
// says where they are when the list was paged or cut.
func (s *Service) appendList(buf []byte, st protocol.Stanza, p protocol.Page, keys []string, items [][]byte) ([]byte, error) {
	sizes := make([]int, len(items))
	for i, it := range items {
		sizes[i] = len(it)
	}
	w, err := protocol.Cut(keys, sizes, p, protocol.ItemsBudget(s.cfg.MaxOutboundBytes, st, len(buf)))
	if err != nil {
		return nil, err
	}
	return protocol.AppendWindow(buf, keys, items, w), nil
}

// serviceDiscoInfo is the service's disco#info answer; it mirrors the
// request's node, as XEP-0030 requires (and as a group's answer does).
func (s *Service) serviceDiscoInfo(node string) []byte {
	return protocol.DiscoInfoResult(protocol.GroupchatIdentity(s.cfg.Name), protocol.Features, node)
}

// newGroupID picks an id for a group created at the service's address.
func newGroupID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
