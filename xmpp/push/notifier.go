package push

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Config is what the notifier needs to know.
type Config struct {
	// Domain is the service JID: the publishes' from.
	Domain string
	// Interval is the least time between two notifications to one member;
	// the first message of a burst waits this long for the rest.
	Interval time.Duration
	// MaxFailures is how many publishes in a row one registration may see
	// fail (error or no answer) before it is disabled.
	MaxFailures int
	// ReplyTimeout is how long an app server has to answer a publish.
	ReplyTimeout time.Duration
	// QueueSize bounds the messages waiting for the notifier; beyond it
	// they are dropped (and counted), never waited for.
	QueueSize int
}

// DefaultConfig is the notifier's configuration unless told otherwise.
func DefaultConfig() Config {
	return Config{Interval: 3 * time.Second, MaxFailures: 5, ReplyTimeout: 30 * time.Second, QueueSize: 4096}
}

// Presence tells whether a member has an online resource.
type Presence interface {
	IsOnline(bare string) bool
}

// RoomPresence tells whether a member is in a group's room through the
// XEP-0045 front door, where it sees the group's messages live.
type RoomPresence interface {
	Present(group, bare string) bool
}

// Sender delivers outgoing stanzas (the component link).
type Sender interface {
	Send(ctx context.Context, o protocol.Outbound) error
}

// Stats are the notifier's counts since start.
type Stats struct {
	// Queued counts messages taken for a member's notification; Dropped
	// those refused because the queue was full.
	Queued, Dropped uint64
	// Published counts publishes sent; Delivered those the app server
	// acknowledged, Failed those it answered with an error, TimedOut those
	// it did not answer within the reply timeout.
	Published, Delivered, Failed, TimedOut uint64
	// Disabled counts registrations disabled after repeated failures.
	Disabled uint64
}

type counters struct {
	queued, dropped, published, delivered, failed, timedOut, disabled atomic.Uint64
}

// reply is an app server's answer to a publish.
type reply struct {
	id, from string
	// err is the error's condition, empty for a result.
	err string
}

// flight is a publish waiting for its answer.
type flight struct {
	user, jid, node string
	deadline        time.Time
}

type target struct{ user, jid, node string }

// Notifier publishes XEP-0357 notifications; see the package documentation.
// Message and Reply are called from other goroutines and never block; Run
// owns everything else.
type Notifier struct {
	cfg      Config
	settings *Settings
	online   Presence
	rooms    RoomPresence
	out      Sender
	log      *slog.Logger
	now      func() time.Time

	notes   chan Note
	replies chan reply
	stats   counters

	// Owned by Run.
	co       *Coalescer
	inflight map[string]flight
	// earliest is the earliest deadline in inflight (zero if none): the
	// publishes are scanned for expiry only once it has passed.
	earliest time.Time
	failures map[target]int
	seq      uint64
}

// NewNotifier returns a notifier over settings; Attach gives it its link,
// Run starts it.
func NewNotifier(cfg Config, settings *Settings, online Presence, log *slog.Logger) *Notifier {
	d := DefaultConfig()
	if cfg.Interval <= 0 {
		cfg.Interval = d.Interval
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = d.MaxFailures
	}
	if cfg.ReplyTimeout <= 0 {
		cfg.ReplyTimeout = d.ReplyTimeout
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = d.QueueSize
	}
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{
		cfg: cfg, settings: settings, online: online, log: log.With("component", "push"), now: time.Now,
		notes:    make(chan Note, cfg.QueueSize),
		replies:  make(chan reply, cfg.QueueSize),
		co:       NewCoalescer(cfg.Interval),
		inflight: map[string]flight{},
		failures: map[target]int{},
	}
}

// AttachRooms tells the notifier who is in which group's room: a member
// chatting there is not woken for that group's messages. Call it before
// Run.
func (n *Notifier) AttachRooms(r RoomPresence) { n.rooms = r }

// Attach sets where publishes go. Call it before Run.
func (n *Notifier) Attach(out Sender) { n.out = out }

// Settings are the users' push settings the notifier follows.
func (n *Notifier) Settings() *Settings { return n.settings }

// Stats returns the counts so far.
func (n *Notifier) Stats() Stats {
	c := &n.stats
	return Stats{
		Queued: c.queued.Load(), Dropped: c.dropped.Load(),
		Published: c.published.Load(), Delivered: c.delivered.Load(), Failed: c.failed.Load(), TimedOut: c.timedOut.Load(),
		Disabled: c.disabled.Load(),
	}
}

// Message offers a committed message of group, sent from the occupant JID
// sender, to the members that may need waking: not its sender, with a
// registration, whose level for the group lets it through, and with no
// online resource. It never blocks: when the queue is full the message is
// dropped for that member and counted. A message that is not counted as
// unread (a correction, a reaction) wakes nobody.
func (n *Notifier) Message(group, sender string, m domain.MessagePosted, members []domain.Member) {
	if !m.Counted() {
		return
	}
	var wake []string
	n.settings.mu.RLock()
	for _, mb := range members {
		if mb.JID != m.Sender && n.settings.wantsLocked(mb.JID, group, mentions(m, mb.JID)) {
			wake = append(wake, mb.JID)
		}
	}
	n.settings.mu.RUnlock()
	for _, user := range wake {
		if n.online.IsOnline(user) || n.rooms != nil && n.rooms.Present(group, user) {
			continue
		}
		select {
		case n.notes <- Note{User: user, Sender: sender, Body: m.Body}:
			n.stats.queued.Add(1)
		default:
			n.stats.dropped.Add(1)
		}
	}
}

