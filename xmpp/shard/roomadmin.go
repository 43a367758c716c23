package shard

import (
	"context"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/muc"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// refusal renders the error that answers j, in the shape its kind of
// request expects: a room entry from the occupant JID with the MUC <x/>,
// an invitation echoing its <x/>, a subject change its <subject/>, anything else as ErrorReply does.
func refusal(j job, e *protocol.Error) protocol.Outbound {
	switch j.req.(type) {
	case protocol.RoomJoin:
		return protocol.JoinRefusal(j.st, e)
	case protocol.RoomInvite:
		return protocol.MessageRefusal(j.st, e, j.st.Node.Child(protocol.NSMUCUser, "x"))
	case protocol.SubjectChange:
		return protocol.MessageRefusal(j.st, e, j.st.Node.Child("", "subject"))
	}
	return protocol.ErrorReply(j.st, e)
}

// answerRoom answers a room's lists and configuration form from the
// shard's state.
func (sh *shard) answerRoom(ctx context.Context, j job) {
	s := sh.s
	g, err := sh.state(ctx, j.st.Group())
	var payload []byte
	if err == nil {
		switch r := j.req.(type) {
		case protocol.AffiliationList:
			var items []protocol.AdminListItem
			if items, err = muc.Affiliations(g, j.st.Requester(), r); err == nil {
				payload = protocol.AffiliationListResult(items)
			}
		case protocol.RoomConfigForm:
			payload, err = muc.ConfigForm(g, j.st.Requester())
		}
	}
	if err != nil {
		s.Reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
		return
	}
	s.Reply(ctx, protocol.IQResult(j.st, payload))
}

// roomPlan is what a room request asks of group g, and how it is answered
// once stored.
func (sh *shard) roomPlan(g *domain.Group, j job) (muc.Plan, func(context.Context), error) {
	s, by := sh.s, j.st.Requester()
	var p muc.Plan
	var err error
	switch r := j.req.(type) {
	case protocol.RoomJoin:
		p.Commands = []domain.Command{muc.Creation(r.Group, by, r.Nick)}
		return p, func(ctx context.Context) { sh.enterRoom(ctx, j, r, nil) }, nil
	case protocol.AdminChange:
		p, err = muc.AdminPlan(g, by, r.Items)
	case protocol.RoomConfigSubmit:
		p, err = muc.ConfigPlan(g, by, r)
	case protocol.RoomDestroy:
		p, err = muc.DestroyPlan(g, by, r)
	case protocol.RoomInvite:
		p, err = muc.InvitePlan(g, by, r.Invites)
	case protocol.SubjectChange:
		// The new subject reaching the occupants acknowledges it; the
		// subject the room has already is reflected to the sender alone.
		p, err = muc.SubjectPlan(g, by, r.Subject)
		subject := protocol.RoomSubject(j.st.GroupJID(), g.Name()).For(j.st.From.String())
		return p, func(ctx context.Context) {
			if len(p.Commands) == 0 {
				s.Reply(ctx, subject)
			}
		}, err
	}
	if err != nil {
		return p, nil, err
	}
	group := j.st.GroupJID()
	done := func(ctx context.Context) {
		if _, invite := j.req.(protocol.RoomInvite); !invite {
			s.Reply(ctx, protocol.IQResult(j.st, nil))
		}
		// The room invites those it made members (§7.8.2, and §9.5's
		// SHOULD for additions to the member list).
		for _, inv := range p.Invite {
			s.Reply(ctx, protocol.InvitationMessage(group, j.st.ID, by, inv.Reason).For(inv.JID))
		}
	}
	return p, done, nil
}

// decideRoom decides a room request's commands together on its group's
// state, all or none, in the shard's batch; the answer follows the commit.
func (sh *shard) decideRoom(ctx context.Context, j job, b *batchState) {
	s, group := sh.s, j.st.Group()
	var refused error
	var done func(context.Context)
	events := 0
	meta := eventstore.Meta{From: j.st.From.String(), ID: j.st.ID}
	now := s.Now()
	err := b.groups.Change(ctx, group, meta, func(g *domain.Group) ([]domain.Event, error) {
		var p muc.Plan
		if p, done, refused = sh.roomPlan(g, j); refused != nil {
			return nil, refused
		}
		// Every command is judged on the group as it is: a request's
		// changes name distinct users, so one does not change what
		// another may do.
		var evs []domain.Event
		for _, c := range p.Commands {
			dec, err := domain.Decide(g, c, now, s.Limits)
			if err != nil {
				refused = err
				return nil, err
			}
			evs = append(evs, dec.Events...)
		}
		events = len(evs)
		return evs, nil
	})
	switch {
	case refused != nil:
		s.Reply(ctx, refusal(j, protocol.ErrorFor(refused)))
		return
	case err != nil:
		s.Log.Error("deciding on a group failed", "group", group, "err", err)
		s.Reply(ctx, refusal(j, protocol.ErrorFor(err)))
		return
	case events == 0:
		// Nothing to store: the state already is what was asked.
		done(ctx)
		return
	}
	j.done = done
	b.jobs[group] = append(b.jobs[group], j)
}
