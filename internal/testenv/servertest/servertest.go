package servertest

import (
	"context"
	"encoding/xml"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/component"
	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// The addresses the suite uses; a launcher's own tests use them too, so
// that the JIDs written in their stanzas match the server they start.
const (
	Domain     = "example.test"
	CompDomain = "groupchat.example.test"
	CompSecret = "s3cret"
)

// Process is what Started needs of a launcher's server: a way to stop it
// and to show its log when a test failed.
type Process interface {
	Stop() error
	LogTail(n int) string
}

// Server is what the suite drives: the methods both launchers' servers
// have, with RegisterMany taking a context (an adapter supplies it where a
// launcher's own does not need one).
type Server interface {
	Process
	C2SAddr() string
	ComponentAddr() string
	Domain() string
	Dir() string
	LogPath() string
	ConfigPath() string
	PID() int
	Done() <-chan struct{}
	Restart(ctx context.Context) error
	Register(ctx context.Context, user, password string) error
	RegisterMany(ctx context.Context, users map[string]string) error
}

// Options is what a test of the suite asks of the server it starts.
type Options struct {
	Dir        string            // the server's directory; Start may assume it exists
	Domain     string            // the virtual host clients log in to
	Components map[string]string // external component domains and their secrets
}

// Launcher describes one server to the suite.
type Launcher struct {
	// Name names the server in skip and failure messages ("prosody").
	Name string
	// Installed reports whether the server can be started here.
	Installed func() bool
	// Start starts a server configured by o and waits until it serves.
	Start func(ctx context.Context, o Options) (Server, error)
	// Timeout bounds starting a server and each test's waits on it; zero
	// means a minute.
	Timeout time.Duration
}

func (l Launcher) timeout() time.Duration {
	if l.Timeout <= 0 {
		return time.Minute
	}
	return l.Timeout
}

// Require skips the test in -short mode, and when the server is not
// installed unless CI is set (then its absence is a failure).
func (l Launcher) Require(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs a real %s; skipped with -short", l.Name)
	}
	if !l.Installed() {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (required when CI is set)", l.Name)
		}
		t.Skipf("%s is not installed", l.Name)
	}
}

// Context returns a context that ends after the launcher's Timeout or with
// the test.
func (l Launcher) Context(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout())
	t.Cleanup(cancel)
	return ctx
}

// Started requires the launcher's server, starts one with start (bounded
// by the launcher's Timeout) and stops it when the test ends, logging the
// tail of its log if the test failed. The launchers' own tests use it with
// their full Options.
func Started[S Process](t *testing.T, l Launcher, start func(ctx context.Context) (S, error)) S {
	t.Helper()
	l.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout())
	defer cancel()
	srv, err := start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", l.Name, srv.LogTail(80))
		}
	})
	return srv
}

// start starts a server for the suite, on Domain and in a new temporary
// directory unless o names one.
func (l Launcher) start(t *testing.T, o Options) Server {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Domain == "" {
		o.Domain = Domain
	}
	return Started(t, l, func(ctx context.Context) (Server, error) { return l.Start(ctx, o) })
}

// Dial logs in addr with password on srv's c2s port; the client is closed
// when the test ends.
func Dial(t *testing.T, ctx context.Context, srv interface{ C2SAddr() string }, addr, password string, o xmppclient.Options) *xmppclient.Client {
	t.Helper()
	c, err := xmppclient.DialOptions(ctx, srv.C2SAddr(), jid.MustParse(addr), password, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ByID matches the stanza with the given id.
func ByID(id string) func(*xmppclient.Stanza) bool {
	return func(s *xmppclient.Stanza) bool { return s.ID() == id }
}

// ComponentSession connects an XEP-0114 component for domain to srv and
// serves it, passing each received stanza to the returned channel; the
// error channel receives what Serve returned when the stream ended. A
// failed handshake is returned as the error.
func ComponentSession(t *testing.T, ctx context.Context, srv interface{ ComponentAddr() string }, domain, secret string) (*xmpp.Session, <-chan *xmppclient.Stanza, <-chan error, error) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.ComponentAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	sess, err := component.NewSession(ctx, jid.MustParse(domain), []byte(secret), conn)
	if err != nil {
		return nil, nil, nil, err
	}
	got := make(chan *xmppclient.Stanza, 100)
	served := make(chan error, 1)
	go func() {
		served <- sess.Serve(xmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			var buf strings.Builder
			e := xml.NewEncoder(&buf)
			if _, err := xmlstream.Copy(e, xmlstream.MultiReader(xmlstream.Token(*start), r)); err != nil {
				return err
			}
			if err := e.Flush(); err != nil {
				return err
			}
			s, err := xmppclient.ParseStanza(buf.String())
			if err != nil {
				return err
			}
			got <- s
			return nil
		}))
	}()
	t.Cleanup(func() { sess.Close() })
	return sess, got, served, nil
}

