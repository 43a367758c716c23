package service

import (
	"context"
	"errors"
	"sync"

	"github.com/google/uuid"

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
}

// shard owns the deciding state of a subset of the groups. Only its own
// goroutine touches groups and lastMsg (Load runs before it starts).
type shard struct {
	s       *Service
	jobs    chan job
	groups  map[string]*domain.Group
	lastMsg map[string]domain.MessageRef
	// lastPos is the global position of this shard's newest append, for
	// read-your-writes against the projections.
	lastPos uint64
}

func newShard(s *Service) *shard {
	return &shard{s: s, jobs: make(chan job, 4096), groups: map[string]*domain.Group{}, lastMsg: map[string]domain.MessageRef{}}
}

func (sh *shard) enqueue(ctx context.Context, j job) {
	select {
	case sh.jobs <- j:
	case <-ctx.Done():
	}
}

// load applies a stored event while the service starts.
func (sh *shard) load(re eventstore.RecordedEvent, e domain.Event) {
	g := sh.groups[re.Stream]
	if g == nil {
		g = domain.NewGroup(sh.s.cfg.Limits)
		sh.groups[re.Stream] = g
	}
	g.Apply(e)
	if m, ok := e.(domain.MessagePosted); ok {
		sh.lastMsg[re.Stream] = domain.MessageRef{ID: m.ID, Version: re.Version, Sender: m.Sender}
	}
	if re.Position > sh.lastPos {
		sh.lastPos = re.Position
	}
}

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

// pendingGroup collects the events decided for one group in a batch.
type pendingGroup struct {
	start   uint64 // the group's version before the batch
	events  []eventstore.EventData
	jobs    []job
	lastMsg *domain.MessageRef
}

type batchState struct {
	groups map[string]*pendingGroup
	order  []string
	after  []func(context.Context)
	// attempt counts how often these requests met a version conflict.
	attempt int
}

func (sh *shard) process(ctx context.Context, batch []job) {
	b := &batchState{groups: map[string]*pendingGroup{}}
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
	case protocol.GroupCommand, protocol.Post:
		sh.decide(ctx, j, b)
	case protocol.Transient:
		// Live-only signals follow what was decided before them.
		sh.flush(ctx, b)
		sh.relay(ctx, j, r)
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
	if g := sh.groups[group]; g != nil {
		return g, nil
	}
	g := domain.NewGroup(sh.s.cfg.Limits)
	var from uint64
	for {
		evs, err := sh.s.store.ReadStream(ctx, group, from, 4096)
		if err != nil {
			return nil, err
		}
		for _, re := range evs {
			e, err := domain.DecodeEvent(re.Type, re.Data)
			if err != nil {
				return nil, err
			}
			g.Apply(e)
			if m, ok := e.(domain.MessagePosted); ok {
				sh.lastMsg[group] = domain.MessageRef{ID: m.ID, Version: re.Version, Sender: m.Sender}
			}
			from = re.Version + 1
		}
		if len(evs) < 4096 {
			break
		}
	}
	if g.Created() {
		sh.groups[group] = g
	}
	return g, nil
}

func (sh *shard) decide(ctx context.Context, j job, b *batchState) {
	s := sh.s
	group, cmd := j.st.Group(), domain.Command(nil)
	switch r := j.req.(type) {
	case protocol.GroupCommand:
		group, cmd = r.Group, r.Command
	case protocol.Post:
		cmd = r.Command
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
				s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
			}
			return
		}
		ref, err := sh.resolveRead(ctx, group, r.MessageID)
		if err != nil {
			if !quiet(j) {
				s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
			}
			return
		}
		if ref == nil {
			return // nothing posted yet: nothing to mark
		}
		cmd = domain.MarkRead{Reader: j.st.Requester(), Message: ref}
	}
	g, err := sh.state(ctx, group)
	if err != nil {
		s.log.Error("loading a group failed", "group", group, "err", err)
		s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
		return
	}
	dec, err := domain.Decide(g, cmd, s.now(), s.cfg.Limits)
	if err != nil {
		if !quiet(j) {
			s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
		}
		return
	}
	if dec.Duplicate != nil {
		ref, st := *dec.Duplicate, j.st
		b.after = append(b.after, func(ctx context.Context) { sh.reflectOriginal(ctx, st, group, ref) })
		return
	}
	meta := eventstore.EncodeMeta(eventstore.Meta{From: j.st.From.String(), ID: j.st.ID})
	p := b.groups[group]
	if p == nil {
		p = &pendingGroup{start: g.Version()}
		b.groups[group] = p
		b.order = append(b.order, group)
	}
	for _, e := range dec.Events {
		typ, data, err := domain.EncodeEvent(e)
		if err != nil {
			s.log.Error("encoding an event failed", "type", e.EventType(), "err", err)
			s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrInternal.With("")))
			return
		}
		if m, ok := e.(domain.MessagePosted); ok {
			p.lastMsg = &domain.MessageRef{ID: m.ID, Version: g.Version(), Sender: m.Sender}
		}
		g.Apply(e)
		p.events = append(p.events, eventstore.EventData{ID: newEventID(), Type: typ, Data: data, Metadata: meta})
	}
	sh.groups[group] = g
	p.jobs = append(p.jobs, j)
}

