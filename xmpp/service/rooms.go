package service

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
		s.reply(ctx, protocol.JoinRefusal(j.st, protocol.ErrorFor(err)))
		return
	case !g.Created() && b != nil:
		if !domain.ValidGroupID(r.Group) {
			s.reply(ctx, protocol.JoinRefusal(j.st, protocol.ErrJIDMalformed.With("the room's name cannot be a group id")))
			return
		}
		sh.decideRoom(ctx, j, b)
		return
	case !g.Exists():
		s.reply(ctx, protocol.JoinRefusal(j.st, protocol.ErrNotExists.With("the group does not exist")))
		return
	}
	me, ok := g.Member(j.st.Requester())
	if !ok {
		s.reply(ctx, protocol.JoinRefusal(j.st, protocol.ErrRegistrationRequired()))
		return
	}
	if !s.rooms.Enter(full, me.JID, r.Group) {
		s.reply(ctx, protocol.JoinRefusal(j.st, protocol.ErrServiceUnavailable.With("the service holds as many room occupants as it may")))
		return
	}
	// A MUC client gets its rooms' traffic only, never the native
	// protocol's.
	s.online.Offline(j.st.From)
	for _, o := range muc.Entry(s.addr, g, me, r.Nick, b == nil) {
		s.reply(ctx, o.For(full))
	}
	name, user := g.Name(), me.JID
	q := func(ctx context.Context) {
		err := s.catchUpProjections(ctx)
		if err == nil {
			var hist []protocol.Outbound
			if hist, err = s.history.RoomHistory(ctx, r.Group, user, r.History, s.now()); err == nil {
				for _, o := range hist {
					s.reply(ctx, o.For(full))
				}
			}
		}
		if err != nil {
			s.log.Warn("room history not sent", "group", r.Group, "to", full, "err", err)
		}
		s.reply(ctx, protocol.RoomSubject(s.addr.Group(r.Group), name).For(full))
	}
	select {
	case s.queries <- q:
	case <-ctx.Done():
	}
}

// exitRoom lets a MUC client out of a room and confirms it (XEP-0045
// §7.14); membership stays.
func (sh *shard) exitRoom(ctx context.Context, j job) {
	s, full, group := sh.s, j.st.From.String(), j.st.Group()
	if !s.rooms.In(full, group) {
		return
	}
	s.rooms.Exit(full, j.st.Requester(), group)
	g, err := sh.state(ctx, group)
	if err != nil {
		return
	}
	if me, ok := g.Member(j.st.Requester()); ok {
		s.reply(ctx, muc.Exit(s.addr, group, me).For(full))
	}
}
