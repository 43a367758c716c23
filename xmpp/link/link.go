package link

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/component"
	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Handler receives each incoming stanza, in arrival order, from the reading
// goroutine; it must not block for long.
type Handler interface {
	// HandleStanza is called with a complete stanza.
	HandleStanza(ctx context.Context, n *xmlnode.Node)
	// HandleOversized is called with the top element (name and attributes
	// only) of a stanza that broke a limit and was discarded.
	HandleOversized(ctx context.Context, top *xmlnode.Node, err error)
	// Connected is called each time the link is (re-)established, before
	// any stanza of the new connection is handled.
	Connected(ctx context.Context)
}

// Config configures the link.
type Config struct {
	// Addr is the server's component listener, host:port.
	Addr string
	// Domain is the component's domain, e.g. groupchat.example.org.
	Domain string
	Secret string
	// QueueSize bounds the outgoing queue (stanzas).
	QueueSize int
	// StanzaLimits bound incoming stanzas.
	StanzaLimits xmlnode.Limits
	// MaxOutboundBytes bounds a stanza the link writes: the XMPP server
	// closes the component's stream on a larger one (Prosody's
	// component_stanza_size_limit). 0 is unlimited.
	MaxOutboundBytes int
	// MinBackoff and MaxBackoff bound the wait between reconnection attempts.
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
}

// The messages of the log records that say the link came up and went down.
// Tests read them in a component's log to notice a link that was
// re-established behind their back; naming them here keeps the two in step.
const (
	LogServing = "component link: authenticated and serving"
	LogLost    = "component link: lost"
)

// ErrAuth is returned by Run when the server refuses the shared secret on
// the first connection: retrying cannot help.
var ErrAuth = errors.New("the XMPP server refused the component's secret")

// Link is the component connection. Send is safe for concurrent use.
type Link struct {
	cfg     Config
	handler Handler
	out     chan protocol.Outbound
	log     *slog.Logger

	mu        sync.Mutex
	connected bool

	written atomic.Uint64 // stanza bytes written to the server
}

// New returns a link; Run connects it.
func New(cfg Config, h Handler) *Link {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 65536
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.StanzaLimits == (xmlnode.Limits{}) {
		cfg.StanzaLimits = xmlnode.DefaultLimits()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Link{cfg: cfg, handler: h, out: make(chan protocol.Outbound, cfg.QueueSize), log: log}
}

// Send queues a stanza, blocking while the queue is full. A stanza the
// server would refuse (protocol.CheckOutbound) is never queued: Send
// returns why, and the link stays up.
func (l *Link) Send(ctx context.Context, o protocol.Outbound) error {
	if err := protocol.CheckOutbound(o, l.cfg.Domain, l.cfg.MaxOutboundBytes); err != nil {
		return err
	}
	select {
	case l.out <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Connected reports whether the link is up now.
func (l *Link) Connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.connected
}

// QueueLen is the number of stanzas waiting to be written.
func (l *Link) QueueLen() int { return len(l.out) }

// BytesWritten is the number of stanza bytes written to the server since
// the start, over every connection: what fan-out costs the link.
func (l *Link) BytesWritten() uint64 { return l.written.Load() }

// Run connects and serves until ctx ends, reconnecting with backoff. It
// returns ErrAuth (wrapped) if the very first handshake is refused, and nil
// when ctx ends.
func (l *Link) Run(ctx context.Context, ready func()) error {
	backoff := l.cfg.MinBackoff
	first := true
	for {
		conn, err := l.dial(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, ErrAuth) && first {
				return err
			}
			l.log.Warn("component link: connection failed", "server", l.cfg.Addr, "err", err, "retry_in", backoff)
		} else {
			backoff = l.cfg.MinBackoff
			if first && ready != nil {
				ready()
			}
			first = false
			err = l.serve(ctx, conn)
			if ctx.Err() != nil {
				return nil
			}
			l.log.Warn(LogLost, "server", l.cfg.Addr, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff *= 2
		if backoff > l.cfg.MaxBackoff {
			backoff = l.cfg.MaxBackoff
		}
	}
}

type session struct {
	conn net.Conn
	in   xml.TokenReader
	done func() error
}

func (l *Link) dial(ctx context.Context) (*session, error) {
	addr, err := jid.Parse(l.cfg.Domain)
	if err != nil {
		return nil, fmt.Errorf("component domain %q: %w", l.cfg.Domain, err)
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", l.cfg.Addr)
	if err != nil {
		return nil, err
	}
	s, err := component.NewSession(dctx, addr, []byte(l.cfg.Secret), conn)
	if err != nil {
		conn.Close()
		if strings.Contains(err.Error(), "not-authorized") {
			return nil, fmt.Errorf("%w: %v", ErrAuth, err)
		}
		if strings.Contains(err.Error(), "conflict") {
			return nil, fmt.Errorf("another component is connected as %s: %w", l.cfg.Domain, err)
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	r := s.TokenReader()
	return &session{conn: conn, in: r, done: func() error {
		// Only after the reader has stopped: the token reader is not
		// safe to close while it is being read.
		r.Close()
		return s.Close()
	}}, nil
}

// serve runs one connection: a reader and a writer; when either fails the
// connection is closed and both stop.
func (l *Link) serve(ctx context.Context, s *session) error {
	l.log.Info(LogServing, "domain", l.cfg.Domain, "server", l.cfg.Addr)
	l.handler.Connected(ctx)
	l.setConnected(true)
	defer l.setConnected(false)

	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		errs <- l.write(cctx, s.conn)
		cancel()
	}()
	go func() {
		defer wg.Done()
		errs <- l.read(cctx, s.in)
		cancel()
	}()
	<-cctx.Done()
	// Closing the connection unblocks the reader; the session is closed
	// once both goroutines are done with it.
	s.conn.Close()
	wg.Wait()
	s.done()
	err := <-errs
	if errors.Is(err, context.Canceled) {
		select {
		case e := <-errs:
			err = e
		default:
		}
	}
	return err
}

func (l *Link) setConnected(v bool) {
	l.mu.Lock()
	l.connected = v
	l.mu.Unlock()
}

func (l *Link) read(ctx context.Context, in xml.TokenReader) error {
	for {
		tok, err := in.Token()
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "error" && t.Name.Space == "http://etherx.jabber.org/streams" {
				n, _ := xmlnode.Read(in, t, l.cfg.StanzaLimits)
				return fmt.Errorf("stream error from the server: %v", n)
			}
			n, err := xmlnode.Read(in, t, l.cfg.StanzaLimits)
			var le *xmlnode.LimitError
			switch {
			case errors.As(err, &le):
				l.handler.HandleOversized(ctx, le.Partial, err)
			case err != nil:
				return err
			default:
				l.handler.HandleStanza(ctx, n)
			}
		case xml.EndElement:
			return errors.New("the server closed the stream")
		}
	}
}

// write drains the queue into the connection, flushing when the queue is
// momentarily empty so bursts go out in few system calls.
func (l *Link) write(ctx context.Context, conn net.Conn) error {
	w := bufio.NewWriterSize(conn, 64<<10)
	buf := make([]byte, 0, 4096)
	for {
		var o protocol.Outbound
		select {
		case <-ctx.Done():
			return ctx.Err()
		case o = <-l.out:
		}
		for {
			buf = o.AppendTo(buf[:0])
			if _, err := w.Write(buf); err != nil {
				return err
			}
			l.written.Add(uint64(len(buf)))
			select {
			case o = <-l.out:
				continue
			default:
			}
			break
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}
