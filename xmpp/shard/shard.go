package shard

import (
	"context"
	"errors"

	"github.com/uuchat/groupchat/aggregate"
	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/history"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// maxBatch bounds how many queued requests a shard decides before it
// appends them.
const maxBatch = 256

// maxConflictRetries bounds how often a group's requests are decided again
// after its append was refused because another writer (another instance on
// a shared store) appended to the group first.
const maxConflictRetries = 3

type job struct {
	st  protocol.Stanza
	req protocol.Request
	// done answers a request whose answer follows its commit (a room's
	// administration): it runs once the group's events are stored.
	done func(context.Context)
}

// shard owns the deciding state of a subset of the groups. Only its own
// goroutine uses groups (Load runs before it starts).
type shard struct {
	s      *Deps
	jobs   chan job
	groups *aggregate.Repository[*domain.Group]
	// lastPos is the global position of this shard's newest append, for
	// read-your-writes against the projections.
	lastPos uint64
}

// Shard decides the requests of the groups hashed to it, one batch at a
// time, in arrival order; see the package documentation.
type Shard struct{ sh *shard }

// New returns a shard working with d; Run starts it.
func New(d *Deps) *Shard {
	groups := aggregate.New(d.Store, aggregate.Config[*domain.Group]{
		New: func(string) *domain.Group { return domain.NewGroup(d.Limits) },
		// A group id stays taken once created, even deleted; a stream
		// without a creation is not worth remembering.
		Keep:      (*domain.Group).Created,
		MaxBytes:  d.CacheBytes,
		Size:      (*domain.Group).Size,
		Snapshots: d.Snapshots, Encode: (*domain.Group).Snapshot,
		Decode: func(_ string, data []byte) (*domain.Group, error) { return domain.RestoreGroup(d.Limits, data) },
	})
	return &Shard{&shard{s: d, jobs: make(chan job, 4096), groups: groups}}
}

// Enqueue queues a request about one of the shard's groups; it waits while
// the queue is full, unless ctx ends.
func (s *Shard) Enqueue(ctx context.Context, st protocol.Stanza, req protocol.Request) {
	select {
	case s.sh.jobs <- job{st: st, req: req}:
	case <-ctx.Done():
	}
}

// Seen notes the position of a stored event of one of the shard's groups
// while the service starts, before Run: read-your-writes waits for it. The
// group's state itself is folded from its stream when a request first
// needs it, so a start holds no group in memory.
func (s *Shard) Seen(position uint64) {
	if position > s.sh.lastPos {
		s.sh.lastPos = position
	}
}

// Run decides queued requests until ctx ends.
func (s *Shard) Run(ctx context.Context) { s.sh.run(ctx) }

func (sh *shard) run(ctx context.Context) {
	batch := make([]job, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case j := <-sh.jobs:
			batch = append(batch, j)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case j := <-sh.jobs:
				batch = append(batch, j)
			default:
				break drain
			}
		}
		sh.process(ctx, batch)
	}
}

// batchState is a batch of requests being decided: the events go to the
// groups' batch, the jobs wait for its commit to be answered or decided
// again.
type batchState struct {
	groups *aggregate.Batch[*domain.Group]
	jobs   map[string][]job
	after  []func(context.Context)
	// attempt counts how often these requests met a version conflict.
	attempt int
}

func (sh *shard) newBatch(attempt int) *batchState {
	return &batchState{groups: sh.groups.NewBatch(), jobs: map[string][]job{}, attempt: attempt}
}

func (sh *shard) process(ctx context.Context, batch []job) {
	b := sh.newBatch(0)
	for _, j := range batch {
		sh.handle(ctx, j, b)
	}
	sh.flush(ctx, b)
}

func (sh *shard) handle(ctx context.Context, j job, b *batchState) {
	switch r := j.req.(type) {
	case protocol.Read:
		if r.Marker != nil {
			// A displayed marker reaches the members as any signal does,
			// then counts as the reader's read.
			sh.handle(ctx, job{st: j.st, req: r.Marker}, b)
		}
		sh.decide(ctx, j, b)
	case protocol.GroupCommand, protocol.Post, protocol.Retract, protocol.Moderate:
		sh.decide(ctx, j, b)
	case protocol.Transient:
		// Live-only signals follow what was decided before them.
		sh.flush(ctx, b)
		sh.relay(ctx, j, r)
	case protocol.RoomJoin:
		sh.flush(ctx, b)
		sh.enterRoom(ctx, j, r, b)
	case protocol.NickChange:
		sh.flush(ctx, b)
		sh.changeNick(ctx, j, r)
	case protocol.RoomLeave:
		sh.flush(ctx, b)
		sh.exitRoom(ctx, j)
	case protocol.AdminChange, protocol.RoomConfigSubmit, protocol.RoomDestroy, protocol.RoomInvite, protocol.SubjectChange:
		sh.decideRoom(ctx, j, b)
	case protocol.AffiliationList, protocol.RoomConfigForm:
		sh.flush(ctx, b)
		sh.answerRoom(ctx, j)
	default:
		sh.flush(ctx, b)
		sh.answer(ctx, j)
	}
}

