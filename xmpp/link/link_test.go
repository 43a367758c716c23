package link

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// fakeServer is the server side of XEP-0114 on loopback: it checks the
// handshake and hands the connection to the test.
type fakeServer struct {
	ln     net.Listener
	secret string
	conns  chan net.Conn
}

func newFakeServer(t testing.TB, secret string) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, secret: secret, conns: make(chan net.Conn, 4)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.handshake(c)
		}
	}()
	return s
}

func (s *fakeServer) handshake(c net.Conn) {
	d := xml.NewDecoder(c)
	for {
		tok, err := d.Token()
		if err != nil {
			c.Close()
			return
		}
		if st, ok := tok.(xml.StartElement); ok && st.Name.Local == "stream" {
			break
		}
	}
	const id = "stream-1"
	fmt.Fprintf(c, `<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' id='%s' from='comp.example.test'>`, id)
	var hs struct {
		XMLName xml.Name `xml:"handshake"`
		Digest  string   `xml:",chardata"`
	}
	if err := d.Decode(&hs); err != nil {
		c.Close()
		return
	}
	want := sha1.Sum([]byte(id + s.secret))
	if strings.TrimSpace(hs.Digest) != hex.EncodeToString(want[:]) {
		fmt.Fprint(c, `<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`)
		c.Close()
		return
	}
	fmt.Fprint(c, `<handshake/>`)
	s.conns <- &decodedConn{Conn: c, d: d}
}

// decodedConn keeps the decoder that already buffered part of the stream.
type decodedConn struct {
	net.Conn
	d *xml.Decoder
}

type nopHandler struct{ connected chan struct{} }

func (h nopHandler) HandleStanza(context.Context, *xmlnode.Node)           {}
func (h nopHandler) HandleOversized(context.Context, *xmlnode.Node, error) {}
func (h nopHandler) Connected(context.Context) {
	select {
	case h.connected <- struct{}{}:
	default:
	}
}

func startLink(t testing.TB, srv *fakeServer, secret string, queue int) (*Link, nopHandler, func() error) {
	return startLinkWith(t, srv, Config{Secret: secret, QueueSize: queue})
}

func startLinkWith(t testing.TB, srv *fakeServer, cfg Config) (*Link, nopHandler, func() error) {
	t.Helper()
	h := nopHandler{connected: make(chan struct{}, 4)}
	cfg.Addr, cfg.Domain = srv.ln.Addr().String(), "comp.example.test"
	cfg.MinBackoff, cfg.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	l := New(cfg, h)
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	var runErr error
	go func() { runErr = l.Run(ctx, nil); close(finished) }()
	t.Cleanup(func() { cancel(); <-finished })
	return l, h, func() error { <-finished; return runErr }
}

func stanza(i int) protocol.Outbound {
	m := domain.MessagePosted{ID: fmt.Sprint(i), Body: strings.Repeat("x", 1024)}
	return protocol.GroupMessage("g@comp.example.test/alice", "g@comp.example.test", m, fmt.Sprint(i)).For("alice@example.test/phone")
}

func TestRefusedSecretStopsTheFirstConnection(t *testing.T) {
	srv := newFakeServer(t, "right")
	_, _, wait := startLink(t, srv, "wrong", 8)
	if err := wait(); !errors.Is(err, ErrAuth) {
		t.Fatalf("Run = %v, want ErrAuth", err)
	}
}

// TestStalledServerBoundsMemoryAndLosesNothing: while the server reads
// nothing, Send blocks once the bounded queue is full instead of growing
// memory; when the server reads again, every stanza that Send accepted
// arrives, in order.
func TestStalledServerBoundsMemoryAndLosesNothing(t *testing.T) {
	srv := newFakeServer(t, "s3cret")
	const queue = 8
	l, h, _ := startLink(t, srv, "s3cret", queue)
	<-h.connected
	conn := <-srv.conns // the server does not read from it yet: stalled

	accepted := 0
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := l.Send(ctx, stanza(i))
		cancel()
		if err != nil {
			break
		}
		accepted++
		if accepted > 1_000_000 {
			t.Fatal("Send never blocked: the outgoing queue is not bounded")
		}
	}
	if n := l.QueueLen(); n > queue {
		t.Fatalf("queue holds %d stanzas, bound is %d", n, queue)
	}

	// The server drains: everything accepted arrives, in order.
	d := conn.(*decodedConn).d
	var wg sync.WaitGroup
	wg.Add(1)
	var got int
	var readErr error
	go func() {
		defer wg.Done()
		for got < accepted {
			var m struct {
				ID string `xml:"id,attr"`
			}
			if err := d.Decode(&m); err != nil {
				if err != io.EOF {
					readErr = err
				}
				return
			}
			if m.ID != fmt.Sprint(got) {
				readErr = fmt.Errorf("stanza %d has id %s: out of order", got, m.ID)
				return
			}
			got++
		}
	}()
	wg.Wait()
	if readErr != nil || got != accepted {
		t.Fatalf("received %d of %d accepted stanzas: %v", got, accepted, readErr)
	}
}

