package kurrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/uuchat/groupchat/eventstore"
)

// Options tune a Store. The zero value is the default.
type Options struct {
	// StreamPrefix is put before every group id to name its KurrentDB
	// stream, and selects the service's events in $all. No other writer may
	// use streams starting with it. Default "groupchat-".
	StreamPrefix string

	// DedupWindow is how many events newer than a retried batch Append can
	// see past to recognise it (see the package documentation). Each append
	// reads DedupWindow + len(batch) of the stream's newest events first.
	// Default 16; negative turns the check off.
	DedupWindow int

	// ReadPageSize is how many events of $all one request fetches when
	// ReadAll, LastPosition and position look-ups page through it. Default
	// 512, at least 2.
	ReadPageSize int

	// SubscriptionBuffer is how many received events a subscription holds
	// for its reader, and the most one Recv returns. Default 1000.
	SubscriptionBuffer int

	// ResubscribeMin and ResubscribeMax bound the wait before a dropped
	// subscription is opened again: it doubles from ResubscribeMin with each
	// failure in a row, up to ResubscribeMax, and half of it is random so
	// that many subscribers do not return at the same moment. Defaults
	// 100ms and 10s.
	ResubscribeMin time.Duration
	ResubscribeMax time.Duration

	// Logger receives resubscriptions at warning level and the client
	// library's own messages at debug level. Default slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.StreamPrefix == "" {
		o.StreamPrefix = "groupchat-"
	}
	if err := checkPrefix(o.StreamPrefix); err != nil {
		return o, err
	}
	if o.DedupWindow == 0 {
		o.DedupWindow = 16
	}
	if o.ReadPageSize == 0 {
		o.ReadPageSize = 512
	}
	if o.ReadPageSize < 2 {
		// Forward reads of $all include the event they start at, so a page
		// of one would never move.
		return o, fmt.Errorf("eventstore/kurrent: ReadPageSize %d is below 2", o.ReadPageSize)
	}
	if o.SubscriptionBuffer <= 0 {
		o.SubscriptionBuffer = 1000
	}
	if o.ResubscribeMin <= 0 {
		o.ResubscribeMin = 100 * time.Millisecond
	}
	if o.ResubscribeMax <= 0 {
		o.ResubscribeMax = 10 * time.Second
	}
	if o.ResubscribeMax < o.ResubscribeMin {
		return o, fmt.Errorf("eventstore/kurrent: ResubscribeMax %v is below ResubscribeMin %v", o.ResubscribeMax, o.ResubscribeMin)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Store is the KurrentDB event store. It implements eventstore.Store.
type Store struct {
	opts  Options
	names names
	conn  *conn
	log   *slog.Logger

	// gate orders calls against Close: calls hold it shared, Close takes it
	// exclusively after cancelling life, so no call is mid-flight when the
	// client goes away.
	gate   sync.RWMutex
	closed atomic.Bool
	// life ends when Close starts; it cancels calls in flight and stops
	// the subscriptions' goroutines, which pumps counts.
	life      context.Context
	stop      context.CancelFunc
	pumps     sync.WaitGroup
	closeOnce sync.Once
}

var _ eventstore.Store = (*Store)(nil)

// Open connects to the KurrentDB node or cluster named by url (see the
// package documentation for the accepted forms) and checks that it answers
// by reading the newest event of $all. Finding the node takes at most the
// connection string's maxDiscoverAttempts, each up to gossipTimeout plus
// discoveryInterval (10 × (5 s + 100 ms) by default); the client does not
// cut that short when ctx ends, only the read that follows.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	cfg.Logger = clientLogger(opts.Logger)
	life, stop := context.WithCancel(context.Background())
	s := &Store{
		opts:  opts,
		names: names{prefix: opts.StreamPrefix},
		conn:  &conn{cfg: *cfg},
		log:   opts.Logger,
		life:  life,
		stop:  stop,
	}
	if err := s.probe(ctx); err != nil {
		stop()
		s.conn.close()
		return nil, fmt.Errorf("eventstore/kurrent: connect to %s: %w", describe(cfg), err)
	}
	return s, nil
}

