package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/replay"
	"github.com/uuchat/groupchat/snapshot"
	"github.com/uuchat/groupchat/xmpp/presence"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/readmodel"
	"github.com/uuchat/groupchat/xmpp/service"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

const (
	benchDomain = "groupchat.example.test"
	benchAlice  = "alice@example.test"
	benchBob    = "bob@example.test"
	benchCarol  = "carol@example.test"
	benchDave   = "dave@example.test"
	// catchUpMax is the page a phone asks for; the service may serve
	// smaller pages (protocol.MaxPage), and the phone then pages on.
	catchUpMax = 1000
	// buildBatch is how many events one Append carries while the older
	// history is written.
	buildBatch = 1000
	// otherGroups is how many groups bob is not in share the older history
	// with his own.
	otherGroups = 100
)

// catchUpLayout says where the messages bob missed are: perGroup messages
// in each of groups of his groups.
type catchUpLayout struct {
	name             string
	groups, perGroup int
}

func (l catchUpLayout) missed() int { return l.groups * l.perGroup }

var (
	catchUpLayouts = []catchUpLayout{
		{"OneGroup10k", 1, 10_000},
		{"HundredGroups100", 100, 100},
	}
	catchUpHistories = []struct {
		name  string
		total int
	}{
		{"history=10k", 10_000},
		{"history=1M", 1_000_000},
	}
)

// BenchmarkCatchUp measures the server time of a phone's catch-up through
// the whole service: the catch-up IQ goes in through HandleStanza, the
// service reads the projections (SQLite) for the timeline and the event log
// (SQLite) for the events, and the IQ result comes out of the Sender. bob's
// position is just before the 10,000 messages alice posted since; he asks
// for pages of 1000 (served in pages of at most protocol.MaxPage) and pages
// on until he has them all. One op is the whole catch-up.
//
// OneGroup10k puts the 10,000 messages in one group, HundredGroups100 puts
// 100 in each of 100 groups, interleaved as they were posted. history=10k
// is a log of little more than those messages; history=1M adds older
// messages before bob's position, half in his groups and half in 100
// groups he is not in. ms/1000events is the server time (HandleStanza to
// IQ result, summed over the pages) per 1,000 events delivered; it should
// not grow with the history.
//
// The logs are built once per run and shared by the sub-benchmarks;
// building, loading and one warm-up catch-up are not timed. With
// CATCHUP_BENCH_DIR set to a directory, the logs are kept there and reused
// by later runs, which then skip the set-up.
func BenchmarkCatchUp(b *testing.B) {
	logs := &logCache{dir: os.Getenv("CATCHUP_BENCH_DIR"), logs: map[string]*cachedLog{}}
	if logs.dir == "" {
		logs.dir = b.TempDir()
	}
	for _, l := range catchUpLayouts {
		b.Run(l.name, func(b *testing.B) {
			for _, h := range catchUpHistories {
				b.Run(h.name, func(b *testing.B) {
					benchCatchUp(b, logs.get(b, l, h.total))
				})
			}
		})
	}
}

func benchCatchUp(b *testing.B, lg builtLog) {
	ctx := context.Background()
	rec := &recorder{done: make(chan arrival, 1)}
	svc, _, _ := runService(b, lg, service.Config{Domain: benchDomain, Limits: domain.DefaultLimits()}, nil, rec)

	// One untimed catch-up first: the figures are for warm caches.
	c := catchUpClient{svc: svc, rec: rec}
	if _, _, err := c.catchUp(ctx, lg.after, lg.missed); err != nil {
		b.Fatal(err)
	}
	// Loading a long log leaves garbage behind; collecting it is not the
	// catch-up's work.
	runtime.GC()
	var server time.Duration
	pages := 0
	for b.Loop() {
		d, n, err := c.catchUp(ctx, lg.after, lg.missed)
		if err != nil {
			b.Fatal(err)
		}
		server += d
		pages += n
	}
	events := float64(b.N) * float64(lg.missed)
	b.ReportMetric(server.Seconds()*1e3/(events/1000), "ms/1000events")
	b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
}

// runService starts a service and its projector, as serve wires them, on
// a built log, sending to out; snaps may be nil. Both stop when the
// benchmark ends.
func runService(b *testing.B, lg builtLog, cfg service.Config, snaps *snapshot.Store, out service.Sender) (*service.Service, eventstore.Store, *projections.DB) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, err := sqlite.Open(lg.events, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	proj, err := projections.Open(lg.projections)
	if err != nil {
		b.Fatal(err)
	}
	if snaps != nil {
		cfg.Snapshots = snaps
	}
	svc := service.New(cfg, store, readmodel.ReadModel{DB: proj}, presence.NewTracker(), slog.New(slog.DiscardHandler))
	if err := svc.Load(ctx); err != nil {
		b.Fatal(err)
	}
	svc.Attach(out)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := svc.Run(ctx); err != nil {
			b.Error(err)
		}
	})
	wg.Go(func() {
		if err := proj.Run(ctx, store, projections.RunOptions{OnApplied: svc.OnApplied}); err != nil && ctx.Err() == nil {
			b.Error(err)
		}
	})
	b.Cleanup(func() {
		cancel()
		wg.Wait()
		proj.Close()
		store.Close()
	})
	return svc, store, proj
}

