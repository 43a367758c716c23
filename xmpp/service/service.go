package service

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/uuchat/groupchat/aggregate"
	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/internal/ratelimit"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/broadcast"
	"github.com/uuchat/groupchat/xmpp/directory"
	"github.com/uuchat/groupchat/xmpp/history"
	"github.com/uuchat/groupchat/xmpp/muc"
	"github.com/uuchat/groupchat/xmpp/multicast"
	"github.com/uuchat/groupchat/xmpp/presence"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/push"
	"github.com/uuchat/groupchat/xmpp/shard"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Config is what the service needs to know about itself.
type Config struct {
	// Domain is the service JID, e.g. groupchat.example.org.
	Domain string
	// Name is the service's name in service discovery.
	Name   string
	Limits domain.Limits
	// SystemAdmins are the bare JIDs allowed to create system groups.
	SystemAdmins []string
	// MessageRate (messages per second) and MessageBurst bound what one
	// sender may post; 0 disables the limit.
	MessageRate  float64
	MessageBurst int
	// Shards is the number of command workers.
	Shards int
	// MaxOutboundBytes is the largest stanza the XMPP server accepts from
	// the component; answers are paged to stay under it. 0 is unlimited.
	MaxOutboundBytes int
	// MaxRoomOccupants bounds the (resource, room) pairs of MUC clients
	// in groups' rooms; 0 is unlimited.
	MaxRoomOccupants int
	// GroupCacheBytes bounds the memory of the groups' states kept
	// between requests, half for deciding (shared among the shards) and
	// half for broadcasting; 0 keeps every group used since the start.
	// A group not in memory is folded from its stream when next needed.
	GroupCacheBytes int
	// Snapshots, if set, keeps the states of groups with long streams, so
	// that such a group is not folded from its start when first needed.
	Snapshots aggregate.Snapshots
	// Multicast, if set, looks for the XMPP server's multicast service
	// (XEP-0033) each time the link comes up; broadcasts (messages and
	// group changes) go through it when it is found.
	Multicast *multicast.Config
}

// Sender delivers outgoing stanzas (the component link).
type Sender interface {
	Send(ctx context.Context, o protocol.Outbound) error
}

// ReadModel is what the service is given of the projections: each of its
// parts' own read model (the history queries', the directory's) and what
// the service reads itself (Projected); one adapter (xmpp/readmodel)
// provides them all.
type ReadModel interface {
	history.ReadModel
	directory.ReadModel
	Projected
}

// Projected is what the service itself reads of the projections: how far
// they are, the messages a receipt or a retraction names, and who may set
// a push level.
type Projected interface {
	// Reads is what the shards read: how far the projections are (WaitFor
	// returns once everything up to a global position is projected) and
	// the messages a receipt, a retraction or a resend names.
	shard.Reads
	push.Membership
	// IsMember reports whether a user is a member of some live group.
	IsMember(ctx context.Context, jid string) (bool, error)
	// PreviousChange is the position of a group's last change before a
	// position.
	PreviousChange(ctx context.Context, group string, position uint64) (uint64, error)
}

// Service is the component's behaviour; see the package documentation.
type Service struct {
	cfg    Config
	store  eventstore.Store
	reads  Projected
	online *presence.Tracker
	log    *slog.Logger
	out    Sender
	now    func() time.Time

	// domain is the service's own address, which answers what was sent to
	// an address it cannot take as its own.
	domain  address.JID
	addr    protocol.Addresses
	shards  []*shard.Shard
	seed    maphash.Seed
	limiter *ratelimit.Limiter
	admins  map[string]bool
	queries chan func(context.Context)

	// broadcaster fans out each projected event; it is driven by the
	// projector's goroutine.
	broadcaster *broadcast.Broadcaster
	wg          sync.WaitGroup
	// push is the push notifier (nil: push requests are refused).
	push *push.Notifier
	// history answers catch-up, MAM and #readers on the query workers.
	history *history.Answerer
	// rooms is who is in which group's room through the XEP-0045 front
	// door.
	rooms *muc.Rooms
	// multicast finds the server's multicast service (nil: not looked for).
	multicast *multicast.Finder
	// directory answers discovery and the queries about groups and members.
	directory *directory.Answerer
}