// probe reads one event of $all, which needs a reachable node and
// credentials allowed to read $all, as subscriptions will.
func (s *Store) probe(ctx context.Context) error {
	c, err := s.conn.get()
	if err != nil {
		return err
	}
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err == nil {
		_, err = rs.Recv()
		rs.Close()
	}
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// enter admits a call unless the store is closed and binds ctx to the
// store's life; done must follow.
func (s *Store) enter(ctx context.Context) (context.Context, func(), error) {
	s.gate.RLock()
	if s.closed.Load() {
		s.gate.RUnlock()
		return nil, nil, eventstore.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		s.gate.RUnlock()
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	unbind := context.AfterFunc(s.life, cancel)
	return ctx, func() {
		unbind()
		cancel()
		s.gate.RUnlock()
	}, nil
}

// fail turns a call's error into what the caller gets: ErrClosed once the
// store is closing, the context's own error when it ended (the client
// reports cancellation as a gRPC status), otherwise the client's error
// wrapped with what was being done. After a closed client or an unreachable
// node the client is replaced, so that the next call starts afresh.
func (s *Store) fail(ctx context.Context, c *esdb.Client, what string, err error) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if needsNewClient(err) {
		s.conn.renew(c)
	}
	return fmt.Errorf("eventstore/kurrent: %s: %w", what, err)
}

// Close stops the subscriptions, cancels calls in flight and closes the
// connection. Later calls, and subscriptions, fail with eventstore.ErrClosed.
// Events a call had already handed to the server may or may not be stored.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.stop()
		s.gate.Lock()
		s.gate.Unlock()
		s.pumps.Wait()
		s.conn.close()
	})
	return nil
}

// conn owns the client. The v4 client closes itself for good when node
// discovery fails (for instance while the server restarts), and some of its
// calls leave a broken connection to gRPC's slow reconnect backoff; conn
// then makes a new client from the same configuration. The client it
// replaces is closed only after retireAfter, so that calls and
// subscriptions still using it are not cut short by another call's
// failure; a subscription still on it then resubscribes.
type conn struct {
	cfg     esdb.Configuration
	mu      sync.Mutex
	c       *esdb.Client
	closed  bool
	retired map[*esdb.Client]*time.Timer
}

const retireAfter = 30 * time.Second

func (c *conn) get() (*esdb.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, eventstore.ErrClosed
	}
	if c.c == nil {
		cfg := c.cfg // the client keeps a pointer to its configuration
		client, err := esdb.NewClient(&cfg)
		if err != nil {
			return nil, fmt.Errorf("eventstore/kurrent: %w", err)
		}
		c.c = client
	}
	return c.c, nil
}

// renew retires old if it is still the current client; the next get makes
// a new one.
func (c *conn) renew(old *esdb.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old == nil || c.c != old || c.closed {
		return
	}
	c.c = nil
	if c.retired == nil {
		c.retired = make(map[*esdb.Client]*time.Timer)
	}
	c.retired[old] = time.AfterFunc(retireAfter, func() {
		c.mu.Lock()
		_, ok := c.retired[old]
		delete(c.retired, old)
		c.mu.Unlock()
		if ok {
			old.Close()
		}
	})
}

func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
	for old, t := range c.retired {
		t.Stop()
		old.Close()
	}
	c.retired = nil
}

// clientLogger sends the client library's messages to l at debug level:
// the failures that matter reach the caller as errors, or are logged by the
// subscription loop.
func clientLogger(l *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...interface{}) {
		if !l.Enabled(context.Background(), slog.LevelDebug) {
			return
		}
		l.Debug("kurrentdb client: "+fmt.Sprintf(format, args...), "client_level", level)
	}
}
