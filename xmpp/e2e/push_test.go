package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	// appServer is the XMPP server's own mod_pubsub (Prosody's or
	// ejabberd's), standing in for an XEP-0357 app server; appUser
	// administers it (creates the nodes).
	appServer = "push.example.test"
	appUser   = "pushapp"
	nsPubSub  = "http://jabber.org/protocol/pubsub"
	nsEvent   = nsPubSub + "#event"
	nsPush    = "urn:xmpp:push:0"
	nsGCPush  = nsGC + "#push"
	nsXData   = "jabber:x:data"
	// pushInterval is the coalescing interval the push tests run with: a
	// burst sent at once falls into one interval.
	pushInterval = "2s"
)

// pushUsers are registered on the push tests' server besides users.
var pushUsers = []string{appUser, "frank", "grace"}

var (
	pushOnce sync.Once
	pushH    *harness
	pushErr  error
)

// pushHarness is a server with the pubsub app server and a component
// notifying every 2 s at most and giving up on a push target after two
// failures, shared by the push tests.
func pushHarness(t *testing.T) *harness {
	t.Helper()
	pushOnce.Do(func() {
		dir := filepath.Join(filepath.Dir(shared.dir), "push")
		pushH, pushErr = newHarnessWith(dir, serverOptions{
			PubSub:       appServer,
			PubSubAdmins: []string{appUser + "@" + xmppDomain},
		}, "GROUPCHAT_PUSH_INTERVAL="+pushInterval, "GROUPCHAT_PUSH_MAX_FAILURES=2")
		if pushErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		pushErr = registerUsers(ctx, pushH.srv, pushUsers)
	})
	if pushErr != nil {
		t.Fatal(pushErr)
	}
	pushH.watch(t)
	return pushH
}

// closePushHarness stops the push tests' server, if they started it.
func closePushHarness() {
	if pushH != nil {
		pushH.close()
	}
}

// app is the app server's administrator, subscribed to the nodes it made.
type app struct{ *client }

func loginApp(t *testing.T, h *harness) *app {
	return &app{h.login(t, appUser, "app")}
}

// createNode makes a node anyone may publish to, and subscribes to it.
func (a *app) createNode(node string) {
	a.t.Helper()
	id := "create-" + node
	res := a.iq(`<iq type="set" id="`+id+`" to="`+appServer+`"><pubsub xmlns="`+nsPubSub+`"><create node="`+node+`"/><configure>`+
		`<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>`+nsPubSub+`#node_config</value></field>`+
		`<field var="pubsub#publish_model"><value>open</value></field></x></configure></pubsub></iq>`, id)
	if res.Type() != "result" {
		a.t.Fatalf("creating node %s: %s", node, res.Raw)
	}
	id = "subscribe-" + node
	res = a.iq(`<iq type="set" id="`+id+`" to="`+appServer+`"><pubsub xmlns="`+nsPubSub+`"><subscribe node="`+node+`" jid="`+a.full()+`"/></pubsub></iq>`, id)
	if res.Type() != "result" {
		a.t.Fatalf("subscribing to node %s: %s", node, res.Raw)
	}
}

// notification is the summary form of one XEP-0357 notification.
type notification struct {
	count, sender, body string
	hasBody             bool
}

// nextPublish waits for the next notification published to node.
func (a *app) nextPublish(node string) notification {
	a.t.Helper()
	s := a.expect("a notification on node "+node, func(s *xmppclient.Stanza) bool {
		items := s.Find("event/items")
		return s.Is("", "message") && s.From() == appServer && items != nil && items.Attr("node") == node
	})
	x := s.Find("event/items/item/notification/x")
	if x == nil || x.Child(nsPush, "x") != nil {
		a.t.Fatalf("the published item is no push notification: %s", s.Raw)
	}
	fields := map[string]string{}
	for _, f := range x.ChildrenNamed(nsXData, "field") {
		fields[f.Attr("var")] = f.ChildText(nsXData, "value")
	}
	if fields["FORM_TYPE"] != "urn:xmpp:push:summary" {
		a.t.Fatalf("FORM_TYPE is %q, want urn:xmpp:push:summary: %s", fields["FORM_TYPE"], s.Raw)
	}
	body, hasBody := fields["last-message-body"]
	return notification{count: fields["message-count"], sender: fields["last-message-sender"], body: body, hasBody: hasBody}
}

