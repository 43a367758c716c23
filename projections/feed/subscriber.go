package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/uuchat/groupchat/eventstore"
)

// Topic is the only topic a Subscriber serves: the store's whole log, in
// position order.
const Topic = "$all"

// Options configure a Subscriber.
type Options struct {
	// After returns the position after which a subscription starts. It is
	// called on every Subscribe and on every resubscription after a
	// dropped store subscription, so a consumer passing its own checkpoint
	// resumes exactly where its last committed batch ended. Required.
	After func(ctx context.Context) (uint64, error)
	// MaxEvents caps the events of one message. Default 1000.
	MaxEvents int
	// RetryDelay is how long a nacked batch waits before it is sent again;
	// the delay doubles with each further nack of the same batch, up to
	// MaxRetryDelay. Defaults 50ms and 5s.
	RetryDelay, MaxRetryDelay time.Duration
	// Logger receives dropped subscriptions. Default slog.Default().
	Logger *slog.Logger
}

// Subscriber is a watermill message.Subscriber over an event store's
// catch-up subscriptions. See the package documentation for what its
// messages carry.
type Subscriber struct {
	store eventstore.Store
	opts  Options

	mu     sync.Mutex
	closed bool
	stop   context.CancelFunc // cancels every subscription's context
	base   context.Context
	wg     sync.WaitGroup
	err    error
}

var _ message.Subscriber = (*Subscriber)(nil)

// NewSubscriber returns a Subscriber reading store.
func NewSubscriber(store eventstore.Store, opts Options) (*Subscriber, error) {
	if store == nil || opts.After == nil {
		return nil, errors.New("feed: a store and Options.After are required")
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 1000
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 50 * time.Millisecond
	}
	if opts.MaxRetryDelay < opts.RetryDelay {
		opts.MaxRetryDelay = max(opts.RetryDelay, 5*time.Second)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	base, stop := context.WithCancel(context.Background())
	return &Subscriber{store: store, opts: opts, base: base, stop: stop}, nil
}

// Subscribe implements message.Subscriber. topic must be Topic. The
// returned channel is closed when ctx ends, when Close is called, or when
// the subscription fails for good (the store closed, Options.After
// failed); Err then says why.
//
// Subscribe fails only for a wrong topic or a closed Subscriber: any other
// failure arrives as a closed channel, so that a watermill router, which
// cannot clean up after a handler whose subscription failed to start,
// always sees its handler stop.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic != Topic {
		return nil, fmt.Errorf("feed: unknown topic %q (the only topic is %q)", topic, Topic)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("feed: subscriber closed")
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.base, cancel)
	out := make(chan *message.Message)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer stop()
		defer cancel()
		if err := s.run(ctx, out); err != nil && ctx.Err() == nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
		}
	}()
	return out, nil
}

// Err returns why a subscription ended, if it ended for another reason
// than its context or Close.
func (s *Subscriber) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close implements message.Subscriber: it ends every subscription, closes
// their channels and waits for their goroutines.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop()
	s.wg.Wait()
	return nil
}

// run feeds out until ctx ends or the store gives up. A subscription that
// drops for another reason is opened again after the consumer's
// checkpoint, so that no event is skipped.
func (s *Subscriber) run(ctx context.Context, out chan<- *message.Message) error {
	delay := s.opts.RetryDelay
	for {
		err := s.follow(ctx, out)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, eventstore.ErrClosed) {
			return fmt.Errorf("feed: %w", err)
		}
		s.opts.Logger.Warn("event subscription dropped; resubscribing", "err", err, "retry_in", delay)
		if !sleep(ctx, delay) {
			return nil
		}
		delay = min(2*delay, s.opts.MaxRetryDelay)
	}
}

func (s *Subscriber) follow(ctx context.Context, out chan<- *message.Message) error {
	after, err := s.opts.After(ctx)
	if err != nil {
		return fmt.Errorf("feed: start position: %w", err)
	}
	sub, err := s.store.Subscribe(ctx, after)
	if err != nil {
		return fmt.Errorf("feed: subscribe after %d: %w", after, err)
	}
	defer sub.Close()
	for {
		events, err := sub.Recv(ctx)
		if err != nil {
			return err
		}
		for len(events) > 0 {
			n := min(len(events), s.opts.MaxEvents)
			if !s.deliver(ctx, out, events[:n]) {
				return ctx.Err()
			}
			events = events[n:]
		}
	}
}

// deliver sends one batch until it is acked; false means ctx ended first.
func (s *Subscriber) deliver(ctx context.Context, out chan<- *message.Message, events []eventstore.RecordedEvent) bool {
	proto := NewMessage(events)
	delay := s.opts.RetryDelay
	for {
		// A message is acked or nacked once, so each attempt is a fresh
		// one; the encoded payload is shared.
		msg := message.NewMessage(proto.UUID, proto.Payload)
		for k, v := range proto.Metadata {
			msg.Metadata.Set(k, v)
		}
		msg.SetContext(ctx)
		select {
		case out <- msg:
		case <-ctx.Done():
			return false
		}
		select {
		case <-msg.Acked():
			return true
		case <-msg.Nacked():
		case <-ctx.Done():
			return false
		}
		if !sleep(ctx, delay) {
			return false
		}
		delay = min(2*delay, s.opts.MaxRetryDelay)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
