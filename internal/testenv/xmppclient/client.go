package xmppclient

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

const nsPing = "urn:xmpp:ping"

// closeTimeout bounds how long Close waits for the server to end its stream.
const closeTimeout = 3 * time.Second

// ErrCallbackMode is returned by Next and Expect on a client created with
// Options.OnStanza: its stanzas go to the callback, not to the queue.
var ErrCallbackMode = errors.New("xmppclient: stanzas are delivered to Options.OnStanza, not queued")

// ErrClosed is returned when sending on a client whose output stream is
// closed.
var ErrClosed = errors.New("xmppclient: stream closed")

// Options adjusts a client created by DialOptions. The zero value is what
// Dial uses.
type Options struct {
	// OnStanza, if set, receives every stanza instead of the queue behind
	// Next and Expect (which then return ErrCallbackMode), so a load tool
	// does not accumulate memory. It is called from the single receiving
	// goroutine, one stanza at a time in arrival order; it must return
	// quickly, since nothing else is read while it runs. It must not call
	// Close.
	OnStanza func(*Stanza)

	// InitialPresence sends <presence/> right after the session is
	// established, so that the server treats the resource as available
	// (messages to the bare JID are then delivered to it). Without it the
	// client is connected but not available. Prosody echoes the presence back
	// to the client, so the first received stanza is then that presence.
	InitialPresence bool
}

// Client is a logged-in XMPP client connection. Its methods are safe for
// concurrent use.
type Client struct {
	sess *xmpp.Session
	conn net.Conn
	jid  jid.JID
	bare string
	opts Options

	done    chan struct{} // closed when the receiving goroutine has ended
	serveEr error         // why it ended; valid after done is closed

	mu      sync.Mutex
	queue   []*Stanza
	changed chan struct{} // closed and replaced whenever queue or done changes

	closeOnce sync.Once
	closeErr  error
}

// Dial connects to addr over plain TCP (meant for loopback), authenticates as
// j with SASL PLAIN without TLS, and binds a resource. If j is a full JID its
// resourcepart is requested (the server may still assign another); if it is
// bare the server picks one. JID returns the bound address.
//
// ctx bounds connecting and negotiation only.
func Dial(ctx context.Context, addr string, j jid.JID, password string) (*Client, error) {
	return DialOptions(ctx, addr, j, password, Options{})
}

