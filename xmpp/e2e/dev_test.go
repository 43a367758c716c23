package e2e

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/internal/testenv/linkwatch"
	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// TestDevRunsBehindTheChosenServer starts `groupchat dev --xmpp-server`
// with the suite's server, logs in with a demo account, reaches the
// service, and stops it all with SIGTERM.
func TestDevRunsBehindTheChosenServer(t *testing.T) {
	// Two ports that were free a moment ago, for dev's listeners.
	var ports []string
	for i := 0; i < 2; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
		l.Close()
	}
	// TestConverseInDev covers the browser client.
	cmd := exec.Command(binary, "dev", "--xmpp-server", kind, "--dir", t.TempDir(), "--web-client=false",
		"--c2s-port", ports[0], "--component-port", ports[1])
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	running := make(chan struct{})
	var logs strings.Builder
	// dev runs its own component process, outside any harness: its link
	// must hold as well.
	var links linkwatch.Log
	proc := links.Process()
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			proc.Observe(sc.Text())
			logs.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Group chat is running.") {
				close(running)
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case <-running:
	case err := <-exited:
		t.Fatalf("dev exited before running: %v\n%s", err, logs.String())
	case <-time.After(time.Minute):
		t.Fatal("dev did not start within a minute")
	}

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c2s := "127.0.0.1:" + ports[0]
	alice, err := xmppclient.Dial(ctx, c2s, jid.MustParse("alice@localhost/dev"), "alice")
	if err != nil {
		t.Fatalf("the demo account logs in behind %s: %v", kind, err)
	}
	defer alice.Close()
	if err := alice.SendRaw(ctx, `<iq type="get" id="devping" to="groupchat.localhost"><ping xmlns="urn:xmpp:ping"/></iq>`); err != nil {
		t.Fatal(err)
	}
	res, err := alice.Expect(ctx, func(s *xmppclient.Stanza) bool { return s.ID() == "devping" })
	if err != nil || res.Type() != "result" || res.From() != "groupchat.localhost" {
		t.Fatalf("the service answers a ping behind %s: %v %v", kind, res, err)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
			t.Errorf("dev exited with %v after SIGTERM:\n%s", err, logs.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("dev did not exit within a minute of SIGTERM")
	}
	if r := links.Since(0); !r.OK() {
		t.Errorf("%s: behind %s, %s", t.Name(), kind, r)
	}
	if c, err := net.Dial("tcp", c2s); err == nil {
		c.Close()
		t.Errorf("%s still accepts clients after dev exited", kind)
	}
}
