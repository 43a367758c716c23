package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// kills is how many times TestKill9UnderLoad kills the component: a few in
// the test suite, more with `just soak` (GROUPCHAT_SOAK_KILLS).
func kills() int {
	if n, err := strconv.Atoi(os.Getenv("GROUPCHAT_SOAK_KILLS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// TestKill9UnderLoad kills the component with SIGKILL at random points while
// a member keeps posting, restarts it each time, and then checks that every
// message that was reflected to its sender (acknowledged) is in the archive
// exactly once, that nothing is there twice, and that the projections equal
// a rebuild from the log.
func TestKill9UnderLoad(t *testing.T) {
	h := privateHarness(t)
	alice := h.login(t, "alice", "pda")
	group := groupID("kill9")
	createGroup(alice, group, "Kill "+group, "bob")

	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("GROUPCHAT_KILL_SEED"), 10, 64); err == nil {
		seed = s
	}
	// The seed decides the bursts and the kill points: logged, a failure
	// can be replayed.
	t.Logf("random seed %d (replay with GROUPCHAT_KILL_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	acked := map[string]bool{}
	sent := 0
	for k := 0; k < kills(); k++ {
		// Post a random number of messages, resending each until it is
		// reflected, while the component is killed at a random moment.
		burst := 20 + rng.Intn(40)
		killAt := rng.Intn(burst)
		for i := 0; i < burst; i++ {
			id := fmt.Sprintf("k%d", sent)
			sent++
			alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + id + `</body></message>`)
			if i == killAt {
				// Kill while the message may be anywhere between
				// the socket and the disk.
				h.restartComponent(t, syscall.SIGKILL)
			}
			if !waitReflection(alice, id) {
				// Not acknowledged: the phone resends it, as it would
				// after a flaky link; it must not be stored twice.
				alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + id + `</body></message>`)
				if !waitReflection(alice, id) {
					t.Fatalf("message %s is never acknowledged:\n%s", id, h.comp.log())
				}
			}
			acked[id] = true
		}
	}

	ids := mamIDs(t, alice, group)
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	for id := range acked {
		if seen[id] != 1 {
			t.Errorf("acknowledged message %s is in the archive %d times", id, seen[id])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("message %s is in the archive %d times", id, n)
		}
	}
	out, err := groupchat(t, "replay", "--data", h.dir+"/data", "--verify")
	if err != nil || !strings.Contains(out, "equal") {
		t.Fatalf("after %d kills the projections must equal a rebuild: %v\n%s", kills(), err, out)
	}
}

// waitReflection waits for the reflection of a message id; false if an
// error or nothing came back in time (the component was down).
func waitReflection(c *client, id string) bool {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.Expect(ctx, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id })
	return err == nil && s.Type() == "groupchat"
}

func TestResendStormIsStoredOnce(t *testing.T) {
	phone := shared.login(t, "alice", "phone")
	desk := shared.login(t, "alice", "desk")
	bob := shared.login(t, "bob", "pda")
	group := groupID("storm")
	createGroup(phone, group, "Storm "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	msg := `<message type="groupchat" id="storm-1" to="` + gjid(group) + `"><body>once</body><origin-id xmlns="` + nsSID + `" id="storm-origin"/></message>`
	for i := 0; i < 25; i++ {
		phone.send(msg)
		desk.send(msg)
	}
	// Each sending stream is routed in order, so once both of alice's
	// markers reach bob every stormed copy has been decided.
	phone.send(`<message type="groupchat" id="marker-phone" to="` + gjid(group) + `"><body>after the storm</body></message>`)
	desk.send(`<message type="groupchat" id="marker-desk" to="` + gjid(group) + `"><body>after the storm</body></message>`)
	bob.expect("the phone's marker", func(s *xmppclient.Stanza) bool { return s.ID() == "marker-phone" })
	bob.expect("the desk's marker", func(s *xmppclient.Stanza) bool { return s.ID() == "marker-desk" })
	n := 0
	for _, s := range bob.Pending() {
		if s.ID() == "storm-1" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("bob received the stormed message %d times, want 1", n)
	}
	if ids := mamIDs(t, bob, group); len(ids) != 3 {
		t.Errorf("the archive holds %v, want the message once and the two markers", ids)
	}
}

func TestExtensionsPassThroughUnchanged(t *testing.T) {
	alice := shared.login(t, "alice", "pda")
	bob := shared.login(t, "bob", "pda")
	group := groupID("payload")
	createGroup(alice, group, "Payload "+group, "bob")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	alice.send(`<message type="groupchat" id="ext" to="` + gjid(group) + `"><body>&gt; hi
yes</body>` +
		`<reply xmlns="urn:xmpp:reply:0" to="` + gjid(group) + `/bob" id="42"/>` +
		`<request xmlns="urn:xmpp:receipts"/>` +
		`<encrypted xmlns="eu.siacs.conversations.axolotl"><header sid="27183"><key rid="31415">QUJD</key><iv>SVY=</iv></header><payload>UEFZ</payload></encrypted>` +
		`<stanza-id xmlns="urn:xmpp:sid:0" by="` + gjid(group) + `" id="forged"/>` +
		`</message>`)
	m := bob.expect("the message", func(s *xmppclient.Stanza) bool { return s.ID() == "ext" })
	if r := m.Child("urn:xmpp:reply:0", "reply"); r == nil || r.Attr("id") != "42" || r.Attr("to") != gjid(group)+"/bob" {
		t.Errorf("the reply reference must pass through: %s", m.Raw)
	}
	if m.Child("urn:xmpp:receipts", "request") == nil {
		t.Errorf("the receipt request must pass through: %s", m.Raw)
	}
	if k := m.Find("{eu.siacs.conversations.axolotl}encrypted/header/key"); k == nil || k.Attr("rid") != "31415" || k.Text != "QUJD" {
		t.Errorf("the encrypted payload must pass through: %s", m.Raw)
	}
	sids := m.ChildrenNamed(nsSID, "stanza-id")
	if len(sids) != 1 || sids[0].Attr("id") == "forged" {
		t.Errorf("only the service's own stanza-id may reach members: %s", m.Raw)
	}
}