// New returns a service; Load and Run start it, Attach gives it its link.
func New(cfg Config, store eventstore.Store, reads ReadModel, online *presence.Tracker, log *slog.Logger) *Service {
	if cfg.Shards <= 0 {
		cfg.Shards = 32
	}
	if cfg.Name == "" {
		cfg.Name = "Group Chat Service"
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Service{
		cfg: cfg, store: store, reads: reads, online: online, log: log, now: time.Now,
		seed:    maphash.MakeSeed(),
		limiter: ratelimit.New(cfg.MessageRate, cfg.MessageBurst),
		admins:  map[string]bool{},
		queries: make(chan func(context.Context), 1024),
	}
	s.domain, _ = address.Parse(cfg.Domain)
	s.addr = protocol.Addresses{Domain: cfg.Domain}
	// Who is a member of some group is the projections' to say: nothing
	// about every member is loaded at start. A failed read counts the
	// user in, so that a member misses no broadcast.
	online.AskMembership(func(bare string) bool {
		member, err := reads.IsMember(context.Background(), bare)
		return member || err != nil
	})
	// The requester's reply to an update goes through reply, like every
	// answer: one too large for the server becomes an error.
	s.broadcaster = broadcast.New(broadcast.Config{
		Addresses: s.addr, Limits: cfg.Limits, Logger: log, Changes: reads, CacheBytes: shareOf(cfg.GroupCacheBytes, 2),
		Snapshots: cfg.Snapshots,
	}, online, store, s.reply)
	// History replays events as the broadcaster rendered them and sends
	// MAM's results through the same edge as every reply.
	s.history = &history.Answerer{
		Reads: reads, Log: store, Render: s.broadcaster.Render, Addr: s.addr,
		MaxOutboundBytes: cfg.MaxOutboundBytes, Send: s.reply,
	}
	s.rooms = muc.NewRooms(cfg.MaxRoomOccupants)
	if cfg.Multicast != nil {
		mc := *cfg.Multicast
		if mc.Logger == nil {
			mc.Logger = log
		}
		s.multicast = multicast.New(mc)
		s.broadcaster.AttachMulticast(s.multicast)
	}
	s.broadcaster.AttachRooms(s.rooms)
	s.directory = &directory.Answerer{Addr: s.addr, Name: cfg.Name, MaxOutboundBytes: cfg.MaxOutboundBytes, Reads: reads}
	for _, a := range cfg.SystemAdmins {
		// Requesters are compared as normalized bare JIDs, so an
		// administrator written with capitals or a resource still counts.
		if j, err := address.Parse(strings.TrimSpace(a)); err == nil {
			a = j.Bare().String()
		}
		s.admins[a] = true
	}
	deps := &shard.Deps{
		Store: store, Reads: reads, Limits: cfg.Limits, Now: func() time.Time { return s.now() }, Addr: s.addr, Log: log,
		Reply: s.reply, Broadcaster: s.broadcaster, Directory: s.directory, History: s.history,
		Rooms: s.rooms, Online: online, CatchUp: s.catchUpProjections, Queries: s.queries,
		CacheBytes: shareOf(cfg.GroupCacheBytes/2, cfg.Shards), Snapshots: cfg.Snapshots,
	}
	for i := 0; i < cfg.Shards; i++ {
		s.shards = append(s.shards, shard.New(deps))
	}
	return s
}

// shareOf is one of n equal shares of a bound (0: no bound), never 0.
func shareOf(bound, n int) int {
	if bound <= 0 {
		return 0
	}
	return max(1, bound/n)
}

// Attach sets where outgoing stanzas go. Call it before Run.
func (s *Service) Attach(out Sender) {
	s.out = out
	s.broadcaster.Attach(out)
	if s.multicast != nil {
		s.multicast.Attach(out)
	}
}

// OnApplied broadcasts events the projections have just applied; the
// projector calls it on its goroutine.
func (s *Service) OnApplied(ctx context.Context, events []eventstore.RecordedEvent) {
	s.broadcaster.OnApplied(ctx, events)
}

// Load prepares the service to start, reading neither the whole log nor
// any group's stream: each shard learns the log's last position (for
// read-your-writes) and the push notifier the settings of every user who
// registered (their streams only). A group's state is folded from its
// stream when a request or a broadcast first needs it, and the online set
// asks the projections whether a user is a member of some group when it
// first sees one. Call it before Run and before the projector runs.
func (s *Service) Load(ctx context.Context) error {
	last, err := s.store.LastPosition(ctx)
	if err != nil {
		return err
	}
	for _, sh := range s.shards {
		sh.Seen(last)
	}
	if s.push == nil {
		return nil
	}
	return eventstore.ForEachStream(ctx, s.store, domain.PushStream(""), func(stream string) error {
		return s.push.Settings().Load(ctx, stream)
	})
}

// Run starts the workers and blocks until ctx ends and they have stopped.
func (s *Service) Run(ctx context.Context) error {
	if s.out == nil {
		return errors.New("service: no sender attached")
	}
	for _, sh := range s.shards {
		s.wg.Add(1)
		go func(sh *shard.Shard) {
			defer s.wg.Done()
			sh.Run(ctx)
		}(sh)
	}
	// A few workers answer the service-wide queries, which read the
	// projections and may wait for them to catch up.
	for i := 0; i < 4; i++ {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case q := <-s.queries:
					q(ctx)
				}
			}
		}()
	}
	<-ctx.Done()
	s.wg.Wait()
	return nil
}

