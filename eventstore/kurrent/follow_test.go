package kurrent

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/uuchat/groupchat/eventstore"
)

// scriptedSource plays a subscription: its events, then a drop with end,
// or (end nil) nothing until it is closed.
type scriptedSource struct {
	events []*esdb.SubscriptionEvent
	end    error
	closed chan struct{}
	once   sync.Once
}

func (s *scriptedSource) Recv() *esdb.SubscriptionEvent {
	if len(s.events) > 0 {
		e := s.events[0]
		s.events = s.events[1:]
		return e
	}
	if s.end != nil {
		return &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: s.end}}
	}
	<-s.closed
	// What the client reports when its own context is cancelled.
	return &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: status.Error(codes.Canceled, "context canceled")}}
}

func (s *scriptedSource) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// step is what one call of open does: fail with err, or play the source.
type step struct {
	err    error
	events []*esdb.SubscriptionEvent
	end    error
}

func appeared(stream, typ string, pos uint64) *esdb.SubscriptionEvent {
	return &esdb.SubscriptionEvent{EventAppeared: &esdb.ResolvedEvent{Event: &esdb.RecordedEvent{
		EventID: uuid.New(), EventType: typ, StreamID: stream, EventNumber: pos / 100,
		Position: esdb.Position{Commit: pos, Prepare: pos}, CreatedDate: time.Unix(0, 0),
	}}}
}

func ours(pos uint64) *esdb.SubscriptionEvent { return appeared("groupchat-g", "message.posted", pos) }

func checkpoint(pos uint64) *esdb.SubscriptionEvent {
	return &esdb.SubscriptionEvent{CheckPointReached: &esdb.Position{Commit: pos, Prepare: pos}}
}

func describeFrom(p esdb.AllPosition) string {
	switch v := p.(type) {
	case esdb.Start:
		return "start"
	case esdb.End:
		return "end"
	case esdb.Position:
		return fmt.Sprint(v.Commit)
	}
	return fmt.Sprintf("%T", p)
}

