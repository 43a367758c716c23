package servertest

import (
	"bufio"
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmpp/component"
	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// Run runs the suite against the launcher's server, each test in parallel
// with its own server.
func Run(t *testing.T, l Launcher) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, Launcher)
	}{
		{"Accessors", testAccessors},
		{"ChatMessageRegisterAndRestart", testChatMessageRegisterAndRestart},
		{"RegisterMany", testRegisterMany},
		{"ComponentAuthenticates", testComponentAuthenticates},
		{"StopThisInstanceOnly", testStopThisInstanceOnly},
		{"NoOrphanWhenParentDies", testNoOrphanWhenParentDies},
		{"LoadPath", testLoadPath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, l)
		})
	}
}

// testAccessors: a running server describes itself: its domain, its
// directory holding the configuration and the log, two distinct loopback
// ports that accept connections, a live process.
func testAccessors(t *testing.T, l Launcher) {
	dir := t.TempDir()
	srv := l.start(t, Options{Dir: dir, Components: map[string]string{CompDomain: CompSecret}})
	if srv.Domain() != Domain {
		t.Errorf("Domain = %q, want %q", srv.Domain(), Domain)
	}
	if srv.Dir() != dir {
		t.Errorf("Dir = %q, want %q", srv.Dir(), dir)
	}
	for what, p := range map[string]string{"ConfigPath": srv.ConfigPath(), "LogPath": srv.LogPath()} {
		if rel, err := filepath.Rel(dir, p); err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("%s = %q, not in %s", what, p, dir)
		}
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s %q: %v", what, p, err)
		}
	}
	ports := map[string]bool{}
	for what, addr := range map[string]string{"C2SAddr": srv.C2SAddr(), "ComponentAddr": srv.ComponentAddr()} {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" || port == "0" {
			t.Errorf("%s = %q, want 127.0.0.1 and a port", what, addr)
		}
		ports[port] = true
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Errorf("%s %s: %v", what, addr, err)
			continue
		}
		c.Close()
	}
	if len(ports) != 2 {
		t.Errorf("C2SAddr %s and ComponentAddr %s share a port", srv.C2SAddr(), srv.ComponentAddr())
	}
	if pid := srv.PID(); pid <= 0 || !Alive(pid) {
		t.Errorf("PID = %d, want the running process", pid)
	}
	select {
	case <-srv.Done():
		t.Error("Done is closed while the server runs")
	default:
	}
	if srv.LogTail(80) == "" {
		t.Errorf("LogTail is empty; the log at %s has nothing", srv.LogPath())
	}
}

