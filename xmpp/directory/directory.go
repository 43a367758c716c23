package directory

import (
	"context"
	"slices"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/history"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// ReadModel is what the service-wide answers read of the projections.
type ReadModel interface {
	// GroupsOf lists the live groups a user belongs to, ordered by id.
	GroupsOf(ctx context.Context, jid string) ([]history.GroupSummary, error)
	// GroupByName finds a live group by its exact name.
	GroupByName(ctx context.Context, name string) (history.GroupSummary, bool, error)
}

// Answerer answers the directory's queries.
type Answerer struct {
	Addr protocol.Addresses
	// Name is the service's name in its disco#info identity.
	Name string
	// MaxOutboundBytes is the largest stanza the XMPP server accepts from
	// the service (0 is unlimited); lists are cut to fit it.
	MaxOutboundBytes int
	Reads            ReadModel
}

// ServiceInfo is the service's disco#info answer.
func (a *Answerer) ServiceInfo() []byte {
	return protocol.DiscoInfoResult(protocol.Features, protocol.GroupchatIdentity(a.Name))
}

// Group answers a query about one group (#groupinfo, disco#info,
// disco#items, #members, #memberinfo) from its state g.
func (a *Answerer) Group(g *domain.Group, st protocol.Stanza, req protocol.Request) ([]byte, error) {
	if !g.Exists() {
		return nil, protocol.ErrNotExists.With("the group does not exist")
	}
	switch r := req.(type) {
	case protocol.GroupInfoQuery:
		return protocol.GroupInfoResult(a.groupInfo(history.GroupSummary{ID: g.ID(), Name: g.Name(), Type: g.Type(), Members: g.MemberCount()})), nil
	case protocol.ReservedNick:
		m, _ := g.Member(st.Requester())
		return protocol.ReservedNickResult(m.MID), nil
	case protocol.DiscoInfo:
		// A group is also a room of the XEP-0045 front door.
		return protocol.DiscoInfoResult(append(slices.Clone(protocol.GroupFeatures), protocol.RoomFeatures...),
			protocol.GroupchatIdentity(g.Name()), protocol.RoomIdentity(g.Name())), nil
	case protocol.DiscoItems:
		return protocol.EmptyDiscoItems(), nil
	case protocol.MembersQuery:
		if _, err := domain.RequireMember(g, st.Requester(), domain.SeeMembers); err != nil {
			return nil, err
		}
		members := g.Members()
		keys, items := make([]string, len(members)), make([][]byte, len(members))
		for i, m := range members {
			keys[i], items[i] = m.MID, protocol.AppendMemberItem(nil, m)
		}
		return a.list(protocol.NSMembers, st, r.Page, keys, items)
	case protocol.MemberInfoQuery:
		if _, err := domain.RequireMember(g, st.Requester(), domain.SeeMembers); err != nil {
			return nil, err
		}
		m, found := selectMember(g, r.By)
		if !found {
			return nil, protocol.ErrNotExists.With("no such member")
		}
		return protocol.MemberInfoResult(m), nil
	}
	return nil, protocol.ErrServiceUnavailable.With("")
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

// Service answers a query across groups (#items, the service's
// disco#items, find-by-name) from the read model, which the caller has let
// catch up with everything already committed.
func (a *Answerer) Service(ctx context.Context, st protocol.Stanza, req protocol.Request) ([]byte, error) {
	switch r := req.(type) {
	case protocol.ItemsQuery:
		return a.groupsOf(ctx, st, protocol.NSItems, r.Page, func(g history.GroupSummary) []byte {
			return protocol.ItemsItem(g.UserGroup(a.Addr.Group(g.ID)))
		})
	case protocol.DiscoItems:
		return a.groupsOf(ctx, st, protocol.NSDiscoItems, r.Page, func(g history.GroupSummary) []byte {
			return protocol.DiscoItem(a.Addr.Group(g.ID), g.Name)
		})
	case protocol.FindByName:
		g, ok, err := a.Reads.GroupByName(ctx, r.Name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, protocol.ErrNotExists.With("no group has that name")
		}
		return protocol.GroupInfoResult(a.groupInfo(g)), nil
	}
	return nil, protocol.ErrServiceUnavailable.With("")
}

// groupsOf lists the requester's groups in a list answer of ns, each
// rendered by item and keyed by its id.
func (a *Answerer) groupsOf(ctx context.Context, st protocol.Stanza, ns string, p protocol.Page, item func(history.GroupSummary) []byte) ([]byte, error) {
	groups, err := a.Reads.GroupsOf(ctx, st.Requester())
	if err != nil {
		return nil, err
	}
	keys, items := make([]string, len(groups)), make([][]byte, len(groups))
	for i, g := range groups {
		keys[i], items[i] = g.ID, item(g)
	}
	return a.list(ns, st, p, keys, items)
}

// list renders a list answer of ns: the items that fit one stanza of the
// server's size limit, within the page asked for, and the <set/> that says
// where they are when the list was paged or cut.
func (a *Answerer) list(ns string, st protocol.Stanza, p protocol.Page, keys []string, items [][]byte) ([]byte, error) {
	buf := protocol.OpenList(ns)
	sizes := make([]int, len(items))
	for i, it := range items {
		sizes[i] = len(it)
	}
	w, err := protocol.Cut(keys, sizes, p, protocol.ItemsBudget(a.MaxOutboundBytes, st, len(buf)))
	if err != nil {
		return nil, err
	}
	return protocol.CloseList(protocol.AppendWindow(buf, keys, items, w)), nil
}

// groupInfo is what #groupinfo tells of a group.
func (a *Answerer) groupInfo(g history.GroupSummary) protocol.GroupInfo {
	return protocol.GroupInfo{JID: a.Addr.Group(g.ID), ID: g.ID, Name: g.Name, Type: g.Type, Members: g.Members}
}
