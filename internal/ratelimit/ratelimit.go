// Package ratelimit bounds how fast each sender may act: a token bucket
// per sender, so a person typing never empties it and a runaway client does.
package ratelimit

import (
	"sync"
	"time"
)

// maxSenders bounds the buckets kept before full ones are forgotten.
const maxSenders = 100_000

// Limiter is a token bucket per sender. It is safe for concurrent use.
type Limiter struct {
	rate  float64
	burst float64
	mu    sync.Mutex
	by    map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a limiter allowing rate actions per second to each sender,
// with bursts of up to burst (0: five seconds' worth). A rate of 0 or less
// allows everything.
func New(rate float64, burst int) *Limiter {
	if burst <= 0 {
		burst = int(rate * 5)
	}
	return &Limiter{rate: rate, burst: float64(burst), by: map[string]*bucket{}}
}

// Allow takes one token from sender's bucket at now; false if it is empty.
func (r *Limiter) Allow(sender string, now time.Time) bool {
	if r.rate <= 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.by[sender]
	if b == nil {
		if len(r.by) >= maxSenders {
			r.evictFull(now)
		}
		b = &bucket{tokens: r.burst, last: now}
		r.by[sender] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * r.rate
	if b.tokens > r.burst {
		b.tokens = r.burst
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// evictFull drops buckets that have refilled: forgetting them changes
// nothing, and it keeps memory bounded.
func (r *Limiter) evictFull(now time.Time) {
	for k, b := range r.by {
		if b.tokens+now.Sub(b.last).Seconds()*r.rate >= r.burst {
			delete(r.by, k)
		}
	}
}
