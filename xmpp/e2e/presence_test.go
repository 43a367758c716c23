package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// onlineList reads the online resources the service saved in its data
// directory (it saves them every second when they changed, and at exit).
func onlineList(t *testing.T, h *harness) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, "data", "online.json"))
	if err != nil {
		t.Fatalf("the service's list of online resources: %v", err)
	}
	var fulls []string
	if err := json.Unmarshal(b, &fulls); err != nil {
		t.Fatalf("online.json: %v\n%s", err, b)
	}
	return fulls
}

// TestStaleResourceIsForgottenAfterABounce: a resource that went offline
// while the service was down never sent the service an unavailable
// presence, so the restarted service still counts it online. The server
// answers the next delivery to it with an error message from that full JID
// (Prosody and ejabberd alike), and the service forgets the resource.
func TestStaleResourceIsForgottenAfterABounce(t *testing.T) {
	h := privateHarness(t)
	alice := h.login(t, "alice", "pda")
	bob := h.login(t, "bob", "gone")
	group := groupID("stale")
	createGroup(alice, group, "Stale "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	h.comp.stop(syscall.SIGTERM)
	if got := onlineList(t, h); !slices.Contains(got, bob.full()) || !slices.Contains(got, alice.full()) {
		t.Fatalf("the stopped service saved %v, want %s and %s", got, alice.full(), bob.full())
	}
	gone := bob.full()
	bob.Close()
	// Wait until the server has ended bob's session: a ping to the
	// resource is then refused by the server instead of answered by bob.
	waitFor(t, "the server to end "+gone+"'s session", func() bool {
		id := fmt.Sprintf("gone-%d", pingSeq.Add(1))
		alice.send(`<iq type="get" id="` + id + `" to="` + gone + `"><ping xmlns="urn:xmpp:ping"/></iq>`)
		res := alice.expect("the answer to "+id, func(s *xmppclient.Stanza) bool { return s.ID() == id })
		return res.Type() == "error"
	})

	comp, err := h.startComponent()
	if err != nil {
		t.Fatal(err)
	}
	h.comp = comp
	alice.send(`<message type="groupchat" id="to-stale" to="` + gjid(group) + `"><body>anyone?</body></message>`)
	alice.expect("the reflection", func(s *xmppclient.Stanza) bool { return s.ID() == "to-stale" && s.Type() == "groupchat" })
	waitFor(t, "the service to forget "+gone, func() bool {
		got := onlineList(t, h)
		return !slices.Contains(got, gone) && slices.Contains(got, alice.full())
	})

	// Bob comes back with the same resource and is online again.
	bob = h.login(t, "bob", "gone")
	alice.send(`<message type="groupchat" id="back" to="` + gjid(group) + `"><body>welcome back</body></message>`)
	bob.expect("a live message after coming back", func(s *xmppclient.Stanza) bool { return s.ID() == "back" })
}
