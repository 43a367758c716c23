package projections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/projections/feed"
)

// handlerName names the projector in the router's logs.
const handlerName = "projections"

// RunOptions configures the projector.
type RunOptions struct {
	// OnApplied, if not nil, receives the events of each committed batch;
	// see Run.
	OnApplied func(ctx context.Context, events []eventstore.RecordedEvent)

	// Logger receives the projector's lines, tagged component=projections:
	// dropped subscriptions, failed batches (which are redelivered) as
	// errors, and the router's lifecycle at debug level. Default
	// slog.Default().
	Logger *slog.Logger
}

// Run keeps the database up to date with store until ctx ends: the
// projector. Events flow from the store's subscription, starting after the
// checkpoint, through a watermill router (a feed.Subscriber feeding one
// handler) into Apply, one transaction per batch. A batch that fails for a
// transient reason is nacked and redelivered after a back-off; an event that
// can never be applied (ErrInvalidEvent) stops Run with that error, since
// skipping it would leave the tables wrong.
//
// After each commit, opts.OnApplied (if not nil) receives the events just
// applied, in log order, always from the same goroutine and never two calls
// at once; it is where broadcasts are fanned out, so every broadcast
// follows a committed projection. A slow OnApplied holds the projector back
// once a few batches wait for it. Batches committed as ctx ends may not be
// handed over, and a restart resumes after the checkpoint, so each event
// reaches OnApplied at most once; clients catch up on the rest from the
// archive.
//
// Run returns nil when ctx ends, after stopping its goroutines (and the
// router's), or an error if the projection cannot continue. Call it once
// at a time per DB.
func (db *DB) Run(ctx context.Context, store eventstore.Store, opts RunOptions) error {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	onApplied := opts.OnApplied
	logger := cmp.Or(opts.Logger, slog.Default()).With("component", handlerName)

	sub, err := feed.NewSubscriber(store, feed.Options{After: db.Checkpoint, Logger: logger})
	if err != nil {
		return fmt.Errorf("projections: run: %w", err)
	}
	// The router's lifecycle chatter goes to debug; handler errors stay
	// errors.
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second},
		watermill.NewSlogLoggerWithLevelMapping(logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}))
	if err != nil {
		return fmt.Errorf("projections: run: %w", err)
	}

	// The hand-over to onApplied is a queue with one reader: calls stay in
	// order, and the next batch can commit while broadcasts go out.
	applied := make(chan []eventstore.RecordedEvent, 8)
	var wg sync.WaitGroup
	if onApplied != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for events := range applied {
				onApplied(ctx, events)
			}
		}()
	}

	var (
		fatalMu sync.Mutex
		fatal   error
	)
	router.AddConsumerHandler(handlerName, feed.Topic, sub, func(msg *message.Message) error {
		events, err := feed.Events(msg)
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrInvalidEvent, err)
		} else {
			events, err = db.apply(msg.Context(), events)
		}
		if err != nil {
			if errors.Is(err, ErrInvalidEvent) || errors.Is(err, ErrClosed) {
				fatalMu.Lock()
				fatal = cmp.Or(fatal, err)
				fatalMu.Unlock()
				cancel()
			}
			return err
		}
		if len(events) > 0 && onApplied != nil {
			select {
			case applied <- events:
			case <-ctx.Done():
			}
		}
		return nil
	})

	runErr := router.Run(ctx)
	// The router closes the subscriber when it stops; closing it again
	// waits until its goroutines are gone.
	sub.Close()
	close(applied)
	wg.Wait()

	fatalMu.Lock()
	defer fatalMu.Unlock()
	switch {
	case fatal != nil:
		return fatal
	case sub.Err() != nil:
		return fmt.Errorf("projections: run: %w", sub.Err())
	case runErr != nil:
		return fmt.Errorf("projections: run: %w", runErr)
	case parent.Err() == nil:
		return errors.New("projections: run: the router stopped on its own")
	}
	return nil
}
