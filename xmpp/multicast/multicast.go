// Package multicast finds the XMPP server's multicast service (XEP-0033
// Extended Stanza Addressing), through which a broadcast is sent as one
// stanza per batch of recipients instead of one per recipient.
//
// Each time the component link comes up the search starts again
// (XEP-0033 §2): disco#info to the server's domain; if it does not offer
// the http://jabber.org/protocol/address feature, disco#items of the
// server's domain and disco#info of each item; the first entity with the
// feature is the service. Its limit of addresses per message is read from
// the XEP-0128 form of its disco#info (FORM_TYPE
// http://jabber.org/protocol/address, field "message", as ejabberd's
// mod_multicast writes it), else the configured one. Until an answer
// names a service, or when none does, Service reports none and
// broadcasts go one stanza per recipient.
package multicast

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/uuchat/groupchat/xmpp/protocol"
)

// The log messages of the search's outcome; tests read them.
const (
	LogFound   = "multicast service found"
	LogNone    = "no multicast service; broadcasts go one stanza per recipient"
	LogRefused = "the multicast service refused a broadcast; one stanza per recipient until the link comes up again"
)

// Config configures the search.
type Config struct {
	// Domain is the component's domain (the requests' from).
	Domain string
	// Server is the XMPP server's domain, asked first.
	Server string
	// MaxAddresses is the limit of addresses per stanza when the service
	// does not state one.
	MaxAddresses int
	Logger       *slog.Logger
}

// Sender sends the discovery requests (the component link).
type Sender interface {
	Send(ctx context.Context, o protocol.Outbound) error
}

// found is the service of one search.
type found struct {
	jid   string
	limit int
}

// Finder searches for the multicast service and holds the answer. Service
// is safe for concurrent use; Start and Reply run on the link's reader.
type Finder struct {
	cfg Config
	log *slog.Logger
	out Sender

	current atomic.Pointer[found]
	// dropped is the service this connection stopped using after a
	// refusal: its refusals of stanzas sent before still arrive.
	dropped atomic.Pointer[string]

	mu sync.Mutex
	// round numbers the searches: answers to an earlier one are ignored.
	round uint64
	// pending are the requests of the round not yet answered, by id: the
	// entity asked and whether it was a disco#items request.
	pending map[string]request
	next    int
}

type request struct {
	to    string
	items bool
}

// New returns a finder; Attach gives it its link.
func New(cfg Config) *Finder {
	if cfg.MaxAddresses <= 0 {
		cfg.MaxAddresses = 20
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Finder{cfg: cfg, log: log}
}

// Attach sets where the requests go. Call it before Start.
func (f *Finder) Attach(out Sender) { f.out = out }

// Service is the multicast service's JID and the most addresses one
// stanza to it may carry; "" while none is known.
func (f *Finder) Service() (jid string, limit int) {
	if c := f.current.Load(); c != nil {
		return c.jid, c.limit
	}
	return "", 0
}

// Start begins a new search, forgetting the last one's answer: call it
// each time the link comes up (the server may have changed).
func (f *Finder) Start(ctx context.Context) {
	f.current.Store(nil)
	f.dropped.Store(nil)
	f.mu.Lock()
	f.round++
	f.pending = map[string]request{}
	f.next = 0
	f.mu.Unlock()
	f.ask(ctx, f.cfg.Server, false)
}

// ask sends one request of the current round.
func (f *Finder) ask(ctx context.Context, to string, items bool) {
	f.mu.Lock()
	id := protocol.MulticastID(f.round, f.next)
	f.next++
	f.pending[id] = request{to: to, items: items}
	f.mu.Unlock()
	ns := protocol.NSDiscoInfo
	if items {
		ns = protocol.NSDiscoItems
	}
	if err := f.out.Send(ctx, protocol.MulticastQuery(f.cfg.Domain, to, id, ns)); err != nil && ctx.Err() == nil {
		f.log.Warn("cannot ask for the multicast service", "to", to, "err", err)
		f.answered(id)
	}
}

// answered forgets a request; the round ends without a service when none
// is left.
func (f *Finder) answered(id string) {
	f.mu.Lock()
	delete(f.pending, id)
	done := len(f.pending) == 0
	f.mu.Unlock()
	if done && f.current.Load() == nil {
		f.log.Info(LogNone, "server", f.cfg.Server)
	}
}

// Reply takes an answer to one of the search's requests
// (protocol.IsMulticastReply).
func (f *Finder) Reply(ctx context.Context, st protocol.Stanza) {
	f.mu.Lock()
	round, _ := protocol.MulticastRound(st.ID)
	req, ok := f.pending[st.ID]
	if round != f.round || !ok || f.current.Load() != nil {
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	// An answer must come from the entity asked.
	if st.From.String() != req.to {
		return
	}
	if st.Type == "result" && req.items {
		for _, j := range protocol.ParseDiscoItems(st.Node) {
			if j != f.cfg.Domain && j != f.cfg.Server {
				f.ask(ctx, j, false)
			}
		}
	}
	if st.Type == "result" && !req.items {
		if mi := protocol.ParseMulticastInfo(st.Node); mi.Supported {
			limit := mi.MessageLimit
			if limit <= 0 {
				limit = f.cfg.MaxAddresses
			}
			f.current.Store(&found{jid: req.to, limit: limit})
			f.log.Info(LogFound, "service", req.to, "max_addresses", limit)
		}
	}
	// The server's own disco#info (answered or not) leads to its items.
	if req.to == f.cfg.Server && !req.items && f.current.Load() == nil {
		f.ask(ctx, f.cfg.Server, true)
	}
	f.answered(st.ID)
}

// Refused takes an error stanza; it reports whether the error came from
// the multicast service, which refused a broadcast as a whole (its access
// or relay rule, its limit: ejabberd answers forbidden or not-acceptable;
// a recipient's bounce comes from the recipient). The service is then no
// longer used until the next search, so that later broadcasts are not
// refused alike; the refusals of the stanzas already sent to it are
// still recognised until then.
func (f *Finder) Refused(st protocol.Stanza) bool {
	if st.Type != "error" || st.Kind == "iq" {
		return false
	}
	from := st.From.String()
	if d := f.dropped.Load(); d != nil && *d == from {
		return true
	}
	c := f.current.Load()
	if c == nil || from != c.jid {
		return false
	}
	if f.current.CompareAndSwap(c, nil) {
		f.dropped.Store(&c.jid)
		f.log.Warn(LogRefused, "service", c.jid, "stanza", st.Kind, "id", st.ID)
	}
	return true
}
