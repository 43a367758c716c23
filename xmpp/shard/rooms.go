package shard

import (
	"context"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/muc"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// enterRoom lets a member in through the XEP-0045 front door: the
// occupants (every member), its own presence, then, from the archive, the
// history it asked for and the subject (the group's name). A stranger is
// refused as from a members-only room. Entering a group that was never
// created creates it in batch b (§10.1, an instant room owned by who
// entered); once stored, the entry follows (b is nil then) with status
// 201. A deleted group's id stays taken: its room is gone.
func (sh *shard) enterRoom(ctx context.Context, j job, r protocol.RoomJoin, b *batchState) {
	s, full := sh.s, j.st.From.String()
	g, err := sh.state(ctx, r.Group)
	switch {
	case err != nil:
		s.Reply(ctx, protocol.JoinRefusal(j.st, protocol.ErrorFor(err)))
		return
	case !g.Created() && b != nil:
		if !domain.ValidGroupID(r.Group) {
			s.Reply(ctx, protocol.JoinRefusal(j.st, protocol.ErrJIDMalformed.With("the room's name cannot be a group id")))
			return
		}
		sh.decideRoom(ctx, j, b)
		return
	case !g.Exists():
		s.Reply(ctx, protocol.JoinRefusal(j.st, protocol.ErrNotExists.With("the group does not exist")))
		return
	}
	me, ok := g.Member(j.st.Requester())
	if !ok {
		s.Reply(ctx, protocol.JoinRefusal(j.st, protocol.ErrRegistrationRequired()))
		return
	}
	if !s.Rooms.Enter(full, me.JID, r.Group) {
		s.Reply(ctx, protocol.JoinRefusal(j.st, protocol.ErrServiceUnavailable.With("the service holds as many room occupants as it may")))
		return
	}
	// A MUC client gets its rooms' traffic only, never the native
	// protocol's.
	s.Online.Offline(j.st.From)
	entry := muc.Entry(s.Addr, g, me, r.Nick, b == nil)
	// The self-presence, last, reflects the id of the presence that
	// entered.
	entry[len(entry)-1] = entry[len(entry)-1].WithID(j.st.ID)
	for _, o := range entry {
		s.Reply(ctx, o.For(full))
	}
	name, user := g.Name(), me.JID
	q := func(ctx context.Context) {
		err := s.CatchUp(ctx)
		if err == nil {
			var hist []protocol.Outbound
			if hist, err = s.History.RoomHistory(ctx, r.Group, user, r.History, s.Now()); err == nil {
				for _, o := range hist {
					s.Reply(ctx, o.For(full))
				}
			}
		}
		if err != nil {
			s.Log.Warn("room history not sent", "group", r.Group, "to", full, "err", err)
		}
		s.Reply(ctx, protocol.RoomSubject(s.Addr.Group(r.Group), name).For(full))
	}
	select {
	case s.Queries <- q:
	case <-ctx.Done():
	}
}

// exitRoom lets a MUC client out of a room and confirms it (XEP-0045
// §7.14); membership stays.
func (sh *shard) exitRoom(ctx context.Context, j job) {
	s, full, group := sh.s, j.st.From.String(), j.st.Group()
	if !s.Rooms.In(full, group) {
		return
	}
	s.Rooms.Exit(full, j.st.Requester(), group)
	g, err := sh.state(ctx, group)
	if err != nil {
		return
	}
	if me, ok := g.Member(j.st.Requester()); ok {
		s.Reply(ctx, muc.Exit(s.Addr, group, me).For(full))
	}
}

// changeNick refuses an occupant's new nick: a member's nick is its member
// id in every room (XEP-0045 §7.6, nicks locked down). A presence to its
// own occupant JID (a status) changes nothing, and one from a resource
// that is in no room is not the front door's.
func (sh *shard) changeNick(ctx context.Context, j job, r protocol.NickChange) {
	s := sh.s
	if !s.Rooms.In(j.st.From.String(), r.Group) {
		return
	}
	g, err := sh.state(ctx, r.Group)
	if err != nil {
		return
	}
	if me, ok := g.Member(j.st.Requester()); ok && me.MID != r.Nick {
		s.Reply(ctx, protocol.JoinRefusal(j.st, protocol.ErrNickLocked(me.MID)))
	}
}
