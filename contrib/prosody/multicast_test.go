package prosodymodules_test

import (
	"context"
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp"

	"github.com/uuchat/groupchat/internal/testenv/prosody"
	"github.com/uuchat/groupchat/internal/testenv/servertest"
	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	domain     = servertest.Domain
	compDomain = servertest.CompDomain
	compSecret = servertest.CompSecret
	// otherComp is a component the module does not trust.
	otherComp   = "other." + domain
	otherSecret = "other-secret"
	limit       = 3
	nsAddress   = "http://jabber.org/protocol/address"
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
	nsStanzas   = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

var (
	service  = prosody.MulticastDomain(domain)
	launcher = servertest.Launcher{Name: "prosody", Installed: prosody.Installed, Timeout: 20 * time.Second}
)

// fixture is a Prosody with the module, the trusted component and an
// untrusted one, and three users online.
type fixture struct {
	ctx                 context.Context
	comp, other         *xmpp.Session
	compGot, otherGot   <-chan *xmppclient.Stanza
	alice, bob, carol   *xmppclient.Client
	alice2              *xmppclient.Client
	users               []*xmppclient.Client
	srv                 *prosody.Server
	compDied, otherDied <-chan error
}

func start(t *testing.T) *fixture {
	t.Helper()
	launcher.Require(t)
	srv := servertest.Started(t, launcher, func(ctx context.Context) (*prosody.Server, error) {
		return prosody.Start(ctx, prosody.Options{
			Dir: t.TempDir(), Domain: domain,
			Components: map[string]string{compDomain: compSecret, otherComp: otherSecret},
			Multicast:  true, MulticastSenders: []string{compDomain}, MulticastLimit: limit,
		})
	})
	ctx := launcher.Context(t)
	f := &fixture{ctx: ctx, srv: srv}
	if err := srv.RegisterMany(map[string]string{"alice": "pw", "bob": "pw", "carol": "pw"}); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.comp, f.compGot, f.compDied, err = servertest.ComponentSession(t, ctx, srv, compDomain, compSecret); err != nil {
		t.Fatal(err)
	}
	if f.other, f.otherGot, f.otherDied, err = servertest.ComponentSession(t, ctx, srv, otherComp, otherSecret); err != nil {
		t.Fatal(err)
	}
	dial := func(addr string) *xmppclient.Client {
		return servertest.Dial(t, ctx, srv, addr, "pw", xmppclient.Options{})
	}
	f.alice, f.alice2, f.bob, f.carol = dial("alice@"+domain+"/a"), dial("alice@"+domain+"/b"), dial("bob@"+domain+"/b"), dial("carol@"+domain+"/c")
	f.users = []*xmppclient.Client{f.alice, f.alice2, f.bob, f.carol}
	return f
}

// send writes raw XML on a component session.
func send(t *testing.T, ctx context.Context, s *xmpp.Session, raw string) {
	t.Helper()
	if err := s.Send(ctx, xml.NewDecoder(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
}

// next is the next stanza a component received.
func next(t *testing.T, ctx context.Context, got <-chan *xmppclient.Stanza, what string) *xmppclient.Stanza {
	t.Helper()
	select {
	case s := <-got:
		return s
	case <-ctx.Done():
		t.Fatalf("the component did not receive %s", what)
		return nil
	}
}

// expectNothing checks that c got no stanza with id, after a ping round
// trip through the server that would have come behind it.
func expectNothing(t *testing.T, ctx context.Context, c *xmppclient.Client, id string) {
	t.Helper()
	ping := "ping-" + id + "-" + strings.ReplaceAll(c.JID().String(), "/", "-")
	if err := c.SendRaw(ctx, `<iq type="get" id="`+ping+`" to="`+domain+`"><ping xmlns="urn:xmpp:ping"/></iq>`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expect(ctx, servertest.ByID(ping)); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Pending() {
		if s.ID() == id {
			t.Errorf("%s got %s", c.JID(), s.Raw)
		}
	}
}

// withAttrs returns the first element at path (xmppclient.Stanza.Find's
// syntax) whose attributes have the given values, name then value.
func withAttrs(s *xmppclient.Stanza, path string, attrs ...string) *xmppclient.Stanza {
	for _, e := range s.FindAll(path) {
		ok := true
		for i := 0; i+1 < len(attrs); i += 2 {
			ok = ok && e.Attr(attrs[i]) == attrs[i+1]
		}
		if ok {
			return e
		}
	}
	return nil
}

func address(kind, jid string) string {
	return `<address type="` + kind + `" jid="` + jid + `"/>`
}

func multicast(from, id string, addresses ...string) string {
	return `<message from="` + from + `" to="` + service + `" id="` + id + `" type="groupchat">` +
		`<body>to many</body><addresses xmlns="` + nsAddress + `">` + strings.Join(addresses, "") + `</addresses></message>`
}

// TestServiceIsDiscoverable: XEP-0033 §2: the service is an item of the
// server and states the feature and its limit the way ejabberd does
// (FORM_TYPE http://jabber.org/protocol/address, field "message").
func TestServiceIsDiscoverable(t *testing.T) {
	f := start(t)
	send(t, f.ctx, f.comp, `<iq type="get" id="items" from="`+compDomain+`" to="`+domain+`"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`)
	items := next(t, f.ctx, f.compGot, "the server's items")
	if withAttrs(items, "query/item", "jid", service) == nil {
		t.Fatalf("the server's disco#items do not list %s: %s", service, items.Raw)
	}
	send(t, f.ctx, f.comp, `<iq type="get" id="info" from="`+compDomain+`" to="`+service+`"><query xmlns="`+nsDiscoInfo+`"/></iq>`)
	info := next(t, f.ctx, f.compGot, "the service's disco#info")
	if info.Type() != "result" || withAttrs(info, "query/feature", "var", nsAddress) == nil ||
		withAttrs(info, "query/identity", "category", "service", "type", "multicast") == nil {
		t.Fatalf("disco#info of the service: %s", info.Raw)
	}
	var limit string
	for _, x := range info.FindAll("query/{jabber:x:data}x") {
		if withAttrs(x, "field", "var", "FORM_TYPE").ChildText("", "value") == nsAddress {
			limit = withAttrs(x, "field", "var", "message").ChildText("", "value")
		}
	}
	if limit != "3" {
		t.Fatalf("the service does not state its limit of 3 addresses per message: %s", info.Raw)
	}
}

// TestDeliversEachAddress: XEP-0033 §4.6: every to, cc and bcc address
// gets its own copy from the original sender; bcc addresses are removed,
// to and cc are kept and marked delivered; an address already delivered
// is skipped.
func TestDeliversEachAddress(t *testing.T) {
	f := start(t)
	from := "room@" + compDomain + "/alice"
	t.Run("bcc only", func(t *testing.T) {
		send(t, f.ctx, f.comp, multicast(from, "m1",
			address("bcc", "alice@"+domain+"/a"), address("bcc", "alice@"+domain+"/b"), address("bcc", "bob@"+domain+"/b")))
		for _, c := range f.users[:3] {
			m, err := c.Expect(f.ctx, servertest.ByID("m1"))
			if err != nil {
				t.Fatal(err)
			}
			if m.From() != from || m.To() != c.JID().String() || m.ChildText("", "body") != "to many" || m.Type() != "groupchat" {
				t.Errorf("%s got %s", c.JID(), m.Raw)
			}
			if strings.Contains(m.Raw, nsAddress) {
				t.Errorf("%s learned the other recipients: %s", c.JID(), m.Raw)
			}
		}
		expectNothing(t, f.ctx, f.carol, "m1")
	})
	t.Run("to, cc and bcc", func(t *testing.T) {
		send(t, f.ctx, f.comp, multicast(from, "m2",
			address("to", "bob@"+domain+"/b"), address("cc", "carol@"+domain+"/c"), address("bcc", "alice@"+domain+"/a"),
			`<address type="to" jid="alice@`+domain+`/b" delivered="true"/>`))
		for _, c := range []*xmppclient.Client{f.bob, f.carol, f.alice} {
			m, err := c.Expect(f.ctx, servertest.ByID("m2"))
			if err != nil {
				t.Fatal(err)
			}
			a := m.Child(nsAddress, "addresses")
			if a == nil {
				t.Fatalf("%s got no addresses: %s", c.JID(), m.Raw)
			}
			got := map[string]string{}
			for _, x := range a.ChildrenNamed(nsAddress, "address") {
				got[x.Attr("type")+" "+x.Attr("jid")] = x.Attr("delivered")
			}
			want := map[string]string{
				"to bob@" + domain + "/b":   "true",
				"cc carol@" + domain + "/c": "true",
				"to alice@" + domain + "/b": "true",
			}
			if len(got) != len(want) {
				t.Errorf("%s got addresses %v, want %v (no bcc)", c.JID(), got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: address %q delivered=%q, want %q", c.JID(), k, got[k], v)
				}
			}
		}
		expectNothing(t, f.ctx, f.alice2, "m2")
	})
}

// TestRefusesWhatItMustNot: a client, a component not listed, more
// addresses than the limit or a malformed address: the whole stanza is
// refused with the XEP-0033 §4.4-style error and nobody gets it, so a
// sender that falls back to one stanza per recipient delivers once.
func TestRefusesWhatItMustNot(t *testing.T) {
	f := start(t)
	bcc := func(users ...string) []string {
		var out []string
		for _, u := range users {
			out = append(out, address("bcc", u+"@"+domain+"/b"))
		}
		return out
	}
	cases := []struct {
		name, id, condition string
		sendAs              func(t *testing.T, raw string)
		reply               func(t *testing.T) *xmppclient.Stanza
		from                string
		addresses           []string
	}{
		{name: "from a client", id: "r1", condition: "forbidden", from: "",
			sendAs: func(t *testing.T, raw string) {
				if err := f.alice.SendRaw(f.ctx, raw); err != nil {
					t.Fatal(err)
				}
			},
			reply: func(t *testing.T) *xmppclient.Stanza {
				s, err := f.alice.Expect(f.ctx, servertest.ByID("r1"))
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			addresses: bcc("bob")},
		{name: "from a component not listed", id: "r2", condition: "forbidden", from: "x@" + otherComp,
			sendAs:    func(t *testing.T, raw string) { send(t, f.ctx, f.other, raw) },
			reply:     func(t *testing.T) *xmppclient.Stanza { return next(t, f.ctx, f.otherGot, "the error") },
			addresses: bcc("bob")},
		{name: "over the limit", id: "r3", condition: "policy-violation", from: "room@" + compDomain,
			sendAs:    func(t *testing.T, raw string) { send(t, f.ctx, f.comp, raw) },
			reply:     func(t *testing.T) *xmppclient.Stanza { return next(t, f.ctx, f.compGot, "the error") },
			addresses: append(bcc("bob", "bob", "bob"), address("bcc", "carol@"+domain+"/c"))},
		{name: "a malformed address", id: "r4", condition: "jid-malformed", from: "room@" + compDomain,
			sendAs:    func(t *testing.T, raw string) { send(t, f.ctx, f.comp, raw) },
			reply:     func(t *testing.T) *xmppclient.Stanza { return next(t, f.ctx, f.compGot, "the error") },
			addresses: append(bcc("bob"), address("bcc", "a b@"+domain))},
		{name: "no address to deliver to", id: "r5", condition: "bad-request", from: "room@" + compDomain,
			sendAs:    func(t *testing.T, raw string) { send(t, f.ctx, f.comp, raw) },
			reply:     func(t *testing.T) *xmppclient.Stanza { return next(t, f.ctx, f.compGot, "the error") },
			addresses: []string{`<address type="replyto" jid="room@` + compDomain + `"/>`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := multicast(tc.from, tc.id, tc.addresses...)
			if tc.from == "" {
				raw = strings.Replace(raw, ` from=""`, "", 1)
			}
			tc.sendAs(t, raw)
			e := tc.reply(t)
			if e.ID() != tc.id || e.Type() != "error" || e.Find("error/{"+nsStanzas+"}"+tc.condition) == nil {
				t.Fatalf("got %s, want a %s error", e.Raw, tc.condition)
			}
			expectNothing(t, f.ctx, f.bob, tc.id)
			expectNothing(t, f.ctx, f.carol, tc.id)
		})
	}
	// Refusals never cost a component its link.
	for name, died := range map[string]<-chan error{compDomain: f.compDied, otherComp: f.otherDied} {
		select {
		case err := <-died:
			t.Errorf("%s lost its link: %v", name, err)
		default:
		}
	}
}

// TestBouncesGoBackToTheSender: a copy that cannot be delivered is
// bounced to the original sender from that address, as it would be had the
// sender addressed it directly (RFC 6121 §8.5): a user that does not
// exist, whatever the type; a resource that is not online, for a
// groupchat message (a chat message goes to the user's other resources).
func TestBouncesGoBackToTheSender(t *testing.T) {
	f := start(t)
	for _, tc := range []struct {
		kind    string
		bounced []string
	}{
		{"chat", []string{"nobody@" + domain + "/gone"}},
		{"groupchat", []string{"carol@" + domain + "/gone", "nobody@" + domain + "/gone"}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			id := "b-" + tc.kind
			send(t, f.ctx, f.comp, `<message from="room@`+compDomain+`/alice" to="`+service+`" id="`+id+`" type="`+tc.kind+`"><body>x</body>`+
				`<addresses xmlns="`+nsAddress+`">`+address("bcc", "bob@"+domain+"/b")+address("bcc", "nobody@"+domain+"/gone")+
				address("bcc", "carol@"+domain+"/gone")+`</addresses></message>`)
			if _, err := f.bob.Expect(f.ctx, servertest.ByID(id)); err != nil {
				t.Fatal(err)
			}
			var got []string
			for range tc.bounced {
				e := next(t, f.ctx, f.compGot, "a bounce")
				if e.ID() != id || e.Type() != "error" || e.To() != "room@"+compDomain+"/alice" {
					t.Fatalf("got %s, want an error to the sender", e.Raw)
				}
				got = append(got, e.From())
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.bounced) {
				t.Errorf("bounces from %v, want %v", got, tc.bounced)
			}
		})
	}
}

// TestBlockingStillApplies: a user who blocked the sender (XEP-0191) gets
// none of its copies, messages or presences; the others still do.
func TestBlockingStillApplies(t *testing.T) {
	f := start(t)
	if err := f.bob.SendRaw(f.ctx, `<iq type="set" id="block1"><block xmlns="urn:xmpp:blocking"><item jid="`+compDomain+`"/></block></iq>`); err != nil {
		t.Fatal(err)
	}
	if r, err := f.bob.Expect(f.ctx, servertest.ByID("block1")); err != nil || r.Type() != "result" {
		t.Fatalf("blocking: %v %v", r, err)
	}
	to := []string{address("bcc", "bob@"+domain+"/b"), address("bcc", "carol@"+domain+"/c")}
	send(t, f.ctx, f.comp, multicast("room@"+compDomain+"/alice", "bl1", to...))
	send(t, f.ctx, f.comp, `<presence from="room@`+compDomain+`" to="`+service+`" id="bl2"><addresses xmlns="`+nsAddress+`">`+strings.Join(to, "")+`</addresses></presence>`)
	for _, id := range []string{"bl1", "bl2"} {
		if _, err := f.carol.Expect(f.ctx, servertest.ByID(id)); err != nil {
			t.Fatalf("carol, who blocked nobody: %v", err)
		}
		expectNothing(t, f.ctx, f.bob, id)
	}
}