func mentions(m domain.MessagePosted, jid string) bool {
	for _, j := range m.Mentions {
		if j == jid {
			return true
		}
	}
	return false
}

// Reply takes an app server's answer to a publish (protocol.IsPushReply).
// It never blocks: an answer that finds the queue full is dropped and its
// publish times out.
func (n *Notifier) Reply(st protocol.Stanza) {
	r := reply{id: st.ID, from: st.From.String()}
	if st.Type == "error" {
		r.err = conditionOf(st.Node.Child("", "error"))
	}
	select {
	case n.replies <- r:
	default:
	}
}

// conditionOf is the defined condition of a stanza error element.
func conditionOf(e *xmlnode.Node) string {
	if e == nil {
		return "undefined-condition"
	}
	for _, c := range e.Children {
		if c.Name.Space == protocol.NSStanzas && c.Name.Local != "text" {
			return c.Name.Local
		}
	}
	return "undefined-condition"
}

// Run publishes until ctx ends.
func (n *Notifier) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case note := <-n.notes:
			n.co.Add(note, n.now())
		case r := <-n.replies:
			n.answer(ctx, r)
		case <-timer.C:
		}
		now := n.now()
		for _, b := range n.co.Due(now) {
			n.publish(ctx, b, now)
		}
		if !n.earliest.IsZero() && !now.Before(n.earliest) {
			n.earliest = n.expire(ctx, now)
		}
		next := n.earliest
		if due, ok := n.co.Next(); ok && (next.IsZero() || due.Before(next)) {
			next = due
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if !next.IsZero() {
			timer.Reset(max(next.Sub(now), time.Millisecond))
		}
	}
}

// publish sends a batch to every registration of its member, unless the
// member came online meanwhile: it sees the messages live then.
func (n *Notifier) publish(ctx context.Context, b Batch, now time.Time) {
	if n.online.IsOnline(b.User) {
		return
	}
	for _, reg := range n.settings.Registrations(b.User) {
		n.seq++
		id := protocol.PushID(strconv.FormatUint(n.seq, 36))
		sum := protocol.Summary{MessageCount: b.Count, LastSender: b.LastSender}
		if reg.IncludeBody {
			sum.LastBody = b.LastBody
		}
		o := protocol.PushPublish(n.cfg.Domain, id, reg.Node, sum, reg.PublishOptions).For(reg.JID)
		deadline := now.Add(n.cfg.ReplyTimeout)
		n.inflight[id] = flight{user: b.User, jid: reg.JID, node: reg.Node, deadline: deadline}
		if n.earliest.IsZero() || deadline.Before(n.earliest) {
			n.earliest = deadline
		}
		if err := n.out.Send(ctx, o); err != nil {
			delete(n.inflight, id)
			return
		}
		n.stats.published.Add(1)
	}
}

// answer settles the publish an answer is for. Answers to unknown ids (too
// late, or never asked) and from another address than the one published
// to are ignored.
func (n *Notifier) answer(ctx context.Context, r reply) {
	f, ok := n.inflight[r.id]
	if !ok || f.jid != r.from {
		return
	}
	delete(n.inflight, r.id)
	t := target{f.user, f.jid, f.node}
	if r.err == "" {
		n.stats.delivered.Add(1)
		delete(n.failures, t)
		return
	}
	n.stats.failed.Add(1)
	n.fail(ctx, t, r.err)
}

// expire fails the publishes past their deadline and returns the earliest
// deadline still waiting (zero if none).
func (n *Notifier) expire(ctx context.Context, now time.Time) time.Time {
	var next time.Time
	for id, f := range n.inflight {
		if !f.deadline.After(now) {
			delete(n.inflight, id)
			n.stats.timedOut.Add(1)
			n.fail(ctx, target{f.user, f.jid, f.node}, "timeout")
			continue
		}
		if next.IsZero() || f.deadline.Before(next) {
			next = f.deadline
		}
	}
	return next
}

// fail counts a failure of a target and disables it at MaxFailures in a
// row, recording the change as an event.
func (n *Notifier) fail(ctx context.Context, t target, why string) {
	n.failures[t]++
	count := n.failures[t]
	n.log.Debug("push publish failed", "user", t.user, "jid", t.jid, "node", t.node, "error", why, "in_a_row", count)
	if count < n.cfg.MaxFailures {
		return
	}
	delete(n.failures, t)
	if err := n.settings.Do(ctx, domain.DisablePush{User: t.user, JID: t.jid, Node: t.node, Reason: domain.DisabledFailing}); err != nil {
		n.log.Error("cannot disable a failing push target", "user", t.user, "jid", t.jid, "node", t.node, "err", err)
		return
	}
	n.stats.disabled.Add(1)
	n.log.Warn("push target disabled after repeated failures", "user", t.user, "jid", t.jid, "node", t.node, "failures", count, "last_error", why)
}
