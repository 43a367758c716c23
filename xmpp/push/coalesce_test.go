package push_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/uuchat/groupchat/xmpp/push"
)

func TestCoalescer(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	const interval = 1000 * time.Millisecond
	type add struct {
		ms   int
		note push.Note
	}
	type take struct {
		ms   int
		want []push.Batch
	}
	cases := []struct {
		name  string
		adds  []add
		takes []take
	}{
		{
			name: "a burst is one batch with its count, the last message's sender and body",
			adds: []add{
				{0, push.Note{User: "alice", Sender: "g@s/bob", Body: "one"}},
				{10, push.Note{User: "alice", Sender: "g@s/carol", Body: "two"}},
				{999, push.Note{User: "alice", Sender: "g@s/bob", Body: "three"}},
			},
			takes: []take{
				{999, nil},
				{1000, []push.Batch{{User: "alice", Count: 3, LastSender: "g@s/bob", LastBody: "three", Due: at(1000)}}},
				{5000, nil},
			},
		},
		{
			name: "a note after the batch was taken opens the next one, an interval later",
			adds: []add{
				{0, push.Note{User: "alice", Sender: "g@s/bob", Body: "one"}},
				{1500, push.Note{User: "alice", Sender: "g@s/bob", Body: "two"}},
			},
			takes: []take{
				{1200, []push.Batch{{User: "alice", Count: 1, LastSender: "g@s/bob", LastBody: "one", Due: at(1000)}}},
				{2499, nil},
				{2500, []push.Batch{{User: "alice", Count: 1, LastSender: "g@s/bob", LastBody: "two", Due: at(2500)}}},
			},
		},
		{
			name: "members are batched apart and taken in the order they fell due",
			adds: []add{
				{0, push.Note{User: "bob", Sender: "g@s/alice", Body: "b1"}},
				{100, push.Note{User: "alice", Sender: "g@s/bob", Body: "a1"}},
				{200, push.Note{User: "bob", Sender: "g@s/carol", Body: "b2"}},
				{1050, push.Note{User: "carol", Sender: "g@s/bob", Body: "c1"}},
			},
			takes: []take{
				{1100, []push.Batch{
					{User: "bob", Count: 2, LastSender: "g@s/carol", LastBody: "b2", Due: at(1000)},
					{User: "alice", Count: 1, LastSender: "g@s/bob", LastBody: "a1", Due: at(1100)},
				}},
				{3000, []push.Batch{{User: "carol", Count: 1, LastSender: "g@s/bob", LastBody: "c1", Due: at(2050)}}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := push.NewCoalescer(interval)
			adds := tc.adds
			for _, tk := range tc.takes {
				for len(adds) > 0 && adds[0].ms <= tk.ms {
					c.Add(adds[0].note, at(adds[0].ms))
					adds = adds[1:]
				}
				got := c.Due(at(tk.ms))
				if !reflect.DeepEqual(got, tk.want) {
					t.Fatalf("at %dms: Due = %+v, want %+v", tk.ms, got, tk.want)
				}
			}
			if c.Len() != 0 {
				t.Errorf("%d batches left over", c.Len())
			}
			if _, ok := c.Next(); ok {
				t.Errorf("Next reports a batch when none is left")
			}
		})
	}
}

func TestCoalescerNext(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := push.NewCoalescer(time.Second)
	c.Add(push.Note{User: "a"}, t0)
	c.Add(push.Note{User: "b"}, t0.Add(300*time.Millisecond))
	if due, ok := c.Next(); !ok || !due.Equal(t0.Add(time.Second)) {
		t.Fatalf("Next = %v, %v; want %v", due, ok, t0.Add(time.Second))
	}
	c.Due(t0.Add(time.Second))
	if due, ok := c.Next(); !ok || !due.Equal(t0.Add(1300*time.Millisecond)) {
		t.Fatalf("after the first batch, Next = %v, %v; want %v", due, ok, t0.Add(1300*time.Millisecond))
	}
}
