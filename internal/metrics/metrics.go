package metrics

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// The metric names, for the README and for readers of Gather's output.
const (
	EventsAppended = "groupchat_events_appended_total"
	AppendSeconds  = "groupchat_append_duration_seconds"
	AppendErrors   = "groupchat_append_errors_total"
	FanoutStanzas  = "groupchat_fanout_stanzas_total"
	// MulticastAddresses counts the recipients of the stanzas sent
	// through the server's multicast service (XEP-0033): the deliveries
	// those stanzas (counted in FanoutStanzas) stand for.
	MulticastAddresses = "groupchat_multicast_addresses_total"
	ErrorsAnswered     = "groupchat_errors_total"
	CatchupRequests    = "groupchat_catchup_requests_total"
	OutboundRefused    = "groupchat_outbound_refused_total"
	OnlineResources    = "groupchat_online_resources"
	ProjectionLag      = "groupchat_projection_lag_events"
	Groups             = "groupchat_groups"
	LinkConnected      = "groupchat_link_connected"
	OutgoingQueueLen   = "groupchat_outgoing_queue_length"
	LinkBytesWritten   = "groupchat_link_bytes_written_total"

	PushQueued    = "groupchat_push_queued_total"
	PushDropped   = "groupchat_push_dropped_total"
	PushPublished = "groupchat_push_published_total"
	PushDelivered = "groupchat_push_delivered_total"
	PushFailed    = "groupchat_push_failed_total"
	PushTimedOut  = "groupchat_push_timed_out_total"
	PushDisabled  = "groupchat_push_disabled_total"
)

// Metrics holds the daemon's collectors in their own registry.
type Metrics struct {
	// Registry is what /metrics serves.
	Registry *prometheus.Registry

	appended      *prometheus.CounterVec
	appendSeconds prometheus.Histogram
	appendErrors  prometheus.Counter
	fanout        prometheus.Counter
	mcAddresses   prometheus.Counter
	errors        *prometheus.CounterVec
	catchups      prometheus.Counter
	refused       *prometheus.CounterVec
}

// New returns the daemon's metrics, with Go's runtime and process metrics
// registered beside them.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		appended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: EventsAppended, Help: "Events appended to the log, by event type (MessagePosted, GroupCreated, ...).",
		}, []string{"type"}),
		appendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: AppendSeconds, Help: "Time an append takes until its events are durable (group commit included).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		appendErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: AppendErrors, Help: "Appends the store failed (conflicts and I/O errors).",
		}),
		fanout: prometheus.NewCounter(prometheus.CounterOpts{
			Name: FanoutStanzas, Help: "Messages and presences handed to the server link for members' resources (broadcasts, reflections, forwarded receipts).",
		}),
		mcAddresses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MulticastAddresses, Help: "Recipients of the stanzas sent through the XMPP server's multicast service (XEP-0033), each one delivery by the server.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ErrorsAnswered, Help: "Error stanzas answered, by RFC 6120 condition.",
		}, []string{"condition"}),
		catchups: prometheus.NewCounter(prometheus.CounterOpts{
			Name: CatchupRequests, Help: "Catch-up requests (#catchup IQs) received.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: OutboundRefused, Help: "Stanzas the link refused to write because the XMPP server would refuse them, by reason (from, to, address, size); none should ever be.",
		}, []string{"reason"}),
	}
	m.Registry.MustRegister(m.appended, m.appendSeconds, m.appendErrors, m.fanout, m.mcAddresses, m.errors, m.catchups, m.refused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Gauges are read on each scrape; a nil function is left out.
type Gauges struct {
	// Online is the number of online resources.
	Online func() int
	// Lag is how many events the store holds beyond the projections'
	// checkpoint.
	Lag func(ctx context.Context) (uint64, error)
	// Groups is the number of live groups.
	Groups func(ctx context.Context) (int, error)
	// Connected tells whether the component link is up.
	Connected func() bool
	// QueueLen is the number of stanzas waiting to be written to the link.
	QueueLen func() int
	// BytesWritten is the number of stanza bytes written to the link.
	BytesWritten func() uint64
}

// gaugeTimeout bounds a gauge that queries a database during a scrape.
const gaugeTimeout = 2 * time.Second

// Watch registers the gauges. A gauge whose query fails reads as -1, so a
// broken store shows on a dashboard instead of freezing at its last value.
func (m *Metrics) Watch(g Gauges) {
	if g.Online != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: OnlineResources, Help: "Resources of members online for the service.",
		}, func() float64 { return float64(g.Online()) }))
	}
	if g.Lag != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: ProjectionLag, Help: "Events in the log not yet projected (the store's last position minus the projections' checkpoint); broadcasts follow the projections.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), gaugeTimeout)
			defer cancel()
			n, err := g.Lag(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	}
	if g.Groups != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: Groups, Help: "Live (not deleted) groups.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), gaugeTimeout)
			defer cancel()
			n, err := g.Groups(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	}
	if g.Connected != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: LinkConnected, Help: "1 while the component link to the XMPP server is up, else 0.",
		}, func() float64 {
			if g.Connected() {
				return 1
			}
			return 0
		}))
	}
	if g.QueueLen != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: OutgoingQueueLen, Help: "Stanzas waiting to be written to the server link.",
		}, func() float64 { return float64(g.QueueLen()) }))
	}
	if g.BytesWritten != nil {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: LinkBytesWritten, Help: "Stanza bytes written to the XMPP server over the component link, over every connection.",
		}, func() float64 { return float64(g.BytesWritten()) }))
	}
}

