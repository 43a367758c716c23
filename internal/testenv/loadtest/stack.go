package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/ejabberd"
	"github.com/uuchat/groupchat/internal/testenv/prosody"
)

// Addresses of every run. The domains are never resolved: everything is on
// 127.0.0.1.
const (
	xmppDomain = "bench.test"
	serviceJID = "groupchat.bench.test"
	mucDomain  = "conference.bench.test"
	secret     = "bench-secret"
	// multicastLimit is the most recipients the server's multicast
	// service takes in one stanza from the component, the same behind
	// either server.
	multicastLimit = 100
	password       = "bench"
)

// readyLine is what the component logs once it serves.
const readyLine = "authenticated and serving"

// componentPackage is the import path of the command under test.
const componentPackage = "github.com/uuchat/groupchat/cmd/groupchat"

// Build compiles the groupchat command into dir with go build and returns
// the binary's path. It must run inside this module.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "groupchat")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, componentPackage)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", componentPackage, err, out)
	}
	return bin, nil
}

// xmppServer is what a run needs of a started server, Prosody or ejabberd.
type xmppServer interface {
	C2SAddr() string
	ComponentAddr() string
	PID() int // the process whose CPU time is the server's
	LogTail(n int) string
	Stop() error
}

// stack is one XMPP server and, for the groupchat systems, one component
// process.
type stack struct {
	server Server
	srv    xmppServer
	comp   *component // nil unless the system is the component
}

// startStack starts the server in dir with the component and a MUC
// service (archiving every room for MUCMAM), registers the accounts, and
// starts the component for the groupchat systems.
func startStack(ctx context.Context, cfg *Config, server Server, dir, binary string, sys System, users []string) (*stack, error) {
	accounts := make(map[string]string, len(users))
	for _, u := range users {
		accounts[u] = password
	}
	var (
		srv xmppServer
		err error
	)
	switch server {
	case Prosody:
		srv, err = startProsody(ctx, cfg, dir, sys, accounts)
	case Ejabberd:
		srv, err = startEjabberd(ctx, dir, sys, accounts)
	default:
		err = fmt.Errorf("unknown server %v", server)
	}
	if err != nil {
		return nil, err
	}
	st := &stack{server: server, srv: srv}
	if sys.component() {
		st.comp, err = startComponent(ctx, cfg, binary, srv.ComponentAddr(), filepath.Join(dir, "groupchat-data"), sys == Groupchat)
		if err != nil {
			_ = srv.Stop()
			return nil, err
		}
	}
	return st, nil
}

func startProsody(ctx context.Context, cfg *Config, dir string, sys System, accounts map[string]string) (*prosody.Server, error) {
	srv, err := prosody.Start(ctx, prosody.Options{
		Dir:            filepath.Join(dir, "prosody"),
		Domain:         xmppDomain,
		Components:     map[string]string{serviceJID: secret},
		ComponentNames: map[string]string{serviceJID: "Group Chat Service"},
		MUC:            mucDomain,
		MUCMAM:         sys == MUCMAM,
		// The project's XEP-0033 service, as ejabberd's mod_multicast is
		// always there: groupchat finds it, groupchat-direct and MUC leave
		// it idle.
		Multicast:      true,
		MulticastLimit: multicastLimit,
		// Logging every connection at info would cost Prosody CPU in the
		// middle of the measurement.
		LogLevel:    "warn",
		ExtraConfig: cfg.ProsodyConfig,
	})
	if err != nil {
		return nil, err
	}
	if err := srv.RegisterMany(accounts); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	return srv, nil
}

func startEjabberd(ctx context.Context, dir string, sys System, accounts map[string]string) (*ejabberd.Server, error) {
	srv, err := ejabberd.Start(ctx, ejabberd.Options{
		Dir:            filepath.Join(dir, "ejabberd"),
		Domain:         xmppDomain,
		Components:     map[string]string{serviceJID: secret},
		MUC:            mucDomain,
		MUCMAM:         sys == MUCMAM,
		MulticastLimit: multicastLimit,
		// As for Prosody: no log line per connection during the
		// measurement.
		LogLevel: "warn",
	})
	if err != nil {
		return nil, err
	}
	if err := srv.RegisterMany(ctx, accounts); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	return srv, nil
}

