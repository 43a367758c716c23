package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	nsAddress = "http://jabber.org/protocol/address"
	// multicastLimit is the addresses per stanza the server's multicast
	// service takes from the component (ejabberd's mod_multicast limits:
	// remote; the project's Prosody module's
	// groupchat_multicast_max_addresses), stated in its disco#info.
	multicastLimit = 4
	// multicastService is where ejabberd's mod_multicast answers by
	// default, "multicast." and the host, and where the harness puts
	// Prosody's.
	multicastService = "multicast." + xmppDomain
)

var multicastSent = regexp.MustCompile(`broadcast through the multicast service.*?group"?[=:]"?([^" ]+)"?.*?addresses"?[=:]"?([0-9]+)`)

// multicastStanzas is what the component logged of the stanzas it sent
// through the multicast service for group: how many, and how many
// addresses they carried.
func multicastStanzas(h *harness, group string) (stanzas, addresses int) {
	for _, m := range multicastSent.FindAllStringSubmatch(h.comp.log(), -1) {
		if m[1] != group {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		stanzas++
		addresses += n
	}
	return stanzas, addresses
}

// TestMulticastBroadcast: a group message reaches every resource of every
// member exactly once, as it would one stanza per recipient: from the
// sender's occupant JID, with its body and the group's stanza-id, and
// without XEP-0033 addresses (§4.6.3: bcc addresses are removed before
// delivery; recipients must not learn of each other). Both servers offer
// a multicast service (ejabberd's mod_multicast, the project's module in
// Prosody), so the component sends the 7 deliveries as ceil(7/4) = 2
// stanzas, and the group's creation presence the same way.
func TestMulticastBroadcast(t *testing.T) {
	broadcastOnce(t, shared, true)
}

// TestBroadcastWithoutAMulticastService: behind a server without one (no
// module in Prosody, no mod_multicast in ejabberd) the service works
// unchanged, one stanza per recipient.
func TestBroadcastWithoutAMulticastService(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own server and component")
	}
	h, err := newHarnessWith(t.TempDir(), serverOptions{NoMulticast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.close)
	h.watch(t)
	broadcastOnce(t, h, false)
}

func broadcastOnce(t *testing.T, h *harness, withService bool) {
	logins := []struct{ user, resource string }{
		{"alice", "mc1"}, {"alice", "mc2"},
		{"bob", "mc1"}, {"bob", "mc2"},
		{"carol", "mc1"}, {"carol", "mc2"}, {"carol", "mc3"},
	}
	var clients []*client
	for _, l := range logins {
		clients = append(clients, h.login(t, l.user, l.resource))
	}
	if withService {
		waitFor(t, "the component to find the multicast service", func() bool {
			return strings.Contains(h.comp.log(), "multicast service found")
		})
		found := regexp.MustCompile(`multicast service found.*?service"?[=:]"?([^" ]+)"?.*?max_addresses"?[=:]"?([0-9]+)`).FindStringSubmatch(h.comp.log())
		if found == nil || found[1] != multicastService || found[2] != strconv.Itoa(multicastLimit) {
			t.Fatalf("the component found %q, want %s with the limit its disco#info states, %d", found, multicastService, multicastLimit)
		}
	} else {
		waitFor(t, "the component to find no multicast service", func() bool {
			return strings.Contains(h.comp.log(), "no multicast service")
		})
	}

	group := groupID("multicast")
	createGroup(clients[0], group, "Multicast "+group, "bob", "carol")
	for _, c := range clients {
		c.drain()
	}
	// The creation's presence went the way the message will: through
	// the service when there is one.
	created, createdAddresses := multicastStanzas(h, group)
	if withService != (created > 0) {
		t.Errorf("the creation's presence took %d stanzas through a multicast service; is there one: %v", created, withService)
	}
	clients[0].send(`<message type="groupchat" id="mc-hello" to="` + gjid(group) + `"><body>one for all</body></message>`)

	isIt := func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "mc-hello" }
	var sid string
	for _, c := range clients {
		m := c.expect("the group message", isIt)
		if m.From() != gjid(group)+"/alice" || m.Type() != "groupchat" || m.ChildText("", "body") != "one for all" {
			t.Errorf("%s got %s, want a groupchat message from %s/alice with the body", c.full(), m.Raw, gjid(group))
		}
		if a := m.Child(nsAddress, "addresses"); a != nil {
			t.Errorf("%s got the addresses of the multicast: %s", c.full(), m.Raw)
		}
		if strings.Contains(m.Raw, nsAddress) {
			t.Errorf("%s got XEP-0033 addressing: %s", c.full(), m.Raw)
		}
		s := m.Child(nsSID, "stanza-id")
		if s == nil || s.Attr("by") != gjid(group) || s.Attr("id") == "" {
			t.Fatalf("%s: no stanza-id by the group in %s", c.full(), m.Raw)
		}
		if sid == "" {
			sid = s.Attr("id")
		} else if s.Attr("id") != sid {
			t.Errorf("%s got stanza-id %s, another resource %s", c.full(), s.Attr("id"), sid)
		}
	}
	// Exactly once: a second copy would have arrived by now or come
	// behind this one, and nothing else of it is pending.
	for _, c := range clients {
		c.expectNone("a second copy", isIt)
	}

	deliveries := len(clients)
	stanzas, addresses := multicastStanzas(h, group)
	stanzas -= created
	addresses -= createdAddresses
	if withService {
		want := (deliveries + multicastLimit - 1) / multicastLimit
		if stanzas != want || addresses != deliveries {
			t.Errorf("the component sent %d stanzas with %d addresses through the multicast service, want %d with %d", stanzas, addresses, want, deliveries)
		}
		if stanzas >= deliveries {
			t.Errorf("%d stanzas for %d deliveries: no saving", stanzas, deliveries)
		}
	} else if stanzas != 0 {
		t.Errorf("without a multicast service the component sent %d stanzas through one", stanzas)
	}
	t.Logf("%s: %d deliveries, %d stanzas through a multicast service", kind, deliveries, stanzas)
}
