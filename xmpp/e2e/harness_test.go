package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/internal/testenv/linkwatch"
	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	xmppDomain = "example.test"
	service    = "groupchat.example.test"
	secret     = "e2e-secret"
	// wait bounds how long a test waits for a stanza it expects; it is a
	// guard against hanging, not a speed assertion.
	wait = 20 * time.Second
	// systemAdmin is the service administrator named in the configuration.
	systemAdmin = "eve@" + xmppDomain
)

// users registered on the shared server, password = name.
var users = []string{"alice", "bob", "carol", "dave", "eve", "mallory"}

var (
	binary string
	shared *harness
	// kind is the XMPP server the suite runs behind (GROUPCHAT_E2E_SERVER).
	kind string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flagParse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode (needs an XMPP server)")
		return 0
	}
	var err error
	if kind, err = serverKind(); err != nil {
		fmt.Println("e2e:", err)
		return 1
	}
	if ok, pkg := serverInstalled(kind); !ok {
		if os.Getenv("CI") != "" {
			fmt.Printf("e2e: %s is not installed; .ci/run must install it\n", kind)
			return 1
		}
		// Reported ok so that a developer without the server can run
		// go test ./..., but loud: nothing end to end was tested.
		fmt.Printf("e2e: !!! SKIPPED, NO END-TO-END TEST RAN: %s is not installed (apt-get install %s); set CI=1 to make this a failure !!!\n", kind, pkg)
		return 0
	}
	dir, err := os.MkdirTemp("", "groupchat-e2e-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "groupchat")
	build := exec.Command("go", "build", "-race", "-o", binary, "github.com/uuchat/groupchat/cmd/groupchat")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Println("e2e: building the binary:", err)
		return 1
	}
	h, err := newHarness(filepath.Join(dir, "shared"))
	if err != nil {
		fmt.Println("e2e:", err)
		return 1
	}
	shared = h
	code := m.Run()
	// A drop no test's own check saw still fails the run.
	sharedHeld, pushHeld := linksHeld("shared", h), linksHeld("push", pushH)
	if !sharedHeld || !pushHeld {
		code = 1
	}
	closePushHarness()
	h.close()
	return code
}

// harness is one XMPP server and one component process.
type harness struct {
	srv  xmppServer
	dir  string
	comp *component
	// env is added to every start of the component.
	env []string
	// links is what every component process of this harness logged about
	// its link; see watch.
	links linkwatch.Log
	mu    sync.Mutex
	// watched holds the tests whose end checks links.
	watched map[*testing.T]bool
}

func newHarness(dir string, env ...string) (*harness, error) {
	return newHarnessWith(dir, serverOptions{}, env...)
}

// newHarnessWith is newHarness with extra services on the XMPP server.
func newHarnessWith(dir string, extra serverOptions, env ...string) (*harness, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := startServer(ctx, kind, dir, extra)
	if err != nil {
		return nil, err
	}
	if err := registerUsers(ctx, srv, users); err != nil {
		srv.Stop()
		return nil, err
	}
	h := &harness{srv: srv, dir: dir}
	h.env = env
	if h.comp, err = h.startComponent(); err != nil {
		srv.Stop()
		return nil, err
	}
	return h, nil
}

func (h *harness) close() {
	if h.comp != nil {
		h.comp.stop(syscall.SIGTERM)
	}
	h.srv.Stop()
}

// component is a running groupchat serve process.
type component struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs strings.Builder
	done chan struct{}
}