// usage is what a stack has used so far.
type usage struct {
	server, component time.Duration // CPU time; the component's is zero without one
	linkBytes         int64         // what the component wrote to the server; zero without one
}

// usage reads the CPU time of the server and the component from /proc and
// the component's count of bytes written to the server from its /metrics.
func (st *stack) usage(ctx context.Context) (usage, error) {
	var u usage
	pid := st.srv.PID()
	if pid == 0 {
		return u, fmt.Errorf("%s is not running", st.server)
	}
	var err error
	if u.server, err = processCPU(pid); err != nil {
		return u, err
	}
	if st.comp != nil {
		if u.component, err = processCPU(st.comp.cmd.Process.Pid); err != nil {
			return u, err
		}
		if u.linkBytes, err = st.comp.linkBytes(ctx); err != nil {
			return u, err
		}
	}
	return u, nil
}

// alive reports an error if the component has exited.
func (st *stack) alive() error {
	if st.comp == nil {
		return nil
	}
	select {
	case <-st.comp.done:
		return fmt.Errorf("the component exited:\n%s", st.comp.logTail())
	default:
		return nil
	}
}

// stop ends the component, then the server.
func (st *stack) stop(log *slog.Logger) {
	if st.comp != nil {
		st.comp.stop()
	}
	if err := st.srv.Stop(); err != nil {
		log.Warn("stopping the server", "server", st.server.String(), "err", err)
	}
}

// component is a running "groupchat serve".
type component struct {
	cmd     *exec.Cmd
	metrics string        // the URL of its /metrics
	done    chan struct{} // closed once the process has exited and its output is read

	mu   sync.Mutex
	tail []string // the last lines of its log
}

const componentLogLines = 40

// startComponent starts "groupchat serve" against server, with its HTTP
// listener on a free loopback port for /metrics, fanning out through the
// server's multicast service if multicast and it offers one, one stanza per
// recipient otherwise.
func startComponent(ctx context.Context, cfg *Config, binary, server, data string, multicast bool) (*component, error) {
	httpAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(),
		"GROUPCHAT_SERVER="+server,
		"GROUPCHAT_DOMAIN="+serviceJID,
		"GROUPCHAT_SECRET="+secret,
		"GROUPCHAT_DATA="+data,
		"GROUPCHAT_LOG_LEVEL=info",
		"GROUPCHAT_MESSAGE_RATE="+strconv.Itoa(cfg.MessageRate),
		"GROUPCHAT_MESSAGE_BURST="+strconv.Itoa(cfg.MessageBurst),
		"GROUPCHAT_MULTICAST="+strconv.FormatBool(multicast),
		"GROUPCHAT_HTTP="+httpAddr,
	)
	cmd.Stdout = io.Discard
	cmd.SysProcAttr = childAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s serve: %w", binary, err)
	}
	c := &component{cmd: cmd, metrics: "http://" + httpAddr + "/metrics", done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.tail = append(c.tail, line)
			if len(c.tail) > componentLogLines {
				c.tail = c.tail[len(c.tail)-componentLogLines:]
			}
			c.mu.Unlock()
			if strings.Contains(line, readyLine) {
				once.Do(func() { close(ready) })
			}
		}
		_ = cmd.Wait()
		close(c.done)
	}()
	wait := time.NewTimer(time.Minute)
	defer wait.Stop()
	select {
	case <-ready:
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("the component exited before serving:\n%s", c.logTail())
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	case <-wait.C:
		c.stop()
		return nil, fmt.Errorf("the component did not log %q within a minute:\n%s", readyLine, c.logTail())
	}
}

func (c *component) logTail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.tail, "\n")
}

// stop asks the component to exit and kills it if it has not after 30
// seconds.
func (c *component) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}
