package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// Namespaces the load generator reads or writes.
const (
	nsGroupchat = "http://jabber.org/protocol/groupchat"
	nsCreate    = nsGroupchat + "#creategroup"
	nsCatchUp   = nsGroupchat + "#catchup"
	nsMUC       = "http://jabber.org/protocol/muc"
	nsMAM       = "urn:xmpp:mam:2"
	nsRSM       = "http://jabber.org/protocol/rsm"
	nsForward   = "urn:xmpp:forward:0"
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
	nsPing      = "urn:xmpp:ping"
)

// ctrlBuffer is how many control stanzas (IQ answers, errors, join and
// creation acknowledgements) a member holds before dropping more; setup
// reads them as they come.
const ctrlBuffer = 64

// dialParallel bounds concurrent logins during setup; a storm reconnects
// without it.
const dialParallel = 32

// member is one logged-in client.
type member struct {
	user string // localpart
	c    *xmppclient.Client

	// room is the bare JID of the member's group or room; occupant its
	// occupant JID in a MUC room (room/nick), empty otherwise.
	room, occupant string

	// handle, if set, consumes the stanzas it returns true for (the
	// measured traffic) in the receiving goroutine; the other stanzas that
	// setup may wait for go to ctrl.
	handle func(*xmppclient.Stanza) bool
	ctrl   chan *xmppclient.Stanza
	// dropped counts control stanzas that did not fit in ctrl.
	dropped atomic.Int64
}

func userName(i int) string { return fmt.Sprintf("u%05d", i) }

func newMember(user string) *member {
	return &member{user: user, ctrl: make(chan *xmppclient.Stanza, ctrlBuffer)}
}

// dial logs m in. m.handle, m.room and m.occupant must be set before.
func (m *member) dial(ctx context.Context, addr string) error {
	c, err := xmppclient.DialOptions(ctx, addr, jid.MustParse(m.user+"@"+xmppDomain+"/bench"), password,
		xmppclient.Options{OnStanza: m.receive})
	if err != nil {
		return err
	}
	m.c = c
	return nil
}

// receive runs in the client's receiving goroutine.
func (m *member) receive(s *xmppclient.Stanza) {
	if m.handle != nil && m.handle(s) {
		return
	}
	if !m.isControl(s) {
		return
	}
	select {
	case m.ctrl <- s:
	default:
		m.dropped.Add(1)
	}
}

// isControl tells the stanzas setup waits for from the rest (other
// occupants' presence, broadcasts of other kinds), which are dropped.
func (m *member) isControl(s *xmppclient.Stanza) bool {
	switch {
	case s.Is("", "iq"), s.Type() == "error":
		return true
	case s.Is("", "presence"):
		from := s.From()
		return (m.occupant != "" && from == m.occupant) ||
			(from == m.room && s.Child(nsCreate, "x") != nil)
	}
	return false
}

// send writes raw stanzas.
func (m *member) send(ctx context.Context, text string) error {
	if err := m.c.Send(ctx, []byte(text)); err != nil {
		return fmt.Errorf("%s: %w", m.user, err)
	}
	return nil
}

// await returns the first control stanza match accepts, discarding the
// others; ctx bounds the wait.
func (m *member) await(ctx context.Context, what string, match func(*xmppclient.Stanza) bool) (*xmppclient.Stanza, error) {
	for {
		select {
		case s := <-m.ctrl:
			if match(s) {
				return s, nil
			}
		case <-m.c.Done():
			return nil, fmt.Errorf("%s: the stream ended while waiting for %s: %v", m.user, what, m.c.Err())
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: waiting for %s: %w", m.user, what, ctx.Err())
		}
	}
}

// iq sends an IQ with the given id and waits for its result; an error
// answer is returned as an error.
func (m *member) iq(ctx context.Context, id, text string) (*xmppclient.Stanza, error) {
	if err := m.send(ctx, text); err != nil {
		return nil, err
	}
	s, err := m.await(ctx, "the answer to iq "+id, func(s *xmppclient.Stanza) bool {
		return s.Is("", "iq") && s.ID() == id && (s.Type() == "result" || s.Type() == "error")
	})
	if err != nil {
		return nil, err
	}
	if s.Type() == "error" {
		return nil, fmt.Errorf("%s: iq %s answered with an error: %s", m.user, id, s.Raw)
	}
	return s, nil
}

// parallel runs f(i) for i in [0, n) with at most limit at once and returns
// the first error; after an error no further call starts. Every started
// call is waited for.
func parallel(n, limit int, f func(i int) error) error {
	var (
		wg     sync.WaitGroup
		sem    = make(chan struct{}, limit)
		once   sync.Once
		first  error
		failed atomic.Bool
	)
	for i := 0; i < n && !failed.Load(); i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				once.Do(func() { first = err })
				failed.Store(true)
			}
		}()
	}
	wg.Wait()
	return first
}

// closeAll closes every logged-in member; Close also ends its receiving
// goroutine, so the members' receive state may be read afterwards.
func closeAll(ms []*member) {
	_ = parallel(len(ms), 64, func(i int) error {
		if ms[i] != nil && ms[i].c != nil {
			_ = ms[i].c.Close()
		}
		return nil
	})
}
