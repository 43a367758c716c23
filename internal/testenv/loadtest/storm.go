package loadtest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// A storm message's body is "st SEQ" and its id "st-SEQ".
const stormBodyPrefix = "st "

// stormWindow bounds the poster's messages in flight.
const stormWindow = 32

func parseStormBody(body string) (int, bool) {
	if len(body) <= len(stormBodyPrefix) || body[:len(stormBodyPrefix)] != stormBodyPrefix {
		return 0, false
	}
	n, err := strconv.Atoi(body[len(stormBodyPrefix):])
	return n, err == nil && n >= 0
}

// tally counts how often each storm message reached one client.
type tally struct {
	mu     sync.Mutex
	counts []int
	unique int
}

func newTally(n int) *tally { return &tally{counts: make([]int, n)} }

// add records message seq and reports whether it was new.
func (t *tally) add(seq int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq >= len(t.counts) {
		return false
	}
	t.counts[seq]++
	if t.counts[seq] == 1 {
		t.unique++
		return true
	}
	return false
}

func (t *tally) distinct() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.unique
}

// missingAndExtra returns the messages never counted and the counts beyond
// the first.
func (t *tally) missingAndExtra() (missing, extra int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.counts {
		if c == 0 {
			missing++
		} else {
			extra += int64(c - 1)
		}
	}
	return missing, extra
}

