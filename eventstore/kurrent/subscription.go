package kurrent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/uuchat/groupchat/eventstore"
)

// Subscribe implements eventstore.Store: a catch-up subscription to $all,
// filtered on the server by the stream prefix, that resubscribes when
// dropped. The subscription lives until ctx ends, it is closed, the store
// closes, or it meets an error resubscribing cannot cure.
func (s *Store) Subscribe(ctx context.Context, after uint64) (eventstore.Subscription, error) {
	cctx, done, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	c, err := s.conn.get()
	if err != nil {
		return nil, err
	}
	from, err := s.anchor(cctx, c, after)
	if err != nil {
		return nil, s.fail(cctx, c, "subscribe to $all", err)
	}

	life, cancel := context.WithCancel(ctx)
	unbind := context.AfterFunc(s.life, cancel)
	sub := &subscription{
		events:  make(chan eventstore.RecordedEvent, s.opts.SubscriptionBuffer),
		done:    make(chan struct{}),
		closing: make(chan struct{}),
		cancel:  cancel,
		page:    s.opts.SubscriptionBuffer,
	}
	f := &follower{
		open:  s.openSubscription,
		names: s.names,
		delay: backoff{min: s.opts.ResubscribeMin, max: s.opts.ResubscribeMax, rand: rand.Int64N}.delay,
		sleep: sleep,
		log:   s.log,
	}
	s.pumps.Add(1)
	go func() {
		defer s.pumps.Done()
		defer close(sub.done)
		defer unbind()
		defer cancel()
		err := f.run(life, cursor{from: from, after: after}, sub.deliver)
		if s.closed.Load() || sub.closed.Load() {
			err = eventstore.ErrClosed
		}
		sub.err = err
	}()
	return sub, nil
}

// openSubscription opens one catch-up subscription to the service's
// streams in $all, starting after from.
func (s *Store) openSubscription(ctx context.Context, from esdb.AllPosition) (source, error) {
	c, err := s.conn.get()
	if err != nil {
		return nil, err
	}
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: from, Filter: s.names.filter()})
	if err != nil {
		if needsNewClient(err) && !s.closed.Load() {
			s.conn.renew(c)
		}
		return nil, err
	}
	return sub, nil
}

// subscription hands the events its goroutine receives to Recv.
type subscription struct {
	events chan eventstore.RecordedEvent
	// done is closed when the goroutine has returned; err says why.
	done chan struct{}
	err  error

	closing   chan struct{}
	closed    atomic.Bool
	closeOnce sync.Once
	cancel    context.CancelFunc

	// mu serializes Recv.
	mu   sync.Mutex
	page int
}

func (sub *subscription) deliver(ctx context.Context, e eventstore.RecordedEvent) error {
	select {
	case sub.events <- e:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Recv implements eventstore.Subscription. After the subscription has
// ended, the events it had already received are returned first, then the
// reason it ended.
func (sub *subscription) Recv(ctx context.Context) ([]eventstore.RecordedEvent, error) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var first eventstore.RecordedEvent
	select {
	case first = <-sub.events:
	case <-sub.done:
		select {
		case first = <-sub.events:
		default:
			return nil, sub.err
		}
	case <-sub.closing:
		return nil, eventstore.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	batch := []eventstore.RecordedEvent{first}
	for len(batch) < sub.page {
		select {
		case e := <-sub.events:
			batch = append(batch, e)
		default:
			return batch, nil
		}
	}
	return batch, nil
}

// Close implements eventstore.Subscription. It wakes a Recv blocked in
// another goroutine, which returns ErrClosed, and waits for the
// subscription's goroutine to end.
func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() {
		sub.closed.Store(true)
		close(sub.closing)
		sub.cancel()
	})
	<-sub.done
	return nil
}

// source is one opened catch-up subscription; *esdb.Subscription is one.
type source interface {
	Recv() *esdb.SubscriptionEvent
	Close() error
}

// follower keeps one logical subscription going across drops of the
// server's subscriptions.
type follower struct {
	// open opens a catch-up subscription delivering what follows from.
	open  func(ctx context.Context, from esdb.AllPosition) (source, error)
	names names
	// delay is the wait before attempt n (from 0) after a failure.
	delay func(attempt int) time.Duration
	sleep func(ctx context.Context, d time.Duration) error
	log   *slog.Logger
}

// run delivers, in order and each once, the service's events after
// cur.after, opening a subscription at cur.from and again after every
// drop, from the last event received. It returns when ctx ends, deliver
// fails, or an error cannot be cured by resubscribing.
func (f *follower) run(ctx context.Context, cur cursor, deliver func(context.Context, eventstore.RecordedEvent) error) error {
	failures := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		src, err := f.open(ctx, cur.from)
		if err == nil {
			var healthy bool
			healthy, err = f.drain(ctx, src, &cur, deliver)
			if healthy {
				failures = 0
			}
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		var stop *stopError
		if errors.As(err, &stop) {
			return stop.err
		}
		if !retryable(err) {
			return fmt.Errorf("eventstore/kurrent: subscription to $all after position %d: %w", cur.after, err)
		}
		d := f.delay(failures)
		failures++
		f.log.Warn("kurrent: subscription to $all ended; resubscribing",
			"after", cur.after, "attempt", failures, "delay", d, "err", err)
		if err := f.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// stopError carries an error of deliver's, which ends run at once.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }

// drain hands src's events to deliver until src drops, and returns why. It
// reports healthy once src has shown it works (an event, a checkpoint, or
// the news that it caught up), so that the next drop starts a new series of
// backoffs.
func (f *follower) drain(ctx context.Context, src source, cur *cursor, deliver func(context.Context, eventstore.RecordedEvent) error) (healthy bool, err error) {
	// src.Recv does not watch ctx; closing src is what ends a Recv.
	unbind := context.AfterFunc(ctx, func() { src.Close() })
	defer unbind()
	defer src.Close()
	for {
		ev := src.Recv()
		switch {
		case ev == nil:
			return healthy, errors.New("the client returned no subscription event")
		case ev.SubscriptionDropped != nil:
			if ev.SubscriptionDropped.Error == nil {
				return healthy, errors.New("dropped without a reason")
			}
			return healthy, ev.SubscriptionDropped.Error
		case ev.EventAppeared != nil:
			healthy = true
			re := ev.EventAppeared.Event
			if re == nil {
				re = ev.EventAppeared.OriginalEvent()
			}
			if !cur.advance(re) {
				continue
			}
			e, ok := f.names.fromRecorded(re)
			if !ok {
				continue
			}
			if err := deliver(ctx, e); err != nil {
				return healthy, &stopError{err}
			}
		default:
			// Checkpoints, caught up, fell behind: the subscription works.
			// Resuming from a checkpoint would skip re-scanning other
			// streams' events, but a resumed subscription starts from the
			// last event received, a position known to be valid.
			healthy = true
		}
	}
}

// backoff doubles from min to max; half of each wait is random.
type backoff struct {
	min, max time.Duration
	// rand returns a number in [0, n).
	rand func(n int64) int64
}

func (b backoff) delay(attempt int) time.Duration {
	d := b.max
	if attempt < 32 {
		if x := b.min << attempt; x > 0 && x < b.max {
			d = x
		}
	}
	half := d / 2
	return d - half + time.Duration(b.rand(int64(half)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