// testChatMessageRegisterAndRestart: registered users log in (registering
// again replaces the password), exchange chat messages and ping the server;
// a restart ends their streams, keeps the addresses and the accounts.
func testChatMessageRegisterAndRestart(t *testing.T, l Launcher) {
	srv := l.start(t, Options{Components: map[string]string{CompDomain: CompSecret}})
	ctx := l.Context(t)
	for _, u := range []string{"alice", "bob"} {
		if err := srv.Register(ctx, u, "old"); err != nil {
			t.Fatal(err)
		}
		// Registering again replaces the password.
		if err := srv.Register(ctx, u, u+` pw "é"`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := xmppclient.Dial(ctx, srv.C2SAddr(), jid.MustParse("alice@example.test"), "old"); err == nil {
		t.Error("the replaced password still logs in")
	}

	exchange := func(round int) (alice, bob *xmppclient.Client) {
		t.Helper()
		alice = Dial(t, ctx, srv, "alice@example.test/laptop", `alice pw "é"`, xmppclient.Options{})
		bob = Dial(t, ctx, srv, "bob@example.test", `bob pw "é"`, xmppclient.Options{InitialPresence: true})
		if got := alice.JID().String(); got != "alice@example.test/laptop" {
			t.Errorf("alice bound %q, want the requested resource", got)
		}
		if bob.JID().Resourcepart() == "" {
			t.Errorf("bob bound %q, want a server-assigned resource", bob.JID())
		}
		// The server sends the initial presence to the user's available
		// resources, the sender included (RFC 6121 4.2.2).
		if _, err := bob.Expect(ctx, func(s *xmppclient.Stanza) bool {
			return s.Is(xmppclient.NSClient, "presence") && s.From() == bob.JID().String()
		}); err != nil {
			t.Fatal(err)
		}

		// To the bare JID (bob is available), then to the full JID.
		for i, to := range []string{"bob@example.test", bob.JID().String()} {
			id := fmt.Sprintf("msg-%d-%d", round, i)
			err := alice.SendRaw(ctx, `<message to='`+to+`' type='chat' id='`+id+`'>
				<body>Hello &amp; welcome, round `+strconv.Itoa(round)+`</body>
				<thread xmlns='jabber:client'>t1</thread>
				<active xmlns='http://jabber.org/protocol/chatstates'/>
			</message>`)
			if err != nil {
				t.Fatal(err)
			}
			m, err := bob.Expect(ctx, ByID(id))
			if err != nil {
				t.Fatal(err)
			}
			if !m.Is(xmppclient.NSClient, "message") || m.Type() != "chat" {
				t.Errorf("bob received %s", m.Raw)
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
		}

		// An IQ result reaches Next like any other stanza.
		id := fmt.Sprintf("ping-%d", round)
		if err := alice.SendRaw(ctx, `<iq type='get' id='`+id+`' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>`); err != nil {
			t.Fatal(err)
		}
		res, err := alice.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.ID() != id || res.Type() != "result" || res.From() != Domain {
			t.Errorf("ping reply: %s", res.Raw)
		}
		return alice, bob
	}

	alice, bob := exchange(1)
	c2s, comp := srv.C2SAddr(), srv.ComponentAddr()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.C2SAddr() != c2s || srv.ComponentAddr() != comp {
		t.Errorf("a restart keeps the ports: %s %s, was %s %s", srv.C2SAddr(), srv.ComponentAddr(), c2s, comp)
	}
	for _, c := range []*xmppclient.Client{alice, bob} {
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatalf("%s: stream did not end when %s restarted", c.JID(), l.Name)
		}
	}
	// The accounts are kept in the server's directory and survive the
	// restart.
	exchange(2)
}

// testRegisterMany: many accounts at once, passwords with quotes,
// backslashes and non-ASCII; registering again replaces a password.
func testRegisterMany(t *testing.T, l Launcher) {
	srv := l.start(t, Options{})
	ctx := l.Context(t)
	users := map[string]string{}
	for i := 0; i < 50; i++ {
		users[fmt.Sprintf("load%d", i)] = fmt.Sprintf("pw \"%d\" \\ é -x", i)
	}
	if err := srv.RegisterMany(ctx, users); err != nil {
		t.Fatal(err)
	}
	// Again: existing accounts get the new password.
	users["load0"] = "new"
	if err := srv.RegisterMany(ctx, users); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"load0", "load49"} {
		c := Dial(t, ctx, srv, u+"@example.test", users[u], xmppclient.Options{})
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	if _, err := xmppclient.Dial(ctx, srv.C2SAddr(), jid.MustParse("load1@example.test"), "wrong"); err == nil {
		t.Error("login with a wrong password succeeded")
	}
}

// testComponentAuthenticates: an XEP-0114 component authenticates with its
// secret only, exchanges stanzas with a client both ways (the client
// answers the component's ping and still queues it), and loses its link
// when the server restarts.
func testComponentAuthenticates(t *testing.T, l Launcher) {
	srv := l.start(t, Options{Components: map[string]string{CompDomain: CompSecret}})
	ctx := l.Context(t)

	if _, _, _, err := ComponentSession(t, ctx, srv, CompDomain, "wrong"); err == nil {
		t.Fatal("component handshake with a wrong secret succeeded")
	}
	sess, got, served, err := ComponentSession(t, ctx, srv, CompDomain, CompSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Register(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	alice := Dial(t, ctx, srv, "alice@example.test/a", "pw", xmppclient.Options{})

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
	m, err := alice.Expect(ctx, ByID("g2"))
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
	if _, err := alice.Expect(ctx, ByID("p1")); err != nil {
		t.Errorf("ping not delivered to the queue: %v", err)
	}

	// A restart drops the component link.
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-served:
	case <-ctx.Done():
		t.Fatalf("component session survived a %s restart", l.Name)
	}
}

// testStopThisInstanceOnly: two instances run side by side; Stop ends one
// (its process gone, Done closed, PID 0, a second Stop is a no-op) and
// leaves the other serving.
func testStopThisInstanceOnly(t *testing.T, l Launcher) {
	a := l.start(t, Options{Components: map[string]string{CompDomain: CompSecret}})
	b := l.start(t, Options{})
	if a.C2SAddr() == b.C2SAddr() || a.Dir() == b.Dir() {
		t.Fatalf("two instances share %s or %s", a.C2SAddr(), a.Dir())
	}
	ctx := l.Context(t)
	pid, done := a.PID(), a.Done()
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	default:
		t.Error("Done is not closed after Stop")
	}
	if a.PID() != 0 {
		t.Errorf("PID after Stop = %d", a.PID())
	}
	if Alive(pid) {
		t.Errorf("process %d outlived Stop", pid)
	}
	if err := a.Stop(); err != nil {
		t.Errorf("Stop on a stopped server: %v", err)
	}
	if b.PID() == 0 || !Alive(b.PID()) {
		t.Fatal("stopping one instance stopped the other")
	}
	if err := b.Register(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	Dial(t, ctx, b, "alice@example.test/a", "pw", xmppclient.Options{})
}

// orphanHelperEnv tells a child test process to start a server in the
// directory it names, print its pid and wait to be killed.
const orphanHelperEnv = "SERVERTEST_ORPHAN_HELPER_DIR"

// testNoOrphanWhenParentDies starts the server from a child test process,
// kills that process with SIGKILL and checks that the server goes away too.
func testNoOrphanWhenParentDies(t *testing.T, l Launcher) {
	if dir := os.Getenv(orphanHelperEnv); dir != "" {
		orphanHelper(l, dir)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("parent-death signal is Linux only")
	}
	l.Require(t)
	ctx := l.Context(t)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+runPattern(t.Name()))
	cmd.Env = append(os.Environ(), orphanHelperEnv+"="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	pid := 0
	var said []string
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "SERVER_PID="); ok {
			pid, _ = strconv.Atoi(p)
			break
		}
		said = append(said, sc.Text())
	}
	if pid == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper did not report a %s pid: %s", l.Name, strings.Join(said, "\n"))
	}
	if !Alive(pid) {
		t.Fatalf("%s not running in helper", l.Name)
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for Alive(pid) {
		if time.Now().After(deadline) {
			_ = exec.Command("kill", "-9", strconv.Itoa(pid)).Run()
			t.Fatalf("%s (pid %d) outlived its parent", l.Name, pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func orphanHelper(l Launcher, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout())
	defer cancel()
	srv, err := l.Start(ctx, Options{Dir: dir, Domain: Domain})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Printf("SERVER_PID=%d\n", srv.PID())
	time.Sleep(time.Minute) // killed by the parent test
	os.Exit(1)
}

// testLoadPath sends many messages through the client's cheap Send path and
// receives them through the OnStanza callback.
func testLoadPath(t *testing.T, l Launcher) {
	srv := l.start(t, Options{})
	ctx := l.Context(t)
	if err := srv.RegisterMany(ctx, map[string]string{"sender": "pw", "receiver": "pw"}); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	var count atomic.Int64
	all := make(chan struct{})
	rx := Dial(t, ctx, srv, "receiver@example.test/r", "pw", xmppclient.Options{OnStanza: func(s *xmppclient.Stanza) {
		if s.Is(xmppclient.NSClient, "message") && s.ChildText("", "body") != "" && count.Add(1) == n {
			close(all)
		}
	}})
	tx := Dial(t, ctx, srv, "sender@example.test/s", "pw", xmppclient.Options{})
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