func (s *Service) shardOf(group string) *shard.Shard {
	return s.shards[maphash.String(s.seed, group)%uint64(len(s.shards))]
}

// Connected is called when the link is (re-)established. Who was online is
// kept: a resource that left meanwhile (no unavailable presence arrives
// after a server restart) bounces the next delivery and is forgotten then,
// while one still connected keeps receiving without having to announce
// itself again. The search for the server's multicast service starts
// again: until it answers, broadcasts go one stanza per recipient.
func (s *Service) Connected(ctx context.Context) {
	if s.multicast != nil {
		// Not on the link's goroutine: the writer starts after this
		// returns, and the queue may be full after an outage.
		go s.multicast.Start(ctx)
	}
}

// HandleOversized answers a stanza that broke a size limit.
func (s *Service) HandleOversized(ctx context.Context, top *xmlnode.Node, err error) {
	st, perr := protocol.ParseStanza(top)
	e := protocol.ErrPolicyViolation.With("the stanza is too large or too deeply nested")
	if errors.Is(err, xmlnode.ErrInvalidName) {
		e = protocol.ErrBadRequest.With("the stanza uses a name that is not valid namespaced XML")
	}
	if perr != nil {
		e = protocol.ErrorFor(perr)
	}
	s.refuse(ctx, st, e)
}

// refuse answers a stanza with an error, if it may be answered at all. A
// stanza sent to an address the service cannot take as its own is
// answered from the service's address: an error from anything but a valid
// address of the component would make the server close the link.
func (s *Service) refuse(ctx context.Context, st protocol.Stanza, e *protocol.Error) {
	if !st.Answerable() {
		return
	}
	if st.To.IsZero() || st.To.Domainpart() != s.cfg.Domain {
		st.To = s.domain
	}
	s.reply(ctx, protocol.ErrorReply(st, e))
}

// HandleStanza takes one incoming stanza; it never blocks for long.
func (s *Service) HandleStanza(ctx context.Context, n *xmlnode.Node) {
	st, err := protocol.ParseStanza(n)
	if err != nil {
		s.refuse(ctx, st, protocol.ErrorFor(err))
		return
	}
	if protocol.IsMulticastReply(st) {
		if s.multicast != nil {
			s.multicast.Reply(ctx, st)
		}
		return
	}
	if s.multicast != nil && s.multicast.Refused(st) {
		// The refused broadcast still reaches whoever is online, in the
		// order the refusals come.
		s.broadcaster.MulticastRefused(ctx, st.To.String(), st.ID)
		return
	}
	if protocol.IsPushReply(st) {
		if s.push != nil {
			s.push.Reply(st)
		}
		return
	}
	req, err := protocol.Parse(st)
	if err != nil {
		s.refuse(ctx, st, protocol.ErrorFor(err))
		return
	}
	if req == nil {
		return // taken note of; nothing to answer
	}
	s.dispatch(ctx, st, req)
}

// The log messages of a stanza the link refused to write (the edge's
// check) or could not queue; tests watch for them.
const (
	LogDroppedReply     = "dropping a reply"
	LogDroppedBroadcast = broadcast.LogDroppedBroadcast
)

// reply sends one stanza. An IQ result too large for the server is
// answered with an error instead; anything else the edge refuses is
// dropped with a warning (and counted), never written.
func (s *Service) reply(ctx context.Context, o protocol.Outbound) {
	err := s.out.Send(ctx, o)
	if errors.Is(err, protocol.ErrOutboundTooLarge) {
		if e, ok := protocol.TooLargeReply(o, s.cfg.MaxOutboundBytes); ok {
			s.log.Warn("an answer is larger than the server accepts; refused instead", "to", o.To, "bytes", o.Size())
			err = s.out.Send(ctx, e)
		}
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn(LogDroppedReply, "to", o.To, "err", err)
	}
}
