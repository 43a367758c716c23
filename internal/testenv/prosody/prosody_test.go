package prosody_test

import (
	"bufio"
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/component"
	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/internal/testenv/prosody"
	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	domain     = "example.test"
	compDomain = "groupchat.example.test"
	compSecret = "s3cret"
	mucDomain  = "conference.example.test"
)

// requireProsody skips the test in -short mode, and when Prosody is not
// installed unless CI is set (then its absence is a failure).
func requireProsody(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real Prosody; skipped with -short")
	}
	if !prosody.Installed() {
		if os.Getenv("CI") != "" {
			t.Fatal("prosody is not installed (required when CI is set)")
		}
		t.Skip("prosody is not installed")
	}
}

func start(t *testing.T, o prosody.Options) *prosody.Server {
	t.Helper()
	requireProsody(t)
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Domain == "" {
		o.Domain = domain
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := prosody.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("prosody log:\n%s", srv.LogTail(80))
		}
	})
	return srv
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, ctx context.Context, srv *prosody.Server, addr, password string, o xmppclient.Options) *xmppclient.Client {
	t.Helper()
	c, err := xmppclient.DialOptions(ctx, srv.C2SAddr(), jid.MustParse(addr), password, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func byID(id string) func(*xmppclient.Stanza) bool {
	return func(s *xmppclient.Stanza) bool { return s.ID() == id }
}

func TestChatMessageAndRestart(t *testing.T) {
	t.Parallel()
	srv := start(t, prosody.Options{Components: map[string]string{compDomain: compSecret}})
	ctx := testCtx(t)
	for _, u := range []string{"alice", "bob"} {
		if err := srv.Register(ctx, u, u+"-pw"); err != nil {
			t.Fatal(err)
		}
	}

	exchange := func(round int) (alice, bob *xmppclient.Client) {
		t.Helper()
		alice = dial(t, ctx, srv, "alice@example.test/laptop", "alice-pw", xmppclient.Options{})
		bob = dial(t, ctx, srv, "bob@example.test", "bob-pw", xmppclient.Options{InitialPresence: true})
		if got := alice.JID().String(); got != "alice@example.test/laptop" {
			t.Errorf("alice bound %q, want the requested resource", got)
		}
		if bob.JID().Resourcepart() == "" {
			t.Errorf("bob bound %q, want a server-assigned resource", bob.JID())
		}
		// Prosody echoes the initial presence to its sender.
		if _, err := bob.Expect(ctx, func(s *xmppclient.Stanza) bool {
			return s.Is(xmppclient.NSClient, "presence") && s.From() == bob.JID().String()
		}); err != nil {
			t.Fatal(err)
		}

		id := fmt.Sprintf("msg-%d", round)
		err := alice.SendRaw(ctx, `<message to='bob@example.test' type='chat' id='`+id+`'>
			<body>Hello &amp; welcome, round `+strconv.Itoa(round)+`</body>
			<thread xmlns='jabber:client'>t1</thread>
			<active xmlns='http://jabber.org/protocol/chatstates'/>
		</message>`)
		if err != nil {
			t.Fatal(err)
		}
		m, err := bob.Expect(ctx, byID(id))
		if err != nil {
			t.Fatal(err)
		}
		if !m.Is(xmppclient.NSClient, "message") || m.Type() != "chat" {
			t.Errorf("got %s", m.Raw)
		}
		if m.From() != "alice@example.test/laptop" {
			t.Errorf("from = %q, want alice's full JID", m.From())
		}
		if want := "Hello & welcome, round " + strconv.Itoa(round); m.ChildText(xmppclient.NSClient, "body") != want {
			t.Errorf("body = %q, want %q", m.ChildText(xmppclient.NSClient, "body"), want)
		}
		if m.Child("http://jabber.org/protocol/chatstates", "active") == nil {
			t.Errorf("chat state lost: %s", m.Raw)
		}
		return alice, bob
	}

	alice, bob := exchange(1)

	// An IQ result reaches Next like any other stanza.
	if err := alice.SendRaw(ctx, `<iq type='get' id='ping1' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>`); err != nil {
		t.Fatal(err)
	}
	res, err := alice.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID() != "ping1" || res.Type() != "result" || res.From() != domain {
		t.Errorf("ping reply: %s", res.Raw)
	}

	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*xmppclient.Client{alice, bob} {
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatalf("%s: stream did not end when Prosody restarted", c.JID())
		}
	}
	exchange(2)
}

func TestRegisterMany(t *testing.T) {
	t.Parallel()
	srv := start(t, prosody.Options{})
	ctx := testCtx(t)
	users := map[string]string{}
	for i := 0; i < 50; i++ {
		users[fmt.Sprintf("load%d", i)] = fmt.Sprintf("pw \"%d\" \\ é", i)
	}
	if err := srv.RegisterMany(users); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"load0", "load49"} {
		c := dial(t, ctx, srv, u+"@example.test", users[u], xmppclient.Options{})
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	if _, err := xmppclient.Dial(ctx, srv.C2SAddr(), jid.MustParse("load1@example.test"), "wrong"); err == nil {
		t.Error("login with a wrong password succeeded")
	}
}

func TestDiscoItemsListsComponent(t *testing.T) {
	t.Parallel()
	srv := start(t, prosody.Options{
		Components:     map[string]string{compDomain: compSecret, "elsewhere.test": "x"},
		ComponentNames: map[string]string{compDomain: "Group Chat Service"},
		MUC:            mucDomain,
	})
	ctx := testCtx(t)
	if err := srv.Register(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	alice := dial(t, ctx, srv, "alice@example.test", "pw", xmppclient.Options{})
	if err := alice.SendRaw(ctx, `<iq type='get' id='items1' to='example.test'>
		<query xmlns='http://jabber.org/protocol/disco#items'/>
	</iq>`); err != nil {
		t.Fatal(err)
	}
	res, err := alice.Expect(ctx, byID("items1"))
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

// componentSession connects an XEP-0114 component and serves it, passing
// each received stanza (as text) to the returned channel.
func componentSession(t *testing.T, ctx context.Context, srv *prosody.Server, secret string) (*xmpp.Session, <-chan *xmppclient.Stanza, <-chan error, error) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.ComponentAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	sess, err := component.NewSession(ctx, jid.MustParse(compDomain), []byte(secret), conn)
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

func TestComponentAuthenticates(t *testing.T) {
	t.Parallel()
	srv := start(t, prosody.Options{Components: map[string]string{compDomain: compSecret}})
	ctx := testCtx(t)

	if _, _, _, err := componentSession(t, ctx, srv, "wrong"); err == nil {
		t.Fatal("component handshake with a wrong secret succeeded")
	}

	sess, got, served, err := componentSession(t, ctx, srv, compSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Register(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	alice := dial(t, ctx, srv, "alice@example.test/a", "pw", xmppclient.Options{})

	// Client to component.
	if err := alice.SendRaw(ctx, `<message to='room1@groupchat.example.test' type='groupchat' id='g1'><body>hi</body></message>`); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s.ID() != "g1" || s.From() != "alice@example.test/a" || s.ChildText("", "body") != "hi" {
			t.Errorf("component received %s", s.Raw)
		}
		if s.Name.Space != component.NSAccept {
			t.Errorf("component stanza namespace %q", s.Name.Space)
		}
	case <-ctx.Done():
		t.Fatal("component received nothing")
	}

	// Component to client, and the client's automatic ping reply.
	out := `<message from='room1@groupchat.example.test' to='alice@example.test/a' type='groupchat' id='g2'><body>back</body></message>` +
		`<iq type='get' id='p1' from='groupchat.example.test' to='alice@example.test/a'><ping xmlns='urn:xmpp:ping'/></iq>`
	d := xml.NewDecoder(strings.NewReader(out))
	for i := 0; i < 2; i++ {
		if err := sess.Send(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	m, err := alice.Expect(ctx, byID("g2"))
	if err != nil {
		t.Fatal(err)
	}
	if m.From() != "room1@groupchat.example.test" || m.ChildText(xmppclient.NSClient, "body") != "back" {
		t.Errorf("client received %s", m.Raw)
	}
	select {
	case s := <-got:
		if s.ID() != "p1" || s.Type() != "result" {
			t.Errorf("ping answer: %s", s.Raw)
		}
	case <-ctx.Done():
		t.Fatal("no ping answer")
	}
	if _, err := alice.Expect(ctx, byID("p1")); err != nil {
		t.Errorf("ping not delivered to the queue: %v", err)
	}

	// A restart drops the component link.
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-served:
	case <-ctx.Done():
		t.Fatal("component session survived a Prosody restart")
	}
}

func TestMUCWithArchive(t *testing.T) {
	t.Parallel()
	srv := start(t, prosody.Options{MUC: mucDomain, MUCMAM: true})
	ctx := testCtx(t)
	for _, u := range []string{"alice", "bob"} {
		if err := srv.Register(ctx, u, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	alice := dial(t, ctx, srv, "alice@example.test/a", "pw", xmppclient.Options{})
	bob := dial(t, ctx, srv, "bob@example.test/b", "pw", xmppclient.Options{})
	room := "lobby@" + mucDomain

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
	fin, err := bob.Expect(ctx, byID("mam1"))
	if err != nil {
		t.Fatal(err)
	}
	if fin.Type() != "result" || fin.Child("urn:xmpp:mam:2", "fin") == nil {
		t.Errorf("archive query end: %s", fin.Raw)
	}
}

// TestNoOrphanWhenParentDies starts Prosody from a child test process, kills
// that process with SIGKILL and checks that Prosody goes away too.
func TestNoOrphanWhenParentDies(t *testing.T) {
	if dir := os.Getenv("PROSODY_ORPHAN_HELPER_DIR"); dir != "" {
		orphanHelper(dir)
		return
	}
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("parent-death signal is Linux only")
	}
	requireProsody(t)
	ctx := testCtx(t)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestNoOrphanWhenParentDies$")
	cmd.Env = append(os.Environ(), "PROSODY_ORPHAN_HELPER_DIR="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	pid := 0
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "PROSODY_PID="); ok {
			pid, _ = strconv.Atoi(p)
			break
		}
	}
	if pid == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("helper did not report a Prosody pid")
	}
	if !alive(pid) {
		t.Fatal("prosody not running in helper")
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = exec.Command("kill", "-9", strconv.Itoa(pid)).Run()
			t.Fatalf("prosody (pid %d) outlived its parent", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func orphanHelper(dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := prosody.Start(ctx, prosody.Options{Dir: dir, Domain: domain})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Printf("PROSODY_PID=%d\n", srv.PID())
	time.Sleep(time.Minute) // killed by the parent test
	os.Exit(1)
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Format: pid (comm) state ...
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// TestLoadPath sends many messages through the cheap Send path and receives
// them through the OnStanza callback.
func TestLoadPath(t *testing.T) {
	t.Parallel()
	srv := start(t, prosody.Options{})
	ctx := testCtx(t)
	if err := srv.RegisterMany(map[string]string{"sender": "pw", "receiver": "pw"}); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	var count atomic.Int64
	all := make(chan struct{})
	rx := dial(t, ctx, srv, "receiver@example.test/r", "pw", xmppclient.Options{OnStanza: func(s *xmppclient.Stanza) {
		if s.Is(xmppclient.NSClient, "message") && s.ChildText("", "body") != "" && count.Add(1) == n {
			close(all)
		}
	}})
	tx := dial(t, ctx, srv, "sender@example.test/s", "pw", xmppclient.Options{})
	t0 := time.Now()
	var buf []byte
	for i := 0; i < n; i++ {
		buf = buf[:0]
		buf = append(buf, "<message type='chat' to='receiver@example.test/r' id='l"...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, "'><body>load</body></message>"...)
		if err := tx.Send(ctx, buf); err != nil {
			t.Fatal(err)
		}
	}
	sent := time.Since(t0)
	select {
	case <-all:
	case <-ctx.Done():
		t.Fatalf("received %d of %d messages", count.Load(), n)
	}
	t.Logf("sent %d messages in %v, all received after %v", n, sent, time.Since(t0))
	if _, err := rx.Next(ctx); err != xmppclient.ErrCallbackMode {
		t.Errorf("Next in callback mode: %v", err)
	}
}