// enablePush registers node on the app server for c's user.
func (c *client) enablePush(node string, includeBody bool) {
	c.t.Helper()
	extra := ""
	if includeBody {
		extra = `<include-body xmlns="` + nsGCPush + `"/>`
	}
	id := fmt.Sprintf("enable-%d", pingSeq.Add(1))
	res := c.iq(`<iq type="set" id="`+id+`" to="`+service+`"><enable xmlns="`+nsPush+`" jid="`+appServer+`" node="`+node+`">`+extra+`</enable></iq>`, id)
	if res.Type() != "result" {
		c.t.Fatalf("enable %s: %s", node, res.Raw)
	}
}

// disablePush removes node (every node of the app server if node is "").
func (c *client) disablePush(node string) {
	c.t.Helper()
	id := fmt.Sprintf("disable-%d", pingSeq.Add(1))
	attr := ""
	if node != "" {
		attr = ` node="` + node + `"`
	}
	res := c.iq(`<iq type="set" id="`+id+`" to="`+service+`"><disable xmlns="`+nsPush+`" jid="`+appServer+`"`+attr+`/></iq>`, id)
	if res.Type() != "result" {
		c.t.Fatalf("disable %q: %s", node, res.Raw)
	}
}

// notifyLevel sends a notification level request for group and returns
// the answer.
func (c *client) notifyLevel(group, level string) *xmppclient.Stanza {
	c.t.Helper()
	id := fmt.Sprintf("notify-%d", pingSeq.Add(1))
	if level == "" {
		return c.iq(`<iq type="get" id="`+id+`" to="`+gjid(group)+`"><notify xmlns="`+nsGCPush+`"/></iq>`, id)
	}
	return c.iq(`<iq type="set" id="`+id+`" to="`+gjid(group)+`"><notify xmlns="`+nsGCPush+`" level="`+level+`"/></iq>`, id)
}

// goOffline leaves the service, staying connected to the server, as a
// phone whose app was suspended. It returns once the service has taken
// the unavailable presence: the refusal that follows it comes back on the
// same route, and a refused request does not count as being online.
func (c *client) goOffline() {
	c.t.Helper()
	c.send(`<presence type="unavailable" to="` + service + `"/>`)
	id := fmt.Sprintf("offline-%d", pingSeq.Add(1))
	res := c.iq(`<iq type="get" id="`+id+`" to="nobody@`+service+`/x"><ping xmlns="urn:xmpp:ping"/></iq>`, id)
	if res.Type() != "error" {
		c.t.Fatalf("the occupant ping must be refused: %s", res.Raw)
	}
}