// catchUpClient plays bob's phone: it sends catch-up IQs and reads the
// results' result sets to ask for the next page.
type catchUpClient struct {
	svc *service.Service
	rec *recorder
	seq int
}

var (
	rsmSet    = []byte(`<set xmlns="` + protocol.NSRSM + `">`)
	forwarded = []byte(`<forwarded `)
)

// catchUp fetches every event after position after, page by page, and
// returns the server time summed over the pages and how many pages it took.
// want is how many events the catch-up must deliver.
func (c *catchUpClient) catchUp(ctx context.Context, after uint64, want int) (time.Duration, int, error) {
	var server time.Duration
	delivered, pages := 0, 0
	for delivered < want {
		c.seq++
		id := "cu-" + strconv.Itoa(c.seq)
		iq, err := xmlnode.Parse(fmt.Sprintf(`<iq type="get" from="bob@example.test/phone" to="%s" id="%s">`+
			`<query xmlns="%s"><set xmlns="%s"><max>%d</max><after>%d</after></set></query></iq>`,
			benchDomain, id, protocol.NSCatchUp, protocol.NSRSM, catchUpMax, after), xmlnode.DefaultLimits())
		if err != nil {
			return 0, 0, err
		}
		c.rec.expect(id)
		start := time.Now()
		c.svc.HandleStanza(ctx, iq)
		var got arrival
		select {
		case got = <-c.rec.done:
		case <-time.After(time.Minute):
			return 0, 0, fmt.Errorf("catch-up %s: no IQ result within a minute", id)
		}
		server += got.at.Sub(start)
		pages++

		tail := got.stanza.Tail
		if !bytes.Contains(got.stanza.Head, []byte(` type="result"`)) {
			return 0, 0, fmt.Errorf("catch-up %s after %d: not a result: %.500s", id, after, got.stanza.String())
		}
		set := bytes.LastIndex(tail, rsmSet)
		if set < 0 {
			return 0, 0, fmt.Errorf("catch-up %s: no result set in %.500s", id, got.stanza.String())
		}
		count, err := strconv.Atoi(elementText(tail[set:], "count"))
		if err != nil {
			return 0, 0, fmt.Errorf("catch-up %s: result set count: %w", id, err)
		}
		if count != want-delivered {
			return 0, 0, fmt.Errorf("catch-up %s after %d: %d events left, want %d", id, after, count, want-delivered)
		}
		n := bytes.Count(tail[:set], forwarded)
		if n == 0 {
			return 0, 0, fmt.Errorf("catch-up %s after %d: an empty page with %d events left", id, after, count)
		}
		delivered += n
		if after, err = strconv.ParseUint(elementText(tail[set:], "last"), 10, 64); err != nil {
			return 0, 0, fmt.Errorf("catch-up %s: result set last: %w", id, err)
		}
	}
	if delivered != want {
		return 0, 0, fmt.Errorf("catch-up delivered %d events, want %d", delivered, want)
	}
	return server, pages, nil
}