func TestFollowerResubscribes(t *testing.T) {
	ce := collectClientErrors(t)
	unavailable := ce.openWith(codes.Unavailable)
	denied := ce.openWith(codes.PermissionDenied)
	drop := ce.dropUnavailable
	revoked := status.Error(codes.PermissionDenied, "Access denied")

	cases := []struct {
		name  string
		after uint64
		steps []step
		// want is the positions delivered; the run ends once they have
		// all arrived, or with wantErr.
		want      []uint64
		wantErr   error
		wantFroms []string
		// wantWaits are the attempt numbers of the backoffs taken.
		wantWaits []int
	}{
		{
			name: "a drop resumes after the last event received, without repeating it",
			steps: []step{
				{events: []*esdb.SubscriptionEvent{ours(100), ours(200), ours(300)}, end: drop},
				{events: []*esdb.SubscriptionEvent{ours(300), ours(400), ours(500)}, end: drop},
				{events: []*esdb.SubscriptionEvent{ours(500), ours(600)}},
			},
			want:      []uint64{100, 200, 300, 400, 500, 600},
			wantFroms: []string{"start", "300", "500"},
			wantWaits: []int{0, 0},
		},
		{
			name: "failures in a row back off further",
			steps: []step{
				{err: unavailable},
				{events: nil, end: drop},
				{err: unavailable},
				{events: []*esdb.SubscriptionEvent{ours(100)}},
			},
			want:      []uint64{100},
			wantFroms: []string{"start", "start", "start", "start"},
			wantWaits: []int{0, 1, 2},
		},
		{
			name: "a subscription that worked starts a new series of backoffs",
			steps: []step{
				{err: unavailable},
				{events: []*esdb.SubscriptionEvent{checkpoint(50)}, end: drop},
				{events: nil, end: drop},
				{events: []*esdb.SubscriptionEvent{{CaughtUp: &esdb.Subscription{}}, ours(100)}, end: drop},
				{events: []*esdb.SubscriptionEvent{ours(200)}},
			},
			want:      []uint64{100, 200},
			wantFroms: []string{"start", "start", "start", "start", "100"},
			wantWaits: []int{0, 0, 1, 0},
		},
		{
			name: "other streams' and system events move the resume point but are not delivered",
			steps: []step{
				{events: []*esdb.SubscriptionEvent{ours(100), appeared("orders-1", "order.placed", 150),
					appeared("$stats-127.0.0.1:2113", "$statsCollected", 170)}, end: drop},
				{events: []*esdb.SubscriptionEvent{appeared("groupchat-g", "$>", 180), ours(250)}},
			},
			want:      []uint64{100, 250},
			wantFroms: []string{"start", "170"},
			wantWaits: []int{0},
		},
		{
			name:  "nothing at or before the starting position is delivered",
			after: 300,
			steps: []step{
				{events: []*esdb.SubscriptionEvent{ours(200), ours(300), ours(400)}, end: drop},
				{events: []*esdb.SubscriptionEvent{ours(300), ours(400), ours(500)}},
			},
			want:      []uint64{400, 500},
			wantFroms: []string{"300", "400"},
			wantWaits: []int{0},
		},
		{
			name: "a drop that retrying cannot cure ends the subscription",
			steps: []step{
				{events: []*esdb.SubscriptionEvent{ours(100)}, end: revoked},
			},
			want:      []uint64{100},
			wantErr:   revoked,
			wantFroms: []string{"start"},
		},
		{
			name:      "an open that retrying cannot cure ends the subscription",
			steps:     []step{{err: unavailable}, {err: denied}},
			wantErr:   denied,
			wantFroms: []string{"start", "start"},
			wantWaits: []int{0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var froms []string
			var waits []int
			steps := tc.steps
			f := &follower{
				open: func(ctx context.Context, from esdb.AllPosition) (source, error) {
					froms = append(froms, describeFrom(from))
					if len(steps) == 0 {
						t.Fatalf("opened again after the last step")
					}
					s := steps[0]
					steps = steps[1:]
					if s.err != nil {
						return nil, s.err
					}
					return &scriptedSource{events: s.events, end: s.end, closed: make(chan struct{})}, nil
				},
				names: names{prefix: "groupchat-"},
				delay: func(attempt int) time.Duration { return time.Duration(attempt) },
				sleep: func(ctx context.Context, d time.Duration) error {
					waits = append(waits, int(d))
					return nil
				},
				log: quietLogger(),
			}
			var got []uint64
			deliver := func(ctx context.Context, e eventstore.RecordedEvent) error {
				got = append(got, e.Position)
				if tc.wantErr == nil && len(got) == len(tc.want) {
					cancel()
				}
				return nil
			}
			err := f.run(ctx, cursor{from: startPosition(tc.after), after: tc.after}, deliver)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("run = %v, want %v", err, tc.wantErr)
				}
			} else if !errors.Is(err, context.Canceled) {
				t.Fatalf("run = %v, want context.Canceled once every event arrived", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("delivered positions %v, want %v", got, tc.want)
			}
			if !reflect.DeepEqual(froms, tc.wantFroms) {
				t.Errorf("opened from %v, want %v", froms, tc.wantFroms)
			}
			if !reflect.DeepEqual(waits, tc.wantWaits) {
				t.Errorf("backoff attempts %v, want %v", waits, tc.wantWaits)
			}
		})
	}
}

func TestFollowerStops(t *testing.T) {
	newFollower := func(src *scriptedSource) *follower {
		return &follower{
			open:  func(context.Context, esdb.AllPosition) (source, error) { return src, nil },
			names: names{prefix: "groupchat-"},
			delay: func(int) time.Duration { return time.Hour },
			sleep: sleep,
			log:   quietLogger(),
		}
	}
	t.Run("cancelling the context ends a blocked receive", func(t *testing.T) {
		src := &scriptedSource{events: []*esdb.SubscriptionEvent{ours(100)}, closed: make(chan struct{})}
		ctx, cancel := context.WithCancel(context.Background())
		err := newFollower(src).run(ctx, cursor{from: esdb.Start{}}, func(context.Context, eventstore.RecordedEvent) error {
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run = %v, want context.Canceled", err)
		}
	})
	t.Run("cancelling the context ends a backoff", func(t *testing.T) {
		src := &scriptedSource{end: status.Error(codes.Unavailable, "gone"), closed: make(chan struct{})}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := newFollower(src).run(ctx, cursor{from: esdb.Start{}}, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("run = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("a failing deliver ends the run with its error", func(t *testing.T) {
		src := &scriptedSource{events: []*esdb.SubscriptionEvent{ours(100), ours(200)}, closed: make(chan struct{})}
		stop := errors.New("reader gone")
		n := 0
		err := newFollower(src).run(context.Background(), cursor{from: esdb.Start{}}, func(context.Context, eventstore.RecordedEvent) error {
			n++
			if n == 2 {
				return stop
			}
			return nil
		})
		if err != stop || n != 2 {
			t.Fatalf("run = %v after %d deliveries, want %v after 2", err, n, stop)
		}
	})
}