func (h *harness) startComponent(extraEnv ...string) (*component, error) {
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(),
		"GROUPCHAT_SERVER="+h.srv.ComponentAddr(),
		"GROUPCHAT_DOMAIN="+service,
		"GROUPCHAT_SECRET="+secret,
		"GROUPCHAT_DATA="+filepath.Join(h.dir, "data"),
		"GROUPCHAT_LOG_LEVEL=debug",
		// Tests post in bursts far beyond a person's pace.
		"GROUPCHAT_MESSAGE_RATE=2000",
		"GROUPCHAT_MESSAGE_BURST=2000",
		"GROUPCHAT_SYSTEM_ADMINS="+systemAdmin,
	)
	cmd.Env = append(cmd.Env, h.env...)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &component{cmd: cmd, done: make(chan struct{})}
	proc := h.links.Process()
	ready := make(chan struct{})
	var once sync.Once
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.logs.WriteString(line + "\n")
			c.mu.Unlock()
			if proc.Observe(line) == linkwatch.Serving {
				once.Do(func() { close(ready) })
			}
		}
		cmd.Wait()
		close(c.done)
	}()
	select {
	case <-ready:
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("the component exited before serving:\n%s", c.log())
	case <-time.After(time.Minute):
		c.stop(syscall.SIGKILL)
		return nil, fmt.Errorf("the component did not start serving:\n%s", c.log())
	}
}

func (c *component) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs.String()
}

func (c *component) stop(sig syscall.Signal) {
	c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

var groupSeq atomic.Int64

// groupID returns a group id unique in this run.
func groupID(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, groupSeq.Add(1))
}

// client is a logged-in user in a test.
type client struct {
	t *testing.T
	*xmppclient.Client
	name string
}

// bare is the user's bare JID.
func (c *client) bare() string { return c.JID().Bare().String() }

// full is the user's full JID.
func (c *client) full() string { return c.JID().String() }

// login logs user in with a resource and sends the directed presence that
// makes it online for the service.
func (h *harness) login(t *testing.T, user, resource string) *client {
	t.Helper()
	h.watch(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	j := jid.MustParse(user + "@" + xmppDomain + "/" + resource)
	c, err := xmppclient.Dial(ctx, h.srv.C2SAddr(), j, user)
	if err != nil {
		t.Fatalf("login %s: %v", j, err)
	}
	cl := &client{t: t, Client: c, name: user}
	t.Cleanup(func() { c.Close() })
	cl.send(`<presence to="` + service + `"/>`)
	cl.sync()
	return cl
}

// send writes a raw stanza.
func (c *client) send(xml string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.SendRaw(ctx, xml); err != nil {
		c.t.Fatalf("%s sending %s: %v", c.name, xml, err)
	}
}

// expect waits for a stanza matching m; what describes it in failures.
func (c *client) expect(what string, m func(*xmppclient.Stanza) bool) *xmppclient.Stanza {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	s, err := c.Expect(ctx, m)
	if err != nil {
		c.t.Fatalf("%s expected %s: %v", c.name, what, err)
	}
	return s
}

// iq sends an IQ and returns its answer (result or error), matched by id.
func (c *client) iq(xml, id string) *xmppclient.Stanza {
	c.t.Helper()
	c.send(xml)
	return c.expect("the answer to iq "+id, func(s *xmppclient.Stanza) bool {
		return s.Is("", "iq") && s.ID() == id && (s.Type() == "result" || s.Type() == "error")
	})
}

var pingSeq atomic.Int64

// sync round-trips a ping through the service: everything the service sent
// this client before answering it has arrived when sync returns.
func (c *client) sync() {
	c.t.Helper()
	id := fmt.Sprintf("sync-%d", pingSeq.Add(1))
	c.iq(`<iq type="get" id="`+id+`" to="`+service+`"><ping xmlns="urn:xmpp:ping"/></iq>`, id)
}

// expectNone asserts that nothing matching m has arrived (after a sync).
func (c *client) expectNone(what string, m func(*xmppclient.Stanza) bool) {
	c.t.Helper()
	c.sync()
	for _, s := range c.Pending() {
		if m(s) {
			c.t.Fatalf("%s must not receive %s, got %s", c.name, what, s.Raw)
		}
	}
}

// drain forgets every stanza received so far.
func (c *client) drain() {
	c.t.Helper()
	c.sync()
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	for {
		if _, err := c.Next(ctx); err != nil {
			return
		}
	}
}