// DialOptions is like Dial with options.
func DialOptions(ctx context.Context, addr string, j jid.JID, password string, o Options) (*Client, error) {
	if j.Localpart() == "" {
		return nil, fmt.Errorf("xmppclient: JID %q has no localpart", j)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("xmppclient: %w", err)
	}
	// The stream is not encrypted; xmpp.Secure tells mellium to offer
	// SASL anyway, which the server must permit (Prosody:
	// allow_unencrypted_plain_auth). Only use this on loopback.
	sess, err := xmpp.NewSession(ctx, j.Domain(), j, conn, xmpp.Secure,
		xmpp.NewNegotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{
				Features: []xmpp.StreamFeature{
					xmpp.SASL("", password, sasl.Plain),
					bindFeature(j.Resourcepart()),
				},
			}
		}))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("xmppclient: logging in as %s at %s: %w", j, addr, err)
	}
	c := &Client{
		sess:    sess,
		conn:    conn,
		jid:     sess.LocalAddr(),
		opts:    o,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	c.bare = c.jid.Bare().String()
	go c.serve()
	if o.InitialPresence {
		if err := c.Send(ctx, []byte("<presence/>")); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// JID returns the full JID bound for this session.
func (c *Client) JID() jid.JID { return c.jid }

// Session returns the underlying mellium session, for use with mellium's
// protocol packages. Its receiving side is owned by the client: do not call
// Serve or TokenReader on it. Stanzas answered through SendIQ are consumed by
// mellium and do not reach Next.
func (c *Client) Session() *xmpp.Session { return c.sess }

func (c *Client) serve() {
	err := c.sess.Serve(xmpp.HandlerFunc(c.handle))
	c.conn.Close()
	c.mu.Lock()
	c.serveEr = err
	close(c.done)
	c.notifyLocked()
	c.mu.Unlock()
}

// handle receives one whole stanza. It runs in the Serve goroutine and must
// not block for long.
func (c *Client) handle(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	s, err := build(*start, t, NSClient)
	if err != nil {
		return err
	}
	// mellium blanks a "from" equal to the account's own bare JID (leaving
	// from=""); a server never sends an empty from, so put it back.
	for i, a := range s.Attrs {
		if a.Name.Space == "" && a.Name.Local == "from" && a.Value == "" {
			s.Attrs[i].Value = c.bare
		}
	}
	s.Raw = s.serialize()

	// Answer XEP-0199 pings like any client. Other get/set IQs are answered
	// by mellium with service-unavailable after this handler returns; either
	// way the IQ is delivered below.
	if s.Is(NSClient, "iq") && s.Type() == "get" && s.Child(nsPing, "ping") != nil && len(s.Children) == 1 {
		iq := stanza.IQ{ID: s.ID(), Type: stanza.ResultIQ}
		if f := s.From(); f != "" {
			if to, err := jid.Parse(f); err == nil {
				iq.To = to
			}
		}
		if _, err := xmlstream.Copy(t, iq.Wrap(nil)); err != nil {
			return err
		}
	}

	c.deliver(s)
	return nil
}

// deliver hands a received stanza to the callback or the queue.
func (c *Client) deliver(s *Stanza) {
	if c.opts.OnStanza != nil {
		c.opts.OnStanza(s)
		return
	}
	c.mu.Lock()
	c.queue = append(c.queue, s)
	c.notifyLocked()
	c.mu.Unlock()
}

func (c *Client) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Next returns the next received stanza of any kind (message, presence or
// iq, including IQ results and errors) in arrival order, waiting until one
// arrives, ctx is done or the stream ends. After the stream has ended, Next
// still returns the stanzas received before; then io.EOF if the stream was
// closed cleanly, or an error describing why it ended.
func (c *Client) Next(ctx context.Context) (*Stanza, error) {
	return c.Expect(ctx, nil)
}

// Expect returns the first received stanza for which match returns true,
// waiting until one arrives, ctx is done or the stream ends. A nil match
// matches anything.
//
// Stanzas that do not match stay queued, in order, for later Next and Expect
// calls: Expect takes the matching stanza out of the queue wherever it is.
// match is called without locks held and at most once per stanza per call.
// On timeout or end of stream the error also lists the non-matching stanzas
// queued at that moment, to make test failures readable.
func (c *Client) Expect(ctx context.Context, match func(*Stanza) bool) (*Stanza, error) {
	if c.opts.OnStanza != nil {
		return nil, ErrCallbackMode
	}
	var checked map[*Stanza]bool
	for {
		c.mu.Lock()
		snapshot := append([]*Stanza(nil), c.queue...)
		wait := c.changed
		ended := c.isDone()
		c.mu.Unlock()

		for _, s := range snapshot {
			if checked[s] {
				continue
			}
			if match == nil || match(s) {
				if c.take(s) {
					return s, nil
				}
				continue // another caller took it
			}
			if checked == nil {
				checked = map[*Stanza]bool{}
			}
			checked[s] = true
		}
		if ended {
			return nil, c.endErr(snapshot, match != nil)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("xmppclient: %s: waiting for a stanza: %w%s", c.jid, ctx.Err(), describe(c.Pending()))
		case <-wait:
		}
	}
}

func (c *Client) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *Client) take(s *Stanza) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, q := range c.queue {
		if q == s {
			copy(c.queue[i:], c.queue[i+1:])
			c.queue[len(c.queue)-1] = nil
			c.queue = c.queue[:len(c.queue)-1]
			return true
		}
	}
	return false
}

func (c *Client) endErr(pending []*Stanza, matching bool) error {
	err := c.Err()
	if err == nil {
		err = io.EOF
	}
	if matching && len(pending) > 0 {
		return fmt.Errorf("xmppclient: %s: stream ended without a matching stanza: %w%s", c.jid, err, describe(pending))
	}
	return err
}

func describe(pending []*Stanza) string {
	if len(pending) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "; %d other stanza(s) queued:", len(pending))
	for i, s := range pending {
		if i == 10 {
			fmt.Fprintf(&b, "\n  ...")
			break
		}
		fmt.Fprintf(&b, "\n  %s", s.Raw)
	}
	return b.String()
}

