package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// privateHarness starts a Prosody and a component of the test's own, for
// tests that kill or restart them.
func privateHarness(t *testing.T, env ...string) *harness {
	t.Helper()
	h, err := newHarness(t.TempDir(), env...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.close)
	h.watch(t)
	return h
}

func archiveIDOf(t *testing.T, s *xmppclient.Stanza) uint64 {
	t.Helper()
	sid := s.Child(nsSID, "stanza-id")
	if sid == nil {
		t.Fatalf("no stanza-id: %s", s.Raw)
	}
	n, err := strconv.ParseUint(sid.Attr("id"), 10, 64)
	if err != nil {
		t.Fatalf("archive id %q is not a position: %v", sid.Attr("id"), err)
	}
	return n
}

func TestAcknowledgedMessagesSurviveKill9(t *testing.T) {
	h := privateHarness(t)
	alice := h.login(t, "alice", "pda")
	group := groupID("durable")
	createGroup(alice, group, "Durable "+group, "bob") // bob stays offline

	const n = 20
	var last uint64
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("d%d", i)
		alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>message ` + id + `</body></message>`)
		m := alice.expect("the reflection of "+id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id })
		if a := archiveIDOf(t, m); a <= last {
			t.Fatalf("archive ids must increase: %d after %d", a, last)
		} else {
			last = a
		}
	}
	// Every message above was reflected, so acknowledged: kill -9 now.
	h.restartComponent(t, syscall.SIGKILL)

	bob := h.login(t, "bob", "pda")
	if it := itemsOf(bob)[group]; it == nil || it.Attr("unread") != strconv.Itoa(n) {
		t.Fatalf("after kill -9 bob must have %d unread: %v", n, it)
	}
	alice = h.login(t, "alice", "desk")
	alice.send(`<message type="groupchat" id="after" to="` + gjid(group) + `"><body>after the restart</body></message>`)
	m := bob.expect("a message after the restart", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "after" })
	if a := archiveIDOf(t, m); a <= last {
		t.Errorf("archive ids go on increasing after a restart: got %d after %d", a, last)
	}
}

func TestComponentReconnectsAfterServerRestart(t *testing.T) {
	h := privateHarness(t)
	alice := h.login(t, "alice", "pda")
	group := groupID("reconnect")
	createGroup(alice, group, "Reconnect "+group, "bob")

	// Returns once the component has reconnected by itself.
	h.restartServer(t)
	alice = h.login(t, "alice", "pda2")
	bob := h.login(t, "bob", "pda")
	alice.send(`<message type="groupchat" id="r1" to="` + gjid(group) + `"><body>still here</body></message>`)
	bob.expect("a message after the server restart", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "r1" })
	if it := itemsOf(bob)[group]; it == nil || it.Attr("members") != "2" {
		t.Errorf("the group survived the server restart: %v", it)
	}
}

func TestServeRefusesToStartWithClearErrors(t *testing.T) {
	dir := t.TempDir()
	notADir := filepath.Join(dir, "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"wrong secret", []string{"GROUPCHAT_SECRET=wrong", "GROUPCHAT_DATA=" + filepath.Join(dir, "d1")}, "secret"},
		{"unwritable data directory", []string{"GROUPCHAT_SECRET=" + secret, "GROUPCHAT_DATA=" + filepath.Join(notADir, "data")}, "data directory"},
		{"missing domain", []string{"GROUPCHAT_DOMAIN=", "GROUPCHAT_SECRET=" + secret}, "--domain"},
		{"bad limit", []string{"GROUPCHAT_SECRET=" + secret, "GROUPCHAT_MAX_MEMBERS=-1", "GROUPCHAT_DATA=" + filepath.Join(dir, "d2")}, "max-members"},
	}
	// The processes started here link to the shared server as the shared
	// component's rivals; they must not disturb its link.
	shared.watch(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(binary, "serve")
			cmd.Env = append(os.Environ(), "GROUPCHAT_SERVER="+shared.srv.ComponentAddr(), "GROUPCHAT_DOMAIN="+service)
			cmd.Env = append(cmd.Env, c.env...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if err == nil || !asExit(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("want a non-zero exit, got %v:\n%s", err, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("the message must mention %q:\n%s", c.want, out)
			}
		})
	}
}

func TestLiveDeliveryResumesAfterServiceRestart(t *testing.T) {
	h := privateHarness(t)
	alice := h.login(t, "alice", "pda")
	bob := h.login(t, "bob", "pda")
	group := groupID("resume")
	createGroup(alice, group, "Resume "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	// The service restarts; bob stays connected to the server and says nothing.
	h.restartComponent(t, syscall.SIGTERM)
	alice.send(`<message type="groupchat" id="live" to="` + gjid(group) + `"><body>are you there?</body></message>`)
	bob.expect("a live message after the service restarted", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "live" })
}