// PushCounts are the push notifier's counters since the start.
type PushCounts struct {
	Queued, Dropped                        uint64
	Published, Delivered, Failed, TimedOut uint64
	Disabled                               uint64
}

// WatchPush registers the push notifier's counters, read from counts on
// each scrape.
func (m *Metrics) WatchPush(counts func() PushCounts) {
	for _, c := range []struct {
		name, help string
		value      func(PushCounts) uint64
	}{
		{PushQueued, "Messages taken for a push notification of an offline member.", func(c PushCounts) uint64 { return c.Queued }},
		{PushDropped, "Messages not taken for push notifications because the notifier's queue was full.", func(c PushCounts) uint64 { return c.Dropped }},
		{PushPublished, "XEP-0357 notifications published to app servers.", func(c PushCounts) uint64 { return c.Published }},
		{PushDelivered, "Notifications the app server acknowledged.", func(c PushCounts) uint64 { return c.Delivered }},
		{PushFailed, "Notifications the app server answered with an error.", func(c PushCounts) uint64 { return c.Failed }},
		{PushTimedOut, "Notifications the app server did not answer in time.", func(c PushCounts) uint64 { return c.TimedOut }},
		{PushDisabled, "Push registrations disabled after repeated failures.", func(c PushCounts) uint64 { return c.Disabled }},
	} {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return float64(c.value(counts())) }))
	}
}

// Store returns s with its appends counted and timed.
func (m *Metrics) Store(s eventstore.Store) eventstore.Store {
	st := &store{Store: s, m: m}
	// A store that lists its streams keeps doing so: without it, listing
	// would read the whole log.
	if l, ok := s.(eventstore.StreamLister); ok {
		return &listingStore{store: st, lister: l}
	}
	return st
}

type listingStore struct {
	*store
	lister eventstore.StreamLister
}

func (s *listingStore) Streams(ctx context.Context, prefix, after string, max int) ([]string, error) {
	return s.lister.Streams(ctx, prefix, after, max)
}

type store struct {
	eventstore.Store
	m *Metrics
}

func (s *store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	start := time.Now()
	res, err := s.Store.Append(ctx, stream, expected, events...)
	s.m.appendSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		s.m.appendErrors.Inc()
		return res, err
	}
	if !res.Duplicate {
		for _, e := range events {
			s.m.appended.WithLabelValues(e.Type).Inc()
		}
	}
	return res, nil
}

// Sender is where the service sends its stanzas (service.Sender).
type Sender interface {
	Send(ctx context.Context, o protocol.Outbound) error
}

// Sender returns out with the stanzas sent through it counted: errors by
// condition, messages and presences as fan-out.
func (m *Metrics) Sender(out Sender) Sender { return &sender{out: out, m: m} }

type sender struct {
	out Sender
	m   *Metrics
}

var (
	messageHead  = []byte("<message ")
	presenceHead = []byte("<presence ")
)

func (s *sender) Send(ctx context.Context, o protocol.Outbound) error {
	err := s.out.Send(ctx, o)
	if err != nil {
		if reason := refusal(err); reason != "" {
			s.m.refused.WithLabelValues(reason).Inc()
		}
		return err
	}
	if cond, ok := protocol.ErrorCondition(o); ok {
		s.m.errors.WithLabelValues(cond).Inc()
	} else if bytes.HasPrefix(o.Head, messageHead) || bytes.HasPrefix(o.Head, presenceHead) {
		s.m.fanout.Inc()
		if len(o.Bcc) > 0 {
			s.m.mcAddresses.Add(float64(len(o.Bcc)))
		}
	}
	return nil
}

// refusal names why the edge refused a stanza, or "" for other errors.
func refusal(err error) string {
	switch {
	case errors.Is(err, protocol.ErrOutboundFrom):
		return "from"
	case errors.Is(err, protocol.ErrOutboundTo):
		return "to"
	case errors.Is(err, protocol.ErrOutboundTooLarge):
		return "size"
	case errors.Is(err, protocol.ErrOutboundAddress):
		return "address"
	}
	return ""
}

// Handler is what the link hands incoming stanzas to (link.Handler).
type Handler interface {
	HandleStanza(ctx context.Context, n *xmlnode.Node)
	HandleOversized(ctx context.Context, top *xmlnode.Node, err error)
	Connected(ctx context.Context)
}

// Handler returns h with the catch-up requests it receives counted.
func (m *Metrics) Handler(h Handler) Handler { return &handler{Handler: h, m: m} }

type handler struct {
	Handler
	m *Metrics
}

func (h *handler) HandleStanza(ctx context.Context, n *xmlnode.Node) {
	if n.Name.Local == "iq" && n.Attr("type") == "get" {
		for _, c := range n.Children {
			if !c.IsText() && c.Name.Space == protocol.NSCatchUp {
				h.m.catchups.Inc()
				break
			}
		}
	}
	h.Handler.HandleStanza(ctx, n)
}