// quiet reports whether j's refusals go unanswered: the read a displayed
// marker implies (the marker itself was checked and answered already).
func quiet(j job) bool {
	r, ok := j.req.(protocol.Read)
	return ok && r.Marker != nil
}

// state returns the deciding state of a group, reloading it from the log
// if it is not in memory (after a failed append).
func (sh *shard) state(ctx context.Context, group string) (*domain.Group, error) {
	return sh.groups.Get(ctx, group)
}

func (sh *shard) decide(ctx context.Context, j job, b *batchState) {
	s := sh.s
	group, cmd := j.st.Group(), domain.Command(nil)
	switch r := j.req.(type) {
	case protocol.GroupCommand:
		group, cmd = r.Group, r.Command
	case protocol.Post:
		c, err := sh.withResent(ctx, group, r.Command)
		if err != nil {
			s.Log.Error("looking for a resent message failed", "group", group, "err", err)
			s.Reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
			return
		}
		cmd = c
	case protocol.Read:
		sh.flush(ctx, b)
		// Who may read comes before which message: a non-member learns
		// nothing about the group's messages, and is refused even when
		// nothing was posted yet.
		g, err := sh.state(ctx, group)
		if err == nil {
			_, err = domain.RequireMember(g, j.st.Requester(), "")
		}
		if err != nil {
			if !quiet(j) {
				s.Reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
			}
			return
		}
		ref, err := sh.resolveRead(ctx, group, r.MessageID)
		if err != nil {
			if !quiet(j) {
				s.Reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
			}
			return
		}
		if ref == nil {
			return // nothing posted yet: nothing to mark
		}
		cmd = domain.MarkRead{Reader: j.st.Requester(), Message: ref}
	case protocol.RoomJoin, protocol.AdminChange, protocol.RoomConfigSubmit, protocol.RoomDestroy, protocol.RoomInvite, protocol.SubjectChange:
		// Decided again after another writer's change.
		sh.decideRoom(ctx, j, b)
		return
	case protocol.Retract, protocol.Moderate:
		sh.flush(ctx, b)
		c, err := sh.retraction(ctx, j)
		if err != nil {
			s.Reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
			return
		}
		cmd = c
	}
	var dec domain.Decision
	var refused error
	meta := eventstore.Meta{From: j.st.From.String(), ID: j.st.ID}
	err := b.groups.Change(ctx, group, meta, func(g *domain.Group) ([]domain.Event, error) {
		dec, refused = domain.Decide(g, cmd, s.Now(), s.Limits)
		return dec.Events, refused
	})
	switch {
	case refused != nil && quiet(j):
		return
	case refused != nil:
		e := protocol.ErrorFor(refused)
		if _, mod := j.req.(protocol.Moderate); mod && domain.KindOf(refused) == domain.KindNotAllowed {
			// XEP-0425 §4.2, as MUC services answer a moderator without
			// the role.
			e = protocol.ErrForbidden.With(e.Text)
		}
		s.Reply(ctx, protocol.ErrorReply(j.st, e))
		return
	case err != nil:
		// The group could not be read from the log, or an event encoded.
		s.Log.Error("deciding on a group failed", "group", group, "err", err)
		s.Reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
		return
	case dec.Duplicate != nil:
		ref, st := *dec.Duplicate, j.st
		b.after = append(b.after, func(ctx context.Context) { sh.reflectOriginal(ctx, st, group, ref) })
		return
	}
	b.jobs[group] = append(b.jobs[group], j)
}

// flush commits the batch (every group's events appended together), then
// answers the requests of a group whose append failed, or decides them
// again after another writer's change.
func (sh *shard) flush(ctx context.Context, b *batchState) {
	if b.groups.Len() > 0 {
		var again, done []job
		for _, r := range b.groups.Commit(ctx) {
			jobs := b.jobs[r.ID]
			if r.Err != nil {
				// The group was dropped from memory: it is read from the
				// log next time.
				if errors.Is(r.Err, eventstore.ErrWrongExpectedVersion) && b.attempt < maxConflictRetries {
					// Someone else wrote to the group since it was loaded:
					// decide the same requests again on the group as stored.
					sh.s.Log.Info("group changed by another writer; deciding again", "group", r.ID, "err", r.Err)
					again = append(again, jobs...)
					continue
				}
				sh.s.Log.Error("appending events failed", "group", r.ID, "events", r.Events, "err", r.Err)
				for _, j := range jobs {
					if !quiet(j) {
						sh.s.Reply(ctx, refusal(j, protocol.ErrorFor(r.Err)))
					}
				}
				continue
			}
			if r.Position > sh.lastPos {
				sh.lastPos = r.Position
			}
			for _, j := range jobs {
				if j.done != nil {
					done = append(done, j)
				}
			}
		}
		clear(b.jobs)
		for _, j := range done {
			j.done(ctx)
		}
		if len(again) > 0 {
			retry := sh.newBatch(b.attempt + 1)
			for _, j := range again {
				sh.decide(ctx, j, retry)
			}
			sh.flush(ctx, retry)
		}
	}
	for _, f := range b.after {
		f(ctx)
	}
	b.after = nil
}

