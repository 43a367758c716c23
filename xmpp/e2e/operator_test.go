package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// groupchat runs the binary with args and returns its output and error.
func groupchat(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestAuditAndReplay(t *testing.T) {
	h := privateHarness(t)
	data := filepath.Join(h.dir, "data")
	alice := h.login(t, "alice", "pda")
	group := groupID("audit")
	createGroup(alice, group, "Audit "+group, "bob")
	for _, step := range []struct{ ns, payload string }{
		{nsAdd, `<item jid="carol@` + xmppDomain + `" mid="carol"/>`},
		{nsRemove, `<item jid="bob@` + xmppDomain + `"/>`},
		{nsUpdate, `<properties><property name="name">Renamed</property></properties>`},
	} {
		alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + step.ns + `"/>` + step.payload + `</presence>`)
		alice.expect("the broadcast", presenceWith(group, step.ns))
	}
	alice.send(`<message type="groupchat" id="m1" to="` + gjid(group) + `"><body>not a change</body></message>`)
	alice.expect("the reflection", func(s *xmppclient.Stanza) bool { return s.ID() == "m1" })
	// Corrections and reactions are stored but never unread: a rebuild
	// must count them the same way.
	alice.send(`<message type="groupchat" id="m2" to="` + gjid(group) + `"><body>not a change, carol</body>` +
		`<replace xmlns="urn:xmpp:message-correct:0" id="m1"/><x xmlns="jabber:x:data" type="at" id="carol@` + xmppDomain + `"/></message>` +
		`<message type="groupchat" id="m3" to="` + gjid(group) + `"><reactions xmlns="urn:xmpp:reactions:0" id="m1"><reaction>👍</reaction></reactions></message>`)
	alice.expect("the reflection of the reaction", func(s *xmppclient.Stanza) bool { return s.ID() == "m3" })
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsDelete + `"/></presence>`)
	alice.expect("the deletegroup broadcast", presenceWith(group, nsDelete))

	out, err := groupchat(t, "audit", "--data", data, "--group", group, "--json")
	if err != nil {
		t.Fatalf("audit: %v\n%s", err, out)
	}
	var entries []struct {
		Group, Actor, Action, Name string
		Members                    []struct{ JID string }
	}
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("audit --json is not JSON: %v\n%s", err, out)
	}
	var actions []string
	for _, e := range entries {
		if e.Group != group || e.Actor != "alice@"+xmppDomain {
			t.Errorf("entry %+v", e)
		}
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "created,added,removed,renamed,deleted" {
		t.Errorf("audit actions = %s", got)
	}
	out, err = groupchat(t, "audit", "--data", data, "--user", "bob@"+xmppDomain)
	if err != nil || !strings.Contains(out, "removed") || !strings.Contains(out, "created") || strings.Contains(out, "renamed") {
		t.Errorf("audit of bob's changes as a table:\n%s (%v)", out, err)
	}
	if out, err := groupchat(t, "audit", "--data", data, "--since", "yesterday"); err == nil || !strings.Contains(out, "--since") {
		t.Errorf("a bad --since is a clear CLI error: %v\n%s", err, out)
	}

	// Verify runs beside the live service; a swap needs it stopped.
	out, err = groupchat(t, "replay", "--data", data, "--verify")
	if err != nil || !strings.Contains(out, "equal") {
		t.Fatalf("replay --verify: %v\n%s", err, out)
	}
	if out, err := groupchat(t, "replay", "--data", data); err == nil || !strings.Contains(out, "in use") {
		t.Errorf("replay while the service runs must refuse: %v\n%s", err, out)
	}
	h.comp.stop(syscall.SIGTERM)
	out, err = groupchat(t, "replay", "--data", data)
	if err != nil || !strings.Contains(out, "swapped in") {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	comp, err := h.startComponent()
	if err != nil {
		t.Fatal(err)
	}
	h.comp = comp
	out, err = groupchat(t, "replay", "--data", data, "--verify")
	if err != nil || !strings.Contains(out, "equal") {
		t.Fatalf("replay --verify after the swap: %v\n%s", err, out)
	}
	carol := h.login(t, "carol", "pda")
	if _, ok := itemsOf(carol)[group]; ok {
		t.Errorf("the deleted group stays deleted after a replay")
	}
}