// runStorm measures the catch-up storm on a started stack: readers join a
// group (or room) with a poster, go offline, the poster posts
// cfg.StormMessages messages, then every reader reconnects at once and
// fetches them all with paged queries.
func runStorm(ctx context.Context, cfg *Config, sys System, sc Scenario, st *stack) (Result, error) {
	log := cfg.logger()
	res := Result{Scenario: sc, System: sys, Clients: sc.Clients(), Senders: sc.Members}
	n := cfg.StormMessages
	room := roomJID(sys, "storm")

	poster := newMember(userName(0))
	place(sys, poster, room)
	reflected := newTally(n)
	slots := make(chan struct{}, stormWindow)
	poster.handle = func(s *xmppclient.Stanza) bool {
		if !s.Is("", "message") || s.Type() != "groupchat" {
			return false
		}
		seq, ok := parseStormBody(s.ChildText("", "body"))
		if !ok {
			return false
		}
		if reflected.add(seq) {
			select {
			case <-slots:
			default:
			}
		}
		return true
	}
	readers := make([]*member, sc.Members)
	for i := range readers {
		readers[i] = newMember(userName(i + 1))
		place(sys, readers[i], room)
	}
	everyone := append([]*member{poster}, readers...)
	defer closeAll(everyone)

	setup, cancel := context.WithTimeout(ctx, setupTimeout(cfg, len(everyone)))
	defer cancel()
	err := parallel(len(everyone), dialParallel, func(i int) error {
		if err := everyone[i].dial(setup, st.srv.C2SAddr()); err != nil {
			return err
		}
		return comeOnline(setup, sys, everyone[i])
	})
	if err != nil {
		return res, fmt.Errorf("logging in: %w", err)
	}
	if err := formGroup(setup, sys, everyone); err != nil {
		return res, fmt.Errorf("forming the group: %w", err)
	}
	if sys == MUCMAM {
		ok, err := hasFeature(setup, poster, nsMAM)
		if err != nil {
			return res, err
		}
		if !ok {
			res.Skipped = "the room does not offer " + nsMAM + ": mod_muc_mam is not set up"
			return res, nil
		}
	}

	// Where each reader was when it went offline: the catch-up position a
	// phone keeps. MUC readers ask for the room archive's last messages
	// instead.
	positions := make([]string, len(readers))
	if sys.component() {
		err := parallel(len(readers), dialParallel, func(i int) error {
			page, err := catchUpPage(setup, readers[i], "", 0, "pos")
			if err != nil {
				return err
			}
			positions[i] = page.Attr("position")
			if positions[i] == "" {
				return fmt.Errorf("the catch-up answer has no position: %s", page)
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	closeAll(readers)
	if sys.component() {
		// The server told the service of every reader's departure before
		// this ping reaches it.
		if err := comeOnline(setup, sys, poster); err != nil {
			return res, err
		}
	}

	started := time.Now()
	for seq := 0; seq < n; seq++ {
		select {
		case slots <- struct{}{}:
		case <-setup.Done():
			return res, fmt.Errorf("posting the storm's messages: %d of %d reflected: %w", reflected.distinct(), n, setup.Err())
		}
		if err := poster.send(setup, fmt.Sprintf(`<message type="groupchat" to="%s" id="st-%d"><body>%s%d</body></message>`, room, seq, stormBodyPrefix, seq)); err != nil {
			return res, err
		}
	}
	for reflected.distinct() < n {
		if setup.Err() != nil {
			return res, fmt.Errorf("posting the storm's messages: %d of %d reflected", reflected.distinct(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res.Sent = int64(n)
	log.Info("storm messages posted while the readers were offline", "messages", n, "took", time.Since(started).Round(time.Millisecond))
	if err := st.alive(); err != nil {
		return res, err
	}

	// Everyone back at once.
	u0, err := st.usage(ctx)
	if err != nil {
		return res, err
	}
	self0 := selfCPU()
	back := make([]*member, len(readers))
	tallies := make([]*tally, len(readers))
	took := make([]time.Duration, len(readers))
	errs := make([]error, len(readers))
	defer closeAll(back)
	catch, cancelCatch := context.WithTimeout(ctx, cfg.StormTimeout)
	defer cancelCatch()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range readers {
		m := newMember(readers[i].user)
		place(sys, m, room)
		t := newTally(n)
		if !sys.component() {
			m.handle = archiveResultHandler(t)
		}
		back[i], tallies[i] = m, t
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = catchUp(catch, cfg, sys, st.srv.C2SAddr(), m, t, positions[i], n)
			took[i] = time.Since(start)
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	u1, err := st.usage(ctx)
	if err != nil {
		return res, err
	}
	res.CPUServer, res.CPUComponent, res.CPULoad = u1.server-u0.server, u1.component-u0.component, selfCPU()-self0
	closeAll(back)

	res.Expected = int64(n) * int64(len(readers))
	failed := 0
	for i, t := range tallies {
		missing, extra := t.missingAndExtra()
		res.Lost += missing
		res.Duplicated += extra
		res.Delivered += int64(n) - missing
		if errs[i] != nil {
			failed++
			if res.Err == "" {
				res.Err = errs[i].Error()
			}
		}
	}
	if failed > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d of %d readers failed to catch up", failed, len(readers)))
	}
	res.Latency = percentiles(took)
	for _, m := range append(back, poster) {
		res.CtrlDropped += m.dropped.Load()
	}
	return res, nil
}

// catchUp is one reader coming back: log in, then fetch the missed messages
// page by page.
func catchUp(ctx context.Context, cfg *Config, sys System, addr string, m *member, t *tally, position string, n int) error {
	if err := m.dial(ctx, addr); err != nil {
		return err
	}
	if sys.component() {
		// Online for the service, then one paged #catchup from where the
		// reader left.
		if err := m.send(ctx, `<presence to="`+serviceJID+`"/>`); err != nil {
			return err
		}
		after := position
		for page := 0; ; page++ {
			q, err := catchUpPage(ctx, m, after, cfg.StormPage, strconv.Itoa(page))
			if err != nil {
				return err
			}
			fw := q.ChildrenNamed(nsForward, "forwarded")
			for _, f := range fw {
				if msg := f.Child("", "message"); msg != nil {
					if seq, ok := parseStormBody(msg.ChildText("", "body")); ok {
						t.add(seq)
					}
				}
			}
			// The page is the last when it is short, or holds every event
			// left in the range (<count/>).
			count, err := strconv.Atoi(findText(q, "{"+nsRSM+"}set/count"))
			if len(fw) < cfg.StormPage || (err == nil && len(fw) >= count) {
				return nil
			}
			after = findText(q, "{"+nsRSM+"}set/last")
			if after == "" {
				return fmt.Errorf("%s: a full catch-up page without <last/>", m.user)
			}
		}
	}
	// A MUC client joins the room, then pages back through its archive
	// (XEP-0313) until it has the last n messages.
	if err := joinRoom(ctx, m); err != nil {
		return err
	}
	before := ""
	for page := 0; ; page++ {
		id := fmt.Sprintf("mam-%s-%d", m.user, page)
		res, err := m.iq(ctx, id, fmt.Sprintf(`<iq type="set" id="%s" to="%s"><query xmlns="%s" queryid="%s"><set xmlns="%s"><max>%d</max><before>%s</before></set></query></iq>`,
			id, m.room, nsMAM, id, nsRSM, cfg.StormPage, before))
		if err != nil {
			return err
		}
		fin := res.Child(nsMAM, "fin")
		if fin == nil {
			return fmt.Errorf("%s: a MAM answer without <fin/>: %s", m.user, res)
		}
		if t.distinct() >= n || fin.Attr("complete") == "true" {
			return nil
		}
		before = findText(fin, "{"+nsRSM+"}set/first")
		if before == "" {
			return fmt.Errorf("%s: an incomplete MAM page without <first/>: %s", m.user, res)
		}
	}
}

// catchUpPage asks the service for one #catchup page after position (the
// latest page if position is empty) and returns its <query/>.
func catchUpPage(ctx context.Context, m *member, after string, max int, tag string) (*xmppclient.Stanza, error) {
	id := "cu-" + m.user + "-" + tag
	set := fmt.Sprintf(`<set xmlns="%s"><max>%d</max>`, nsRSM, max)
	if after != "" {
		set += "<after>" + after + "</after>"
	}
	res, err := m.iq(ctx, id, `<iq type="get" id="`+id+`" to="`+serviceJID+`"><query xmlns="`+nsCatchUp+`">`+set+`</set></query></iq>`)
	if err != nil {
		return nil, err
	}
	q := res.Child(nsCatchUp, "query")
	if q == nil {
		return nil, fmt.Errorf("%s: a catch-up answer without <query/>: %s", m.user, res)
	}
	return q, nil
}

// archiveResultHandler counts the storm messages in XEP-0313 result
// messages.
func archiveResultHandler(t *tally) func(*xmppclient.Stanza) bool {
	return func(s *xmppclient.Stanza) bool {
		r := s.Child(nsMAM, "result")
		if !s.Is("", "message") || r == nil {
			return false
		}
		if msg := r.Find("{" + nsForward + "}forwarded/message"); msg != nil {
			if seq, ok := parseStormBody(msg.ChildText("", "body")); ok {
				t.add(seq)
			}
		}
		return true
	}
}

// findText returns the text of the first element at path below s, or "".
func findText(s *xmppclient.Stanza, path string) string {
	if e := s.Find(path); e != nil {
		return e.Text
	}
	return ""
}