// withResent names in c the original of a resend that the group's window
// no longer holds, found in the projections' message index: the window
// keeps the last few messages of a group in memory, the index every one.
// The projections are waited for only when they do not yet hold the
// newest message the window forgot.
func (sh *shard) withResent(ctx context.Context, group string, c domain.PostMessage) (domain.PostMessage, error) {
	key := domain.ResendKey(c.OriginID, c.ID)
	if key == "" {
		return c, nil
	}
	g, err := sh.state(ctx, group)
	if err != nil || !g.Exists() {
		return c, nil // deciding refuses it
	}
	if _, ok := g.Recent(c.Sender, key); ok {
		return c, nil
	}
	forgotten, ok := g.Forgotten()
	if !ok {
		return c, nil
	}
	held, err := sh.s.Reads.HoldsMessage(ctx, group, forgotten)
	if err != nil {
		return c, err
	}
	if !held {
		if err := sh.s.Reads.WaitFor(ctx, sh.lastPos); err != nil {
			return c, err
		}
	}
	ref, found, err := sh.s.Reads.MessageResent(ctx, group, c.Sender, key)
	if err != nil || !found {
		return c, err
	}
	c.Resent = &ref
	return c, nil
}

// retraction turns a retraction or a moderation request into the domain's
// command, with the message it names: a sender names its own message (by
// the group's stanza-id, or by its own id), a moderator anyone's. Members
// only: a stranger learns nothing of the group's messages.
func (sh *shard) retraction(ctx context.Context, j job) (domain.RetractMessage, error) {
	c := domain.RetractMessage{By: j.st.Requester(), ID: j.st.ID}
	sender := c.By
	switch r := j.req.(type) {
	case protocol.Retract:
		c.Target, c.Body = r.Target, r.Body
	case protocol.Moderate:
		c.Target, c.Reason, c.Moderate, sender = r.Target, r.Reason, true, ""
	}
	g, err := sh.state(ctx, j.st.Group())
	if err == nil {
		_, err = domain.RequireMember(g, c.By, "")
	}
	if err != nil {
		return c, err
	}
	c.Message, err = sh.messageNamed(ctx, j.st.Group(), sender, c.Target)
	return c, err
}

// messageNamed finds the message id names in a group (history.MessageNamed)
// once the projections hold this shard's appends.
func (sh *shard) messageNamed(ctx context.Context, group, sender, id string) (*domain.MessageRef, error) {
	if err := sh.s.Reads.WaitFor(ctx, sh.lastPos); err != nil {
		return nil, err
	}
	ref, ok, err := history.MessageNamed(ctx, sh.s.Reads, group, sender, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, protocol.ErrNotExists.With("no such message in the group")
	}
	return &ref, nil
}

// resolveRead finds the message a read receipt names (see history.MessageNamed);
// "" means the group's latest message.
func (sh *shard) resolveRead(ctx context.Context, group, id string) (*domain.MessageRef, error) {
	if id == "" {
		g, err := sh.state(ctx, group)
		if err != nil || !g.Exists() {
			return nil, notExists(err)
		}
		if m, ok := g.LastMessage(); ok {
			return &m, nil
		}
		return nil, nil
	}
	return sh.messageNamed(ctx, group, "", id)
}

func notExists(err error) error {
	if err != nil {
		return err
	}
	return protocol.ErrNotExists.With("the group does not exist")
}

// reflectOriginal answers a resent message with the original's reflection,
// to the resending resource only: nothing is stored or fanned out again.
func (sh *shard) reflectOriginal(ctx context.Context, st protocol.Stanza, group string, ref domain.MessageRef) {
	o, err := sh.s.Broadcaster.Stored(ctx, group, ref.Version)
	if err != nil {
		sh.s.Log.Error("reading a resent message's original failed", "group", group, "version", ref.Version, "err", err)
		sh.s.Reply(ctx, protocol.ErrorReply(st, protocol.ErrorFor(err)))
		return
	}
	sh.s.Reply(ctx, o.For(st.From.String()))
}

// relay delivers a live-only message to every online resource of the
// group's members, as MUC relays chat states; nothing is stored.
func (sh *shard) relay(ctx context.Context, j job, r protocol.Transient) {
	g, err := sh.state(ctx, r.Group)
	if err != nil {
		sh.s.Reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
		return
	}
	me, err := domain.RequireMember(g, j.st.Requester(), domain.Write)
	if err != nil {
		sh.s.Reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
		return
	}
	sh.s.Broadcaster.FanOut(ctx, r.Group, protocol.TransientMessage(sh.s.Addr.Occupant(r.Group, me.MID), j.st.ID, r.Payload), g.Members())
}

// answer replies to a query about one group from the shard's state, which
// reflects every command received before it.
func (sh *shard) answer(ctx context.Context, j job) {
	s := sh.s
	g, err := sh.state(ctx, j.st.Group())
	var payload []byte
	if err == nil {
		payload, err = s.Directory.Group(g, j.st, j.req)
	}
	if err != nil {
		s.Reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
		return
	}
	s.Reply(ctx, protocol.IQResult(j.st, payload))
}
