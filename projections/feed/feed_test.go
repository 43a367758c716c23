package feed_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/projections/feed"
)

func TestMessageRoundTrip(t *testing.T) {
	events := []eventstore.RecordedEvent{
		{ID: "a", Stream: "g", Version: 0, Position: 7, Type: "GroupCreated", Data: []byte(`{"v":1}`), Metadata: []byte{}, Recorded: time.Unix(1700000000, 123456789).UTC()},
		{ID: "b", Stream: "h", Version: 41, Position: 1 << 40, Type: "MessagePosted", Data: nil, Metadata: []byte("m\x00\t"), Recorded: time.Time{}},
	}
	msg := feed.NewMessage(events)
	got, err := feed.Events(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, events) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, events)
	}
	for k, want := range map[string]string{feed.MetaCount: "2", feed.MetaFirstPosition: "7", feed.MetaLastPosition: fmt.Sprint(uint64(1 << 40))} {
		if v := msg.Metadata.Get(k); v != want {
			t.Errorf("metadata %s = %q, want %q", k, v, want)
		}
	}
	for _, bad := range [][]byte{nil, {}, {2, 1}, {1, 0}, {1, 200}, msg.Payload[:len(msg.Payload)-1], append(append([]byte{}, msg.Payload...), 0)} {
		if _, err := feed.Events(message.NewMessage("x", bad)); err == nil {
			t.Errorf("payload %q decoded", bad)
		}
	}
}

// FuzzEvents checks that any payload either fails to decode or decodes to
// events that encode and decode to themselves.
func FuzzEvents(f *testing.F) {
	f.Add([]byte(feed.NewMessage([]eventstore.RecordedEvent{{ID: "a", Stream: "g", Position: 1, Type: "T", Data: []byte("d")}}).Payload))
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, payload []byte) {
		events, err := feed.Events(message.NewMessage("x", payload))
		if err != nil {
			return
		}
		again, err := feed.Events(feed.NewMessage(events))
		if err != nil || !reflect.DeepEqual(again, events) {
			t.Fatalf("decoded events do not survive encoding: %v\n%+v\n%+v", err, events, again)
		}
	})
}

func openStore(t *testing.T) eventstore.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendN(t *testing.T, s eventstore.Store, stream string, n int) {
	t.Helper()
	for i := range n {
		if _, err := s.Append(context.Background(), stream, eventstore.Any(), eventstore.EventData{ID: fmt.Sprintf("%s-%d-%d", stream, time.Now().UnixNano(), i), Type: "T", Data: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
}

func recv(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case msg, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return msg
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
	}
	return nil
}

func positions(t *testing.T, msg *message.Message) []uint64 {
	t.Helper()
	events, err := feed.Events(msg)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for _, e := range events {
		out = append(out, e.Position)
	}
	return out
}

func TestSubscriberDeliversBatchesInOrder(t *testing.T) {
	store := openStore(t)
	appendN(t, store, "g", 25)
	after := uint64(3)
	sub, err := feed.NewSubscriber(store, feed.Options{
		After:      func(context.Context) (uint64, error) { return after, nil },
		MaxEvents:  10,
		RetryDelay: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := sub.Subscribe(context.Background(), "other"); err == nil {
		t.Error("Subscribe accepted a topic other than feed.Topic")
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := sub.Subscribe(ctx, feed.Topic)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for len(got) < 22 {
		msg := recv(t, ch)
		p := positions(t, msg)
		if len(p) > 10 {
			t.Errorf("a message carries %d events, more than MaxEvents", len(p))
		}
		got = append(got, p...)
		msg.Ack()
		if len(got) == 22 {
			// Live events follow once the stored ones are delivered.
			appendN(t, store, "h", 3)
		}
	}
	for len(got) < 25 {
		msg := recv(t, ch)
		got = append(got, positions(t, msg)...)
		// A nacked batch comes again, the same events.
		msg.Nack()
		again := recv(t, ch)
		if p, q := positions(t, msg), positions(t, again); !reflect.DeepEqual(p, q) {
			t.Fatalf("after a nack, %v came instead of %v", q, p)
		}
		again.Ack()
	}
	var want []uint64
	for p := uint64(4); p <= 28; p++ {
		want = append(want, p)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("positions %v, want %v", got, want)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Error("a message after the context ended")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the channel stayed open after the context ended")
	}
	if err := sub.Err(); err != nil {
		t.Errorf("Err after a cancelled subscription = %v", err)
	}
}

func TestSubscriberCloseAndStoreClose(t *testing.T) {
	store := openStore(t)
	sub, err := feed.NewSubscriber(store, feed.Options{After: func(context.Context) (uint64, error) { return 0, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ch1, _ := sub.Subscribe(context.Background(), feed.Topic)
	ch2, _ := sub.Subscribe(context.Background(), feed.Topic)
	sub.Close() // returns once both goroutines are gone
	for _, ch := range []<-chan *message.Message{ch1, ch2} {
		if _, ok := <-ch; ok {
			t.Error("a channel open after Close")
		}
	}
	if _, err := sub.Subscribe(context.Background(), feed.Topic); err == nil {
		t.Error("Subscribe after Close succeeded")
	}

	sub, _ = feed.NewSubscriber(store, feed.Options{After: func(context.Context) (uint64, error) { return 0, nil }})
	defer sub.Close()
	ch, _ := sub.Subscribe(context.Background(), feed.Topic)
	store.Close()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("a message from a closed store")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the channel stayed open after the store closed")
	}
	if err := sub.Err(); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("Err = %v, want ErrClosed", err)
	}
}