// post sends a message to group (mentioning the bare JIDs given) and
// waits for its reflection; it returns the sender's occupant JID.
func (c *client) post(group, id, body string, mentions ...string) string {
	c.t.Helper()
	var extra strings.Builder
	for _, m := range mentions {
		fmt.Fprintf(&extra, `<x xmlns="jabber:x:data" type="at" id="%s"/>`, m)
	}
	c.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>` + body + `</body>` + extra.String() + `</message>`)
	m := c.expect("the reflection of "+id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id })
	return m.From()
}

func wantNotification(t *testing.T, what string, got notification, count, sender, body string) {
	t.Helper()
	if got.count != count || got.sender != sender || got.body != body || got.hasBody != (body != "") {
		t.Fatalf("%s: got count %q, sender %q, body %q (present %v); want count %q, sender %q, body %q",
			what, got.count, got.sender, got.body, got.hasBody, count, sender, body)
	}
}

func TestPushCoalescesABurstForAnOfflineMember(t *testing.T) {
	h := pushHarness(t)
	a := loginApp(t, h)
	a.createNode("alice-phone")
	alice := h.login(t, "alice", "phone")
	alice.enablePush("alice-phone", false)
	alice.goOffline()

	bob := h.login(t, "bob", "pda")
	group := groupID("push-burst")
	createGroup(bob, group, "Burst "+group, "alice")
	// Three messages at once: one notification carries them all.
	bob.send(`<message type="groupchat" id="b1" to="` + gjid(group) + `"><body>one</body></message>` +
		`<message type="groupchat" id="b2" to="` + gjid(group) + `"><body>two</body></message>` +
		`<message type="groupchat" id="b3" to="` + gjid(group) + `"><body>three</body></message>`)
	var sender string
	for _, id := range []string{"b1", "b2", "b3"} {
		sender = bob.expect("the reflection of "+id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id }).From()
	}
	wantNotification(t, "the burst", a.nextPublish("alice-phone"), "3", sender, "")
	// The next message is a notification of its own, counting one.
	bob.post(group, "b4", "four")
	wantNotification(t, "the message after the burst", a.nextPublish("alice-phone"), "1", sender, "")
}

func TestPushFollowsTheNotificationLevel(t *testing.T) {
	h := pushHarness(t)
	a := loginApp(t, h)
	a.createNode("carol-phone")
	carol := h.login(t, "carol", "phone")
	carol.enablePush("carol-phone", true)
	bob := h.login(t, "bob", "pda")
	dave := h.login(t, "dave", "pda")
	group := groupID("push-level")
	createGroup(bob, group, "Levels "+group, "carol")

	for to, feature := range map[string]string{service: nsPush, gjid(group): nsGCPush} {
		id := fmt.Sprintf("pdisco-%d", pingSeq.Add(1))
		info := carol.iq(`<iq type="get" id="`+id+`" to="`+to+`"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`, id)
		found := false
		for _, f := range info.FindAll("query/feature") {
			found = found || f.Attr("var") == feature
		}
		if !found {
			t.Errorf("disco#info on %s does not announce %s: %s", to, feature, info.Raw)
		}
	}
	if res := carol.notifyLevel(group, ""); res.Type() != "result" || res.Child(nsGCPush, "notify").Attr("level") != "all" {
		t.Fatalf("the level is all unless chosen: %s", res.Raw)
	}
	wantError(t, dave.notifyLevel(group, "none"), "auth", "forbidden", "not-allowed")
	wantError(t, carol.notifyLevel(group, "loud"), "modify", "bad-request", "")
	wantError(t, carol.notifyLevel(groupID("push-nogroup"), "none"), "cancel", "item-not-found", "not-exists")

	if res := carol.notifyLevel(group, "none"); res.Type() != "result" {
		t.Fatalf("level none: %s", res.Raw)
	}
	carol.goOffline()
	bob.post(group, "l1", "muted")

	if res := carol.notifyLevel(group, "mentions"); res.Type() != "result" {
		t.Fatalf("level mentions: %s", res.Raw)
	}
	carol.goOffline()
	bob.post(group, "l2", "not for carol")
	sender := bob.post(group, "l3", "carol, look", carol.bare())
	// Had either earlier message notified, it would be first here.
	wantNotification(t, "the mention under mentions-only", a.nextPublish("carol-phone"), "1", sender, "carol, look")

	if res := carol.notifyLevel(group, ""); res.Type() != "result" || res.Child(nsGCPush, "notify").Attr("level") != "mentions" {
		t.Fatalf("the level must read back as mentions: %s", res.Raw)
	}
}

func TestPushNothingWhileOnline(t *testing.T) {
	h := pushHarness(t)
	a := loginApp(t, h)
	a.createNode("dave-phone")
	dave := h.login(t, "dave", "phone")
	dave.enablePush("dave-phone", true)
	bob := h.login(t, "bob", "pda")
	group := groupID("push-online")
	createGroup(bob, group, "Online "+group, "dave")

	bob.post(group, "o1", "seen live")
	dave.expect("the live message", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "o1" })
	dave.post(group, "o2", "my own")
	dave.goOffline()
	sender := bob.post(group, "o3", "now you sleep")
	wantNotification(t, "the first message while offline", a.nextPublish("dave-phone"), "1", sender, "now you sleep")
}

func TestPushDisableStopsNotifications(t *testing.T) {
	h := pushHarness(t)
	a := loginApp(t, h)
	a.createNode("eve-phone")
	a.createNode("eve-tablet")
	eve := h.login(t, "eve", "phone")
	eve.enablePush("eve-phone", true)
	eve.enablePush("eve-tablet", true)
	eve.goOffline()
	bob := h.login(t, "bob", "pda")
	group := groupID("push-disable")
	createGroup(bob, group, "Disable "+group, "eve")

	sender := bob.post(group, "d1", "one")
	wantNotification(t, "the phone", a.nextPublish("eve-phone"), "1", sender, "one")
	wantNotification(t, "the tablet", a.nextPublish("eve-tablet"), "1", sender, "one")

	eve.disablePush("eve-phone")
	eve.goOffline()
	bob.post(group, "d2", "two")
	wantNotification(t, "the tablet after disabling the phone", a.nextPublish("eve-tablet"), "1", sender, "two")

	// Disabling the app server without a node removes every node of it.
	eve.disablePush("")
	eve.enablePush("eve-phone", true)
	eve.goOffline()
	bob.post(group, "d3", "three")
	wantNotification(t, "the phone again (not two)", a.nextPublish("eve-phone"), "1", sender, "three")

	eve.enablePush("eve-tablet", true)
	eve.goOffline()
	bob.post(group, "d4", "four")
	wantNotification(t, "the phone", a.nextPublish("eve-phone"), "1", sender, "four")
	wantNotification(t, "the tablet again (not three)", a.nextPublish("eve-tablet"), "1", sender, "four")
}

func TestPushRegistrationSurvivesRestart(t *testing.T) {
	h := pushHarness(t)
	a := loginApp(t, h)
	a.createNode("mallory-phone")
	mallory := h.login(t, "mallory", "phone")
	mallory.enablePush("mallory-phone", true)
	mallory.goOffline()
	bob := h.login(t, "bob", "pda")
	group := groupID("push-restart")
	createGroup(bob, group, "Restart "+group, "mallory")

	h.restartComponent(t, syscall.SIGTERM)
	sender := bob.post(group, "r1", "after the restart")
	wantNotification(t, "after a restart", a.nextPublish("mallory-phone"), "1", sender, "after the restart")
}

func TestPushFailingAppServerGetsDisabled(t *testing.T) {
	h := pushHarness(t)
	a := loginApp(t, h)
	a.createNode("frank-good")
	frank := h.login(t, "frank", "phone")
	frank.enablePush("frank-good", true)
	// No such node: the app server answers every publish with an error.
	frank.enablePush("frank-missing", true)
	frank.goOffline()
	bob := h.login(t, "bob", "pda")
	group := groupID("push-failing")
	createGroup(bob, group, "Failing "+group, "frank")

	// Each notification goes to both nodes; the good one tells when it went.
	sender := bob.post(group, "f1", "first")
	wantNotification(t, "the good node", a.nextPublish("frank-good"), "1", sender, "first")
	bob.post(group, "f2", "second")
	wantNotification(t, "the good node", a.nextPublish("frank-good"), "1", sender, "second")
	waitFor(t, "the failing registration to be disabled", func() bool {
		for _, line := range strings.Split(h.comp.log(), "\n") {
			if strings.Contains(line, "push target disabled after repeated failures") && strings.Contains(line, "node=frank-missing") {
				return true
			}
		}
		return false
	})

	// The node exists now, but it was disabled: the next message does not
	// go there, and the first one there is the one after re-enabling it.
	a.createNode("frank-missing")
	bob.post(group, "f3", "third")
	wantNotification(t, "the good node", a.nextPublish("frank-good"), "1", sender, "third")
	frank.enablePush("frank-missing", true)
	frank.goOffline()
	bob.post(group, "f4", "fourth")
	wantNotification(t, "the re-enabled node (not third)", a.nextPublish("frank-missing"), "1", sender, "fourth")
}
