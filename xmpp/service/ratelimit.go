package service

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per sender: a person typing never empties
// it, a runaway client does.
type rateLimiter struct {
	rate  float64
	burst float64
	mu    sync.Mutex
	by    map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int) *rateLimiter {
	if burst <= 0 {
		burst = int(rate * 5)
	}
	return &rateLimiter{rate: rate, burst: float64(burst), by: map[string]*bucket{}}
}

func (r *rateLimiter) allow(sender string, now time.Time) bool {
	if r.rate <= 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.by[sender]
	if b == nil {
		if len(r.by) >= 100_000 {
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
func (r *rateLimiter) evictFull(now time.Time) {
	for k, b := range r.by {
		if b.tokens+now.Sub(b.last).Seconds()*r.rate >= r.burst {
			delete(r.by, k)
		}
	}
}