// Pending returns the stanzas received and not yet taken by Next or Expect,
// in arrival order, without removing them.
func (c *Client) Pending() []*Stanza {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Stanza(nil), c.queue...)
}

// Done returns a channel closed when the stream has ended (after Close, or
// when the server closed it or the connection broke).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the stream ended: nil while it is open and after a clean
// close, otherwise the error (for example a stream error from the server, or
// an unexpected EOF when the server went away).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.isDone() {
		return nil
	}
	return c.serveEr
}

// SendRaw checks that text is well-formed XML made of one or more complete
// elements (typically stanzas, separated by optional whitespace) and writes
// it to the stream exactly as given. Elements without a namespace declaration
// are in "jabber:client", the stream's default namespace. Nothing is added:
// no id, no from.
func (c *Client) SendRaw(ctx context.Context, text string) error {
	if err := checkElements(text); err != nil {
		return err
	}
	return c.Send(ctx, []byte(text))
}

// Send writes b to the stream as is, without checking it, under the same
// lock as every other output of the session. It is the cheap path for load
// generation: b must be complete, well-formed stanzas or the server will end
// the stream. A deadline on ctx bounds the write; without one, ctx is only
// checked before writing.
func (c *Client) Send(ctx context.Context, b []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// TokenWriter takes the session's output lock; nothing is buffered in
	// mellium's encoder between stanzas, so writing to the connection
	// directly while holding the lock cannot interleave with other output.
	w := c.sess.TokenWriter()
	defer w.Close()
	if c.sess.State()&xmpp.OutputStreamClosed != 0 {
		return ErrClosed
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.conn.SetWriteDeadline(dl)
		defer c.conn.SetWriteDeadline(time.Time{})
	}
	if _, err := c.conn.Write(b); err != nil {
		return fmt.Errorf("xmppclient: write: %w", err)
	}
	return nil
}

// SendTokens writes the first element read from r through mellium's encoder
// (session.Send), which adds an id to stanzas that lack one.
func (c *Client) SendTokens(ctx context.Context, r xml.TokenReader) error {
	return c.sess.Send(ctx, r)
}

// checkElements verifies that text is a sequence of complete, well-formed
// elements separated by whitespace only.
func checkElements(text string) error {
	d := xml.NewDecoder(strings.NewReader(text))
	depth, elements := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("xmppclient: not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				elements++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(strings.TrimSpace(string(t))) > 0 {
				return fmt.Errorf("xmppclient: text outside an element: %q", t)
			}
		case xml.Comment, xml.ProcInst, xml.Directive:
			return fmt.Errorf("xmppclient: comments, processing instructions and directives are not allowed in XMPP")
		}
	}
	if depth != 0 {
		return errors.New("xmppclient: unclosed element")
	}
	if elements == 0 {
		return errors.New("xmppclient: no element to send")
	}
	return nil
}

// Close sends unavailable presence, closes the stream and waits (up to a few
// seconds) for the server to close its side, then closes the connection.
// Stanzas already received stay available to Next. Close returns nil if the
// stream ended cleanly. If the stream had already ended with an error (a
// stream error such as conflict or system-shutdown, or a dropped connection),
// Close returns that error, like Err.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		if !c.isDone() {
			ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			_ = c.Send(ctx, []byte("<presence type='unavailable'/>"))
			cancel()
			_ = c.sess.Close()
		}
		t := time.NewTimer(closeTimeout)
		defer t.Stop()
		select {
		case <-c.done:
		case <-t.C:
			c.conn.Close()
			<-c.done
		}
		err := c.Err()
		if err != nil && !isClosedErr(err) {
			c.closeErr = err
		}
	})
	return c.closeErr
}

func isClosedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF)
}
