package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestAllow(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name  string
		rate  float64
		burst int
		// at is each attempt's offset from t0; want is whether it passes.
		at   []time.Duration
		want []bool
	}{
		{"unlimited", 0, 0, []time.Duration{0, 0, 0}, []bool{true, true, true}},
		{"a burst, then refused", 1, 3, []time.Duration{0, 0, 0, 0}, []bool{true, true, true, false}},
		{"refilled after a second", 1, 2, []time.Duration{0, 0, 0, time.Second}, []bool{true, true, false, true}},
		{"never above the burst", 10, 2, []time.Duration{0, time.Hour, time.Hour, time.Hour}, []bool{true, true, true, false}},
		{"default burst is five seconds' worth", 2, 0, make([]time.Duration, 11), append(trues(10), false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(tt.rate, tt.burst)
			for i, d := range tt.at {
				if got := l.Allow("alice@example.org", t0.Add(d)); got != tt.want[i] {
					t.Fatalf("attempt %d at +%v: allowed %v, want %v", i, d, got, tt.want[i])
				}
			}
		})
	}
}

func TestSendersHaveTheirOwnBuckets(t *testing.T) {
	l, now := New(1, 1), time.Unix(1_700_000_000, 0)
	if !l.Allow("alice@example.org", now) || l.Allow("alice@example.org", now) {
		t.Fatal("alice's bucket holds one token")
	}
	if !l.Allow("bob@example.org", now) {
		t.Fatal("bob is refused for alice's messages")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	l, now := New(1, 1), time.Unix(1_700_000_000, 0)
	for i := 0; i < maxSenders+10; i++ {
		l.Allow(fmt.Sprintf("u%d@example.org", i), now)
	}
	// A minute later every bucket is full again and may be forgotten.
	l.Allow("late@example.org", now.Add(time.Minute))
	if n := len(l.by); n > 10 {
		t.Fatalf("%d buckets kept after the full ones could be dropped", n)
	}
	// An emptied bucket is kept: forgetting it would forgive the sender.
	l.Allow("late@example.org", now.Add(time.Minute))
	if l.Allow("late@example.org", now.Add(time.Minute)) {
		t.Fatal("late's empty bucket was refilled")
	}
}

func trues(n int) []bool {
	b := make([]bool, n)
	for i := range b {
		b[i] = true
	}
	return b
}
