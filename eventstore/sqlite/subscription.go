package sqlite

import (
	"context"
	"sync"

	"github.com/uuchat/groupchat/eventstore"
)

// Subscribe implements eventstore.Store. The subscription lives until ctx
// ends, it is closed, or the store closes. It runs no goroutine of its own:
// Recv reads in the caller's goroutine, so an abandoned subscription costs
// nothing.
func (s *Store) Subscribe(ctx context.Context, after uint64) (eventstore.Subscription, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &subscription{s: s, life: ctx, after: after, closed: make(chan struct{})}, nil
}

type subscription struct {
	s    *Store
	life context.Context

	// mu serializes Recv, which owns after.
	mu    sync.Mutex
	after uint64

	closed    chan struct{}
	closeOnce sync.Once
}

// Recv implements eventstore.Subscription. Catch-up and live delivery are the
// same loop: read what lies beyond the cursor, and if nothing does, wait for
// the writer's next commit notification. Because the newest position and the
// notification channel are taken together, and the writer publishes only
// after COMMIT returned, every event is read exactly once, in position order.
func (sub *subscription) Recv(ctx context.Context) ([]eventstore.RecordedEvent, error) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for {
		select {
		case <-sub.closed:
			return nil, eventstore.ErrClosed
		case <-sub.s.closing:
			return nil, eventstore.ErrClosed
		default:
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := sub.life.Err(); err != nil {
			return nil, err
		}
		last, changed := sub.s.notify.watch()
		if last > sub.after {
			events, err := sub.s.ReadAll(ctx, sub.after, sub.s.opts.SubscriptionPage)
			if err != nil {
				return nil, err
			}
			if len(events) > 0 {
				sub.after = events[len(events)-1].Position
				return events, nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-sub.life.Done():
			return nil, sub.life.Err()
		case <-sub.closed:
			return nil, eventstore.ErrClosed
		case <-sub.s.closing:
			return nil, eventstore.ErrClosed
		}
	}
}

// Close implements eventstore.Subscription. A Recv blocked in another
// goroutine returns ErrClosed.
func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() { close(sub.closed) })
	return nil
}