// Alive reports whether pid exists and is not a zombie (Linux: reads
// /proc).
func Alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Format: pid (comm) state ...
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// runPattern is the -test.run pattern that selects exactly the test named
// name (as t.Name() spells it) in a child test process.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// RoomArchives checks a XEP-0045 room with a XEP-0313 archive as a load
// test uses one: alice and bob enter room without configuring it (their
// own presence, status 110, comes back), alice's message reaches bob with
// a XEP-0359 stanza-id, and the room's archive returns it.
func RoomArchives(t *testing.T, ctx context.Context, alice, bob *xmppclient.Client, room string) {
	t.Helper()
	join := func(c *xmppclient.Client, nick string) {
		t.Helper()
		if err := c.SendRaw(ctx, `<presence to='`+room+`/`+nick+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`); err != nil {
			t.Fatal(err)
		}
		self, err := c.Expect(ctx, func(s *xmppclient.Stanza) bool {
			if !s.Is(xmppclient.NSClient, "presence") || s.From() != room+"/"+nick {
				return false
			}
			if s.Type() == "error" {
				return true
			}
			for _, st := range s.FindAll("{http://jabber.org/protocol/muc#user}x/status") {
				if st.Attr("code") == "110" {
					return true
				}
			}
			return false
		})
		if err != nil {
			t.Fatal(err)
		}
		if self.Type() == "error" {
			t.Fatalf("join failed: %s", self.Raw)
		}
	}
	join(alice, "Alice")
	join(bob, "Bob")

	if err := alice.SendRaw(ctx, `<message to='`+room+`' type='groupchat' id='gm1'><body>hello room</body></message>`); err != nil {
		t.Fatal(err)
	}
	m, err := bob.Expect(ctx, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "gm1" })
	if err != nil {
		t.Fatal(err)
	}
	if m.From() != room+"/Alice" || m.Type() != "groupchat" {
		t.Errorf("bob received %s", m.Raw)
	}
	if m.Child("urn:xmpp:sid:0", "stanza-id") == nil {
		t.Errorf("no XEP-0359 stanza-id from the archiving room: %s", m.Raw)
	}

	// The room archive (XEP-0313) has the message.
	if err := bob.SendRaw(ctx, `<iq type='set' id='mam1' to='`+room+`'><query xmlns='urn:xmpp:mam:2' queryid='q1'/></iq>`); err != nil {
		t.Fatal(err)
	}
	r, err := bob.Expect(ctx, func(s *xmppclient.Stanza) bool {
		return s.Find("{urn:xmpp:mam:2}result") != nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if body := r.Find("{urn:xmpp:mam:2}result/{urn:xmpp:forward:0}forwarded/{jabber:client}message/body"); body == nil || body.Text != "hello room" {
		t.Errorf("archive result: %s", r.Raw)
	}
	fin, err := bob.Expect(ctx, ByID("mam1"))
	if err != nil {
		t.Fatal(err)
	}
	if fin.Type() != "result" || fin.Child("urn:xmpp:mam:2", "fin") == nil {
		t.Errorf("archive query end: %s", fin.Raw)
	}
}
