package loadtest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// A live message carries its sender, sequence number and send time in the
// body, "lt SENDER SEQ NANOS", NANOS counted from the run's base time on
// the monotonic clock; its id is "lt-SENDER-SEQ", which is how an error
// answer names it.
const (
	liveBodyPrefix = "lt "
	liveIDPrefix   = "lt-"
)

// maxSeq bounds the sequence numbers a receiver accepts, so that a mangled
// body cannot make it allocate without limit.
const maxSeq = 1 << 24

func appendLiveMessage(b []byte, to string, sender, seq int, at time.Duration) []byte {
	b = append(b, `<message type="groupchat" to="`...)
	b = append(b, to...)
	b = append(b, `" id="`+liveIDPrefix...)
	b = strconv.AppendInt(b, int64(sender), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `"><body>`+liveBodyPrefix...)
	b = strconv.AppendInt(b, int64(sender), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(at), 10)
	return append(b, "</body></message>"...)
}

// parseLiveBody reads "lt SENDER SEQ NANOS".
func parseLiveBody(body string) (sender, seq int, at time.Duration, ok bool) {
	if len(body) < len(liveBodyPrefix) || body[:len(liveBodyPrefix)] != liveBodyPrefix {
		return 0, 0, 0, false
	}
	var f [3]int64
	rest := body[len(liveBodyPrefix):]
	for i := range f {
		j := 0
		for j < len(rest) && rest[j] != ' ' {
			j++
		}
		n, err := strconv.ParseInt(rest[:j], 10, 64)
		if err != nil || n < 0 {
			return 0, 0, 0, false
		}
		f[i] = n
		if j < len(rest) {
			j++
		}
		rest = rest[j:]
	}
	return int(f[0]), int(f[1]), time.Duration(f[2]), rest == ""
}

// parseLiveID reads "lt-SENDER-SEQ".
func parseLiveID(id string) (sender, seq int, ok bool) {
	if len(id) < len(liveIDPrefix) || id[:len(liveIDPrefix)] != liveIDPrefix {
		return 0, 0, false
	}
	s, q, found := cut(id[len(liveIDPrefix):], '-')
	a, err1 := strconv.Atoi(s)
	b, err2 := strconv.Atoi(q)
	return a, b, found && err1 == nil && err2 == nil
}

func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// sender posts one member's messages.
type sender struct {
	idx   int // in message bodies; index into liveRun.senders
	m     *member
	to    string
	quota int // messages to post; 0: until stopped

	// slots holds one token per message in flight; the member's own
	// reflection (or an error answer) takes one out.
	slots chan struct{}

	// Written by the sending goroutine, read after it has ended.
	sent    int
	stalled bool
	err     error
}

func (s *sender) release() {
	select {
	case <-s.slots:
	default:
	}
}