func TestReconnectsAfterTheServerDropsTheLink(t *testing.T) {
	srv := newFakeServer(t, "s3cret")
	_, h, _ := startLink(t, srv, "s3cret", 8)
	<-h.connected
	first := <-srv.conns
	first.Close()
	<-h.connected // connected again, by itself
	<-srv.conns
}

// TestRefusesWhatTheServerWouldRefuse: a stanza whose from is outside the
// component's domain or not a prepared address, whose to the server would
// not route, or which is over the size limit is never written; Send says
// why, and the stanzas after it still arrive on the same connection.
func TestRefusesWhatTheServerWouldRefuse(t *testing.T) {
	srv := newFakeServer(t, "s3cret")
	l, h, _ := startLinkWith(t, srv, Config{Secret: "s3cret", QueueSize: 8, MaxOutboundBytes: 4096})
	<-h.connected
	conn := <-srv.conns

	msg := func(from, to string, body int) protocol.Outbound {
		m := domain.MessagePosted{ID: "m", Body: strings.Repeat("x", body)}
		return protocol.GroupMessage(from, "g@comp.example.test", m, "1").For(to)
	}
	refused := []struct {
		name string
		o    protocol.Outbound
		want error
	}{
		{"empty from", msg("", "alice@example.test/phone", 1), protocol.ErrOutboundFrom},
		{"from another domain", msg("g@other.example.test/bob", "alice@example.test/phone", 1), protocol.ErrOutboundFrom},
		{"from a subdomain", msg("g@x.comp.example.test", "alice@example.test/phone", 1), protocol.ErrOutboundFrom},
		{"zero-width resource", msg("g@comp.example.test/\u200b", "alice@example.test/phone", 1), protocol.ErrOutboundFrom},
		{"no-break space in the resource", msg("g@comp.example.test/a\u00a0b", "alice@example.test/phone", 1), protocol.ErrOutboundFrom},
		{"upper case local part", msg("G@comp.example.test/bob", "alice@example.test/phone", 1), protocol.ErrOutboundFrom},
		{"empty to", msg("g@comp.example.test/bob", "", 1), protocol.ErrOutboundTo},
		{"to with a space in the local part", msg("g@comp.example.test/bob", "a b@example.test", 1), protocol.ErrOutboundTo},
		{"over the size limit", msg("g@comp.example.test/bob", "alice@example.test/phone", 4096), protocol.ErrOutboundTooLarge},
		{"no envelope", protocol.Outbound{Head: []byte(`<message to="`), To: "alice@example.test", Tail: []byte(`"/>`)}, protocol.ErrOutboundFrom},
	}
	for _, tt := range refused {
		if err := l.Send(context.Background(), tt.o); !errors.Is(err, tt.want) {
			t.Errorf("%s: Send = %v, want %v", tt.name, err, tt.want)
		}
	}
	ok := msg("g@comp.example.test/\u5f20\u4e09", "alice@example.test/phone", 10)
	if err := l.Send(context.Background(), ok); err != nil {
		t.Fatalf("a valid stanza was refused: %v", err)
	}
	var m struct {
		From string `xml:"from,attr"`
	}
	if err := conn.(*decodedConn).d.Decode(&m); err != nil || m.From != "g@comp.example.test/\u5f20\u4e09" {
		t.Fatalf("the server read %+v, %v; want only the valid stanza", m, err)
	}
	select {
	case <-h.connected:
		t.Fatal("the link reconnected")
	default:
	}
}

// TestCountsTheBytesItWrites: BytesWritten is what the server read of the
// stanzas, byte for byte, over reconnections.
func TestCountsTheBytesItWrites(t *testing.T) {
	srv := newFakeServer(t, "s3cret")
	l, h, _ := startLink(t, srv, "s3cret", 8)
	var read int64
	for conn := range 2 {
		<-h.connected
		c := (<-srv.conns).(*decodedConn)
		start := c.d.InputOffset()
		for i := range 3 {
			if err := l.Send(context.Background(), stanza(10*conn+i)); err != nil {
				t.Fatal(err)
			}
			var m struct {
				ID string `xml:"id,attr"`
			}
			if err := c.d.Decode(&m); err != nil {
				t.Fatal(err)
			}
		}
		read += c.d.InputOffset() - start
		if got := l.BytesWritten(); got != uint64(read) {
			t.Fatalf("connection %d: BytesWritten = %d, the server read %d", conn, got, read)
		}
		c.Close()
	}
}