// elementText returns the text of the first <name>text</name> in buf (an
// element without attributes).
func elementText(buf []byte, name string) string {
	open := []byte("<" + name + ">")
	i := bytes.Index(buf, open)
	if i < 0 {
		return ""
	}
	rest := buf[i+len(open):]
	j := bytes.Index(rest, []byte("</"+name+">"))
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// recorder is the service's Sender: it keeps what the service sends and
// hands over the IQ result (or error) with the awaited id, with the time it
// arrived.
type recorder struct {
	mu   sync.Mutex
	want []byte
	sent []protocol.Outbound
	done chan arrival
}

type arrival struct {
	stanza protocol.Outbound
	at     time.Time
}

func (r *recorder) expect(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.want = []byte(` id="` + id + `"`)
	r.sent = r.sent[:0]
}

// Send implements service.Sender.
func (r *recorder) Send(ctx context.Context, o protocol.Outbound) error {
	at := time.Now()
	r.mu.Lock()
	r.sent = append(r.sent, o)
	match := r.want != nil && bytes.HasPrefix(o.Head, []byte("<iq ")) && bytes.Contains(o.Head, r.want)
	if match {
		r.want = nil
	}
	r.mu.Unlock()
	if match {
		r.done <- arrival{o, at}
	}
	return nil
}

// builtLog is an event log with its projections rebuilt, ready to serve.
type builtLog struct {
	events, projections string
	// after is bob's position: the last event before the messages he
	// missed; missed is how many events follow it.
	after  uint64
	missed int
}

// logCache builds each log once per run, under dir: the benchmark's
// temporary directory, or CATCHUP_BENCH_DIR, where a log an earlier run
// built is used again.
type logCache struct {
	dir  string
	mu   sync.Mutex
	logs map[string]*cachedLog
}

type cachedLog struct {
	once sync.Once
	log  builtLog
	err  error
}

func (c *logCache) get(b *testing.B, l catchUpLayout, total int) builtLog {
	b.Helper()
	key := fmt.Sprintf("%s-%d", l.name, total)
	c.mu.Lock()
	cl := c.logs[key]
	if cl == nil {
		cl = &cachedLog{}
		c.logs[key] = cl
	}
	c.mu.Unlock()
	cl.once.Do(func() {
		dir := filepath.Join(c.dir, key)
		if cl.log, cl.err = readBuilt(dir); cl.err == nil {
			return
		}
		if cl.log, cl.err = buildCatchUpLog(b, dir, l, total); cl.err == nil {
			cl.err = writeBuilt(dir, cl.log)
		}
	})
	if cl.err != nil {
		b.Fatal(cl.err)
	}
	return cl.log
}

// builtMark names the file that marks a complete log, holding bob's
// position and the number of events he missed.
const builtMark = "built"

func writeBuilt(dir string, lg builtLog) error {
	return os.WriteFile(filepath.Join(dir, builtMark), fmt.Appendf(nil, "%d %d\n", lg.after, lg.missed), 0o644)
}

// readBuilt finds a log that an earlier run built in dir.
func readBuilt(dir string) (builtLog, error) {
	mark, err := os.ReadFile(filepath.Join(dir, builtMark))
	if err != nil {
		return builtLog{}, err
	}
	lg := builtLog{events: filepath.Join(dir, "events.db"), projections: filepath.Join(dir, "projections.db")}
	if _, err := fmt.Sscan(string(mark), &lg.after, &lg.missed); err != nil {
		return builtLog{}, fmt.Errorf("%s: %w", filepath.Join(dir, builtMark), err)
	}
	return lg, nil
}

// buildCatchUpLog writes a log of about total events into dir and rebuilds
// its projections: the groups are created, then the older history is
// appended in large batches, each group from its own goroutine; then bob's
// position is taken and alice posts the messages he will miss, one per
// Append, each of his groups from its own goroutine, so that they
// interleave as live traffic does.
func buildCatchUpLog(b *testing.B, dir string, l catchUpLayout, total int) (builtLog, error) {
	ctx := context.Background()
	start := time.Now()
	// A build that did not finish leaves no mark: start it over.
	if err := os.RemoveAll(dir); err != nil {
		return builtLog{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return builtLog{}, err
	}
	lg := builtLog{events: filepath.Join(dir, "events.db"), projections: filepath.Join(dir, "projections.db"), missed: l.missed()}
	store, err := sqlite.Open(lg.events, sqlite.Options{Synchronous: "normal"})
	if err != nil {
		return builtLog{}, err
	}
	defer store.Close()

	var mine, others []*groupWriter
	for i := range l.groups {
		mine = append(mine, newGroupWriter(fmt.Sprintf("room-%03d", i), benchAlice, benchBob, benchCarol))
	}
	older := total - l.missed() - l.groups
	if older > 0 {
		for i := range otherGroups {
			others = append(others, newGroupWriter(fmt.Sprintf("other-%03d", i), benchAlice, benchCarol, benchDave))
		}
		older -= otherGroups
	}
	all := append(append([]*groupWriter(nil), mine...), others...)
	for _, g := range all {
		if err := g.create(ctx, store); err != nil {
			return builtLog{}, err
		}
	}
	// Older history: half in bob's groups, half in the others.
	if older > 0 {
		err := eachGroup(all, func(i int, g *groupWriter) error {
			if i < len(mine) {
				return g.post(ctx, store, share(older/2, len(mine), i), buildBatch, 0)
			}
			return g.post(ctx, store, share(older-older/2, len(others), i-len(mine)), buildBatch, 0)
		})
		if err != nil {
			return builtLog{}, err
		}
	}
	if lg.after, err = store.LastPosition(ctx); err != nil {
		return builtLog{}, err
	}
	// What bob missed, posted a month later.
	err = eachGroup(mine, func(_ int, g *groupWriter) error {
		return g.post(ctx, store, l.perGroup, 1, 30*24*time.Hour)
	})
	if err != nil {
		return builtLog{}, err
	}
	last, err := store.LastPosition(ctx)
	if err != nil {
		return builtLog{}, err
	}
	if last-lg.after != uint64(lg.missed) {
		return builtLog{}, fmt.Errorf("%d events after bob's position, want %d", last-lg.after, lg.missed)
	}
	stored := time.Since(start)
	st, err := replay.Rebuild(ctx, store, lg.projections, nil)
	if err != nil {
		return builtLog{}, err
	}
	b.Logf("log %s: %d events stored in %v, projections rebuilt in %v", filepath.Base(dir), last,
		stored.Round(time.Millisecond), (st.Fold + st.Write).Round(time.Millisecond))
	return lg, store.Close()
}

// share is the i-th of n near-equal parts of total.
func share(total, n, i int) int {
	part := total / n
	if i < total%n {
		part++
	}
	return part
}

// eachGroup runs f for every group at once and returns the first error.
func eachGroup(groups []*groupWriter, f func(i int, g *groupWriter) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(groups))
	for i, g := range groups {
		wg.Go(func() { errs[i] = f(i, g) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// groupWriter writes one group's stream: it decides each command against
// the group's state, evolves the state with the events and appends them
// with the exact expected version, as the service does.
type groupWriter struct {
	id      string
	members []string
	state   *domain.Group
	lim     domain.Limits
	posted  int
	// clock is when the next event happens; events are a second apart.
	clock time.Time
}

func newGroupWriter(id string, members ...string) *groupWriter {
	lim := domain.DefaultLimits()
	return &groupWriter{id: id, members: members, state: domain.NewGroup(lim), lim: lim,
		clock: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (g *groupWriter) decide(cmd domain.Command) ([]eventstore.EventData, error) {
	d, err := domain.Decide(g.state, cmd, g.clock, g.lim)
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", g.id, err)
	}
	g.clock = g.clock.Add(time.Second)
	out := make([]eventstore.EventData, 0, len(d.Events))
	for _, e := range d.Events {
		g.state = domain.Evolve(g.state, e)
		typ, data, err := domain.EncodeEvent(e)
		if err != nil {
			return nil, err
		}
		// Time-ordered ids append to the end of the log's id index instead
		// of landing on a random page of it, which halves the time a 1M-event
		// log takes to build; catch-up never reads by id.
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		out = append(out, eventstore.EventData{ID: id.String(), Type: typ, Data: data})
	}
	return out, nil
}

// expected is the expected version for an append of the events decided
// since the state's version was base.
func expectedAfter(base uint64) eventstore.ExpectedVersion {
	if base == 0 {
		return eventstore.NoStream()
	}
	return eventstore.Exact(base - 1)
}

func (g *groupWriter) append(ctx context.Context, store eventstore.Store, expected eventstore.ExpectedVersion, events []eventstore.EventData) error {
	if _, err := store.Append(ctx, g.id, expected, events...); err != nil {
		return fmt.Errorf("group %s: %w", g.id, err)
	}
	return nil
}

func (g *groupWriter) create(ctx context.Context, store eventstore.Store) error {
	c := domain.CreateGroup{GroupID: g.id, Name: "Room " + g.id, Creator: domain.Member{JID: g.members[0]}}
	for _, m := range g.members[1:] {
		c.Members = append(c.Members, domain.Member{JID: m})
	}
	base := g.state.Version()
	events, err := g.decide(c)
	if err != nil {
		return err
	}
	return g.append(ctx, store, expectedAfter(base), events)
}

// post has alice post n messages, batch per Append, after a pause. The
// next batch is decided while the previous one is being appended.
func (g *groupWriter) post(ctx context.Context, store eventstore.Store, n, batch int, pause time.Duration) error {
	type pending struct {
		expected eventstore.ExpectedVersion
		events   []eventstore.EventData
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan pending, 1)
	var decideErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(batches)
		g.clock = g.clock.Add(pause)
		for i := 0; i < n; {
			p := pending{expected: expectedAfter(g.state.Version()), events: make([]eventstore.EventData, 0, batch)}
			for ; i < n && len(p.events) < batch; i++ {
				g.posted++
				evs, err := g.decide(domain.PostMessage{
					Sender: benchAlice,
					ID:     "msg-" + strconv.Itoa(g.posted),
					Body:   fmt.Sprintf("Message %d in %s: shall we meet at noon tomorrow, by the station?", g.posted, g.id),
				})
				if err != nil {
					decideErr = err
					return
				}
				p.events = append(p.events, evs...)
			}
			select {
			case batches <- p:
			case <-ctx.Done():
				return
			}
		}
	})
	var appendErr error
	for p := range batches {
		if appendErr = g.append(ctx, store, p.expected, p.events); appendErr != nil {
			cancel()
			break
		}
	}
	wg.Wait()
	return errors.Join(decideErr, appendErr)
}
