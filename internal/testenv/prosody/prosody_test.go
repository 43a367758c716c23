package prosody_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/prosody"
	"github.com/uuchat/groupchat/internal/testenv/servertest"
	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	domain     = servertest.Domain
	compDomain = servertest.CompDomain
	compSecret = servertest.CompSecret
	mucDomain  = "conference.example.test"
)

var launcher = servertest.Launcher{
	Name:      "prosody",
	Installed: prosody.Installed,
	Timeout:   20 * time.Second,
	Start: func(ctx context.Context, o servertest.Options) (servertest.Server, error) {
		srv, err := prosody.Start(ctx, prosody.Options{Dir: o.Dir, Domain: o.Domain, Components: o.Components})
		if err != nil {
			return nil, err
		}
		return server{srv}, nil
	},
}

// server gives *prosody.Server the suite's RegisterMany: Prosody's writes
// the account files directly and needs no context.
type server struct{ *prosody.Server }

func (s server) RegisterMany(_ context.Context, users map[string]string) error {
	return s.Server.RegisterMany(users)
}

func TestLauncher(t *testing.T) {
	t.Parallel()
	servertest.Run(t, launcher)
}

func start(t *testing.T, o prosody.Options) *prosody.Server {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Domain == "" {
		o.Domain = domain
	}
	return servertest.Started(t, launcher, func(ctx context.Context) (*prosody.Server, error) { return prosody.Start(ctx, o) })
}

func TestDiscoItemsListsComponent(t *testing.T) {
	t.Parallel()
	srv := start(t, prosody.Options{
		Components:     map[string]string{compDomain: compSecret, "elsewhere.test": "x"},
		ComponentNames: map[string]string{compDomain: "Group Chat Service"},
		MUC:            mucDomain,
	})
	ctx := launcher.Context(t)
	if err := srv.Register(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	alice := servertest.Dial(t, ctx, srv, "alice@example.test", "pw", xmppclient.Options{})
	if err := alice.SendRaw(ctx, `<iq type='get' id='items1' to='example.test'>
		<query xmlns='http://jabber.org/protocol/disco#items'/>
	</iq>`); err != nil {
		t.Fatal(err)
	}
	res, err := alice.Expect(ctx, servertest.ByID("items1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Type() != "result" {
		t.Fatalf("disco#items: %s", res.Raw)
	}
	seen := map[string]int{}
	names := map[string]string{}
	for _, it := range res.FindAll("{http://jabber.org/protocol/disco#items}query/item") {
		seen[it.Attr("jid")]++
		names[it.Attr("jid")] = it.Attr("name")
	}
	for _, want := range []string{compDomain, "elsewhere.test", mucDomain} {
		if seen[want] != 1 {
			t.Errorf("%s listed %d times in %s", want, seen[want], res.Raw)
		}
	}
	if names[compDomain] != "Group Chat Service" {
		t.Errorf("component name = %q in %s", names[compDomain], res.Raw)
	}
}

func TestMUCWithArchive(t *testing.T) {
	t.Parallel()
	srv := start(t, prosody.Options{MUC: mucDomain, MUCMAM: true})
	ctx := launcher.Context(t)
	for _, u := range []string{"alice", "bob"} {
		if err := srv.Register(ctx, u, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	alice := servertest.Dial(t, ctx, srv, "alice@example.test/a", "pw", xmppclient.Options{})
	bob := servertest.Dial(t, ctx, srv, "bob@example.test/b", "pw", xmppclient.Options{})
	servertest.RoomArchives(t, ctx, alice, bob, "lobby@"+mucDomain)
}

// TestWebSocket opens XMPP over WebSocket as a browser client on another
// port does: the upgrade succeeds.
func TestWebSocket(t *testing.T) {
	t.Parallel()
	srv := start(t, prosody.Options{WebSocket: true})
	u, err := url.Parse(srv.WebSocketURL())
	if err != nil || u.Scheme != "ws" || u.Path != prosody.WebSocketPath {
		t.Fatalf("WebSocketURL %q: %v", srv.WebSocketURL(), err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n"+
		"Origin: http://127.0.0.1:1\r\n\r\n", u.Path, u.Host)
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the answer to the upgrade: %v\n%s", err, srv.LogTail(20))
	}
	if !strings.HasPrefix(status, "HTTP/1.1 101") {
		t.Errorf("the upgrade: %q, want 101\n%s", status, srv.LogTail(20))
	}
}