// run posts until the quota is reached, stop is closed or ctx ends. With an
// interval, posts are paced from first; the window bounds them either way.
// A sender whose window stays full for stall (a reflection went missing)
// gives up.
func (s *sender) run(ctx context.Context, base time.Time, first time.Time, interval, stall time.Duration, stop <-chan struct{}) {
	// Since Go 1.23 Stop and Reset leave no stale tick in the channel, so
	// one timer serves every wait.
	var (
		buf   []byte
		next  = first
		timer = time.NewTimer(time.Hour)
	)
	timer.Stop()
	defer timer.Stop()
	wait := func(d time.Duration) bool {
		timer.Reset(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			return true
		case <-stop:
		case <-ctx.Done():
		}
		return false
	}
	for seq := 0; s.quota == 0 || seq < s.quota; seq++ {
		if interval > 0 {
			if d := time.Until(next); d > 0 && !wait(d) {
				return
			}
			next = next.Add(interval)
		}
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		select {
		case s.slots <- struct{}{}:
		default:
			timer.Reset(stall)
			select {
			case s.slots <- struct{}{}:
				timer.Stop()
			case <-timer.C:
				s.stalled = true
				return
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
		buf = appendLiveMessage(buf[:0], s.to, s.idx, seq, time.Since(base))
		if err := s.m.c.Send(ctx, buf); err != nil {
			s.err = err
			return
		}
		s.sent++
	}
}

// receiver accounts for what one member receives. It is written only by
// the member's receiving goroutine and read after the client is closed.
type receiver struct {
	base   time.Time
	own    *sender       // the member's own sender, if it posts
	unique *atomic.Int64 // first deliveries over all receivers

	counts map[int][]uint8 // sender -> seq -> deliveries (saturating)
	lat    []time.Duration
	dup    int64
	errs   int64
	last   time.Duration // since base, of the last delivery
}

func (r *receiver) handle(s *xmppclient.Stanza) bool {
	if !s.Is("", "message") {
		return false
	}
	switch s.Type() {
	case "groupchat":
		snd, seq, at, ok := parseLiveBody(s.ChildText("", "body"))
		if !ok || seq > maxSeq {
			return false
		}
		now := time.Since(r.base)
		c := r.counts[snd]
		if seq >= len(c) {
			c = append(c, make([]uint8, seq+1-len(c))...)
			r.counts[snd] = c
		}
		if c[seq] == 0 {
			r.unique.Add(1)
			r.lat = append(r.lat, now-at)
			if r.own != nil && r.own.idx == snd {
				r.own.release()
			}
		} else {
			r.dup++
		}
		if c[seq] < 255 {
			c[seq]++
		}
		r.last = now
		return true
	case "error":
		snd, _, ok := parseLiveID(s.ID())
		if !ok {
			return false
		}
		r.errs++
		if r.own != nil && r.own.idx == snd {
			r.own.release()
		}
		return true
	}
	return false
}

// runLive measures one live scenario on a started stack.
func runLive(ctx context.Context, cfg *Config, sys System, sc Scenario, st *stack) (Result, error) {
	log := cfg.logger()
	res := Result{Scenario: sc, System: sys, Clients: sc.Clients()}
	base := time.Now()
	var unique atomic.Int64

	perGroup := cfg.sendersPer(sc.Members)
	nSenders := sc.Groups * perGroup
	quotas := make([]int, nSenders)
	if cfg.Messages > 0 {
		for i := range quotas {
			quotas[i] = cfg.Messages / nSenders
			if i < cfg.Messages%nSenders {
				quotas[i]++
			}
		}
	}

	members := make([]*member, sc.Clients())
	recvs := make([]*receiver, len(members))
	groups := make([][]*member, sc.Groups)
	groupSenders := make([][]*sender, sc.Groups)
	senders := make([]*sender, 0, nSenders)
	for i := range members {
		g := i / sc.Members
		m := newMember(userName(i))
		place(sys, m, roomJID(sys, fmt.Sprintf("g%04d", g)))
		r := &receiver{base: base, unique: &unique, counts: map[int][]uint8{}}
		if i%sc.Members < perGroup {
			s := &sender{idx: len(senders), m: m, to: m.room, quota: quotas[len(senders)], slots: make(chan struct{}, cfg.Window)}
			senders = append(senders, s)
			groupSenders[g] = append(groupSenders[g], s)
			r.own = s
		}
		m.handle = r.handle
		members[i], recvs[i] = m, r
		groups[g] = append(groups[g], m)
	}
	res.Senders = len(senders)
	defer closeAll(members)

	setup, cancel := context.WithTimeout(ctx, setupTimeout(cfg, len(members)))
	defer cancel()
	started := time.Now()
	err := parallel(len(members), dialParallel, func(i int) error {
		if err := members[i].dial(setup, st.srv.C2SAddr()); err != nil {
			return err
		}
		return comeOnline(setup, sys, members[i])
	})
	if err != nil {
		return res, fmt.Errorf("logging in: %w", err)
	}
	log.Info("clients logged in", "clients", len(members), "took", time.Since(started).Round(time.Millisecond))
	started = time.Now()
	if err := parallel(len(groups), 8, func(g int) error { return formGroup(setup, sys, groups[g]) }); err != nil {
		return res, fmt.Errorf("forming groups: %w", err)
	}
	log.Info("groups formed", "groups", len(groups), "took", time.Since(started).Round(time.Millisecond))
	if err := st.alive(); err != nil {
		return res, err
	}

	u0, err := st.usage(ctx)
	if err != nil {
		return res, err
	}
	self0 := selfCPU()
	stop := make(chan struct{})
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(len(senders)) / cfg.Rate * float64(time.Second))
	}
	start := time.Now()
	firstPost := start.Sub(base)
	if cfg.Messages == 0 {
		t := time.AfterFunc(cfg.Duration, func() { close(stop) })
		defer t.Stop()
	}
	var wg sync.WaitGroup
	for i, s := range senders {
		// Paced senders are spread evenly over one interval.
		first := start
		if interval > 0 {
			first = start.Add(interval * time.Duration(i) / time.Duration(len(senders)))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.run(ctx, base, first, interval, cfg.Drain, stop)
		}()
	}
	wg.Wait()
	postedFor := time.Since(start)

	var expected int64
	for _, s := range senders {
		res.Sent += int64(s.sent)
		expected += int64(s.sent) * int64(sc.Members)
		if s.err != nil && res.Err == "" {
			res.Err = "posting: " + s.err.Error()
		}
		if s.stalled {
			res.Stalled++
		}
	}
	res.Expected = expected
	log.Info("posting ended", "messages", res.Sent, "took", postedFor.Round(time.Millisecond), "waiting_for", expected-unique.Load())

	deadline := time.Now().Add(cfg.Drain)
	for unique.Load() < expected && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	u1, err := st.usage(ctx)
	if err != nil {
		return res, err
	}
	res.CPUServer, res.CPUComponent, res.CPULoad = u1.server-u0.server, u1.component-u0.component, selfCPU()-self0
	res.LinkBytes = u1.linkBytes - u0.linkBytes
	// A duplicate would most likely trail its original by little: give one
	// a moment to show up.
	time.Sleep(300 * time.Millisecond)
	if err := st.alive(); err != nil {
		res.Err = err.Error()
	}
	closeAll(members)

	var (
		lat  []time.Duration
		last time.Duration
	)
	for i, r := range recvs {
		res.Delivered += int64(len(r.lat))
		res.Duplicated += r.dup
		res.Errors += r.errs
		lat = append(lat, r.lat...)
		last = max(last, r.last)
		for _, s := range groupSenders[i/sc.Members] {
			c := r.counts[s.idx]
			for seq := 0; seq < s.sent; seq++ {
				if seq >= len(c) || c[seq] == 0 {
					res.Lost++
				}
			}
		}
	}
	res.Latency = percentiles(lat)
	if last > firstPost {
		res.Elapsed = last - firstPost
	}
	for _, m := range members {
		res.CtrlDropped += m.dropped.Load()
	}
	return res, nil
}

// setupTimeout bounds logging in and forming groups: generous, so that it
// only catches a hang.
func setupTimeout(cfg *Config, clients int) time.Duration {
	return cfg.Drain + time.Duration(clients)*50*time.Millisecond
}