// flush appends every group's pending events, concurrently so that the
// store commits them together.
func (sh *shard) flush(ctx context.Context, b *batchState) {
	if len(b.order) > 0 {
		type result struct {
			res eventstore.AppendResult
			err error
		}
		results := make([]result, len(b.order))
		var wg sync.WaitGroup
		for i, group := range b.order {
			p := b.groups[group]
			expected := eventstore.NoStream()
			if p.start > 0 {
				expected = eventstore.Exact(p.start - 1)
			}
			wg.Add(1)
			go func(i int, group string) {
				defer wg.Done()
				r, err := sh.s.store.Append(ctx, group, expected, p.events...)
				results[i] = result{r, err}
			}(i, group)
		}
		wg.Wait()
		var again []job
		for i, group := range b.order {
			p, r := b.groups[group], results[i]
			if r.err != nil {
				delete(sh.groups, group) // reload from the log next time
				delete(sh.lastMsg, group)
				if errors.Is(r.err, eventstore.ErrWrongExpectedVersion) && b.attempt < maxConflictRetries {
					// Someone else wrote to the group since it was loaded:
					// decide the same requests again on the group as stored.
					sh.s.log.Info("group changed by another writer; deciding again", "group", group, "err", r.err)
					again = append(again, p.jobs...)
					continue
				}
				sh.s.log.Error("appending events failed", "group", group, "events", len(p.events), "err", r.err)
				for _, j := range p.jobs {
					if !quiet(j) {
						sh.s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(r.err)))
					}
				}
				continue
			}
			if r.res.Position > sh.lastPos {
				sh.lastPos = r.res.Position
			}
			if p.lastMsg != nil {
				sh.lastMsg[group] = *p.lastMsg
			}
		}
		b.groups, b.order = map[string]*pendingGroup{}, nil
		if len(again) > 0 {
			retry := &batchState{groups: map[string]*pendingGroup{}, attempt: b.attempt + 1}
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

// resolveRead finds the message a read receipt names (see history.MessageNamed);
// "" means the group's latest message.
func (sh *shard) resolveRead(ctx context.Context, group, id string) (*domain.MessageRef, error) {
	if id == "" {
		if m, ok := sh.lastMsg[group]; ok {
			return &m, nil
		}
		if g, err := sh.state(ctx, group); err != nil || !g.Exists() {
			return nil, notExists(err)
		}
		return nil, nil
	}
	if err := sh.s.reads.WaitFor(ctx, sh.lastPos); err != nil {
		return nil, err
	}
	ref, ok, err := history.MessageNamed(ctx, sh.s.reads, group, "", id)
	if err != nil {
		return nil, err
	}
	if ok {
		return &ref, nil
	}
	return nil, protocol.ErrNotExists.With("no such message in the group")
}

func notExists(err error) error {
	if err != nil {
		return err
	}
	return protocol.ErrNotExists.With("the group does not exist")
}

// messageAt reads the message stored at a group's version, and its
// position in the log.
func (sh *shard) messageAt(ctx context.Context, group string, version uint64) (domain.MessagePosted, uint64, error) {
	evs, err := sh.s.store.ReadStream(ctx, group, version, 1)
	if err != nil {
		return domain.MessagePosted{}, 0, err
	}
	if len(evs) == 1 && evs[0].Version == version {
		e, err := domain.DecodeEvent(evs[0].Type, evs[0].Data)
		if err != nil {
			return domain.MessagePosted{}, 0, err
		}
		if m, ok := e.(domain.MessagePosted); ok {
			return m, evs[0].Position, nil
		}
	}
	return domain.MessagePosted{}, 0, protocol.ErrNotExists.With("no such message in the group")
}

// reflectOriginal answers a resent message with the original's reflection,
// to the resending resource only: nothing is stored or fanned out again.
func (sh *shard) reflectOriginal(ctx context.Context, st protocol.Stanza, group string, ref domain.MessageRef) {
	m, pos, err := sh.messageAt(ctx, group, ref.Version)
	if err != nil {
		sh.s.log.Error("reading a resent message's original failed", "group", group, "version", ref.Version, "err", err)
		sh.s.reply(ctx, protocol.ErrorReply(st, protocol.ErrorFor(err)))
		return
	}
	o := protocol.GroupMessage(sh.s.addr.Occupant(group, m.MID), sh.s.addr.Group(group), m, protocol.ArchiveID(pos))
	sh.s.reply(ctx, o.For(st.From.String()))
}

// relay delivers a live-only message to every online resource of the
// group's members, as MUC relays chat states; nothing is stored.
func (sh *shard) relay(ctx context.Context, j job, r protocol.Transient) {
	g, err := sh.state(ctx, r.Group)
	if err != nil {
		sh.s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
		return
	}
	me, err := domain.RequireMember(g, j.st.Requester(), domain.Write)
	if err != nil {
		sh.s.reply(ctx, protocol.ErrorReply(j.st, protocol.ErrorFor(err)))
		return
	}
	sh.s.broadcaster.FanOut(ctx, protocol.TransientMessage(sh.s.addr.Occupant(r.Group, me.MID), j.st.ID, r.Payload), g.Members())
}

// newEventID returns a time-ordered (version 7) UUID: consecutive events
// land on the same pages of the store's id index, which roughly halves the
// index pages a group commit writes compared with random ids.
func newEventID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
