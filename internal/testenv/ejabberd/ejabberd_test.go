package ejabberd_test

import (
	"context"
	"encoding/xml"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/ejabberd"
	"github.com/uuchat/groupchat/internal/testenv/servertest"
	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

const (
	domain     = servertest.Domain
	compDomain = servertest.CompDomain
	compSecret = servertest.CompSecret

	pubsubDomain = "push.example.test"
	mucDomain    = "conference.example.test"
	nsPubSub     = "http://jabber.org/protocol/pubsub"
)

var launcher = servertest.Launcher{
	Name:      "ejabberd",
	Installed: ejabberd.Installed,
	Timeout:   time.Minute,
	Start: func(ctx context.Context, o servertest.Options) (servertest.Server, error) {
		return ejabberd.Start(ctx, ejabberd.Options{Dir: o.Dir, Domain: o.Domain, Components: o.Components})
	},
}

func TestLauncher(t *testing.T) {
	t.Parallel()
	servertest.Run(t, launcher)
}

func start(t *testing.T, o ejabberd.Options) *ejabberd.Server {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Domain == "" {
		o.Domain = domain
	}
	return servertest.Started(t, launcher, func(ctx context.Context) (*ejabberd.Server, error) { return ejabberd.Start(ctx, o) })
}

// TestCtlRegisterAndRestart: ejabberdctl sees the registered accounts, before
// and after a restart, which keeps the node name; RegisterMany names the
// localparts ejabberd refused.
func TestCtlRegisterAndRestart(t *testing.T) {
	t.Parallel()
	srv := start(t, ejabberd.Options{})
	ctx := launcher.Context(t)
	for _, u := range []string{"alice", "bob"} {
		if err := srv.Register(ctx, u, u+" pw"); err != nil {
			t.Fatal(err)
		}
	}
	registered := func() {
		t.Helper()
		out, err := srv.Ctl(ctx, "registered_users", domain)
		if err != nil || strings.Fields(out) == nil || !strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
			t.Errorf("registered_users = %q, %v", out, err)
		}
	}
	registered()
	err := srv.RegisterMany(ctx, map[string]string{"fine": "x", "not@valid": "x"})
	if err == nil || !strings.Contains(err.Error(), "not@valid") || !strings.Contains(err.Error(), "invalid_jid") {
		t.Errorf("an invalid localpart must be named in the error, got %v", err)
	}
	node := srv.Node()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.Node() != node {
		t.Errorf("a restart keeps the node: %s, was %s", srv.Node(), node)
	}
	// The accounts are in the Mnesia spool and survive the restart.
	registered()
}

// TestMaxStanzaSizeClosesTheStream: ejabberd answers a stanza over
// max_stanza_size by closing the client's stream, not with a stanza error
// (the README's advice on --max-stanza-bytes rests on this).
func TestMaxStanzaSizeClosesTheStream(t *testing.T) {
	t.Parallel()
	srv := start(t, ejabberd.Options{MaxStanzaSize: 4096})
	ctx := launcher.Context(t)
	if err := srv.Register(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	alice := servertest.Dial(t, ctx, srv, "alice@example.test/a", "pw", xmppclient.Options{})
	if err := alice.SendRaw(ctx, `<message to='alice@example.test/a' id='small'><body>`+strings.Repeat("x", 3000)+`</body></message>`); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Expect(ctx, servertest.ByID("small")); err != nil {
		t.Fatalf("a stanza under the limit: %v", err)
	}
	if err := alice.SendRaw(ctx, `<message to='alice@example.test/a' id='big'><body>`+strings.Repeat("x", 5000)+`</body></message>`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-alice.Done():
		if err := alice.Err(); err == nil || !strings.Contains(err.Error(), "policy-violation") {
			t.Errorf("the stream ended with %v, want a policy-violation stream error", err)
		}
	case <-ctx.Done():
		t.Fatal("the stream stayed open after a stanza over max_stanza_size")
	}
}

func TestDiscoItemsListsComponents(t *testing.T) {
	t.Parallel()
	srv := start(t, ejabberd.Options{
		Components: map[string]string{compDomain: compSecret, "elsewhere.test": "x"},
	})
	ctx := launcher.Context(t)
	if err := srv.Register(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	// A component is listed once its link is up (ejabberd lists routes).
	for _, c := range []struct{ domain, secret string }{{compDomain, compSecret}, {"elsewhere.test", "x"}} {
		if _, _, _, err := servertest.ComponentSession(t, ctx, srv, c.domain, c.secret); err != nil {
			t.Fatalf("%s: %v", c.domain, err)
		}
	}
	alice := servertest.Dial(t, ctx, srv, "alice@example.test", "pw", xmppclient.Options{})
	if err := alice.SendRaw(ctx, `<iq type='get' id='items1' to='example.test'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`); err != nil {
		t.Fatal(err)
	}
	res, err := alice.Expect(ctx, servertest.ByID("items1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Type() != "result" {
		t.Fatalf("disco#items: %s", res.Raw)
	}
	seen := map[string]int{}
	for _, it := range res.FindAll("{http://jabber.org/protocol/disco#items}query/item") {
		seen[it.Attr("jid")]++
	}
	for _, want := range []string{compDomain, "elsewhere.test"} {
		if seen[want] != 1 {
			t.Errorf("%s listed %d times in %s", want, seen[want], res.Raw)
		}
	}
}

// TestStopLeavesNothingBehind runs two instances at once and checks that
// each has its own node, and that Stop leaves no process of the instance
// (the VM, erl_child_setup, port programs) and starts no epmd. That Stop
// ends this instance only is in the shared suite.
func TestStopLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	epmdBefore := pids("epmd")
	a := start(t, ejabberd.Options{Components: map[string]string{compDomain: compSecret}})
	b := start(t, ejabberd.Options{})
	if a.Node() == b.Node() {
		t.Fatalf("two instances share the node name %s", a.Node())
	}
	ctx := launcher.Context(t)
	for _, s := range []*ejabberd.Server{a, b} {
		out, err := s.Ctl(ctx, "status")
		if err != nil || !strings.Contains(out, s.Node()) {
			t.Errorf("status of %s: %q %v", s.Node(), out, err)
		}
	}
	fam := family(a.PID())
	if len(fam) < 2 {
		t.Errorf("expected the VM and its helpers, got %v", fam)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range fam {
		pid, _ := strconv.Atoi(strings.Fields(p)[0])
		if servertest.Alive(pid) {
			t.Errorf("process %s outlived Stop", p)
		}
	}
	if _, err := a.Ctl(ctx, "status"); err == nil {
		t.Error("Ctl on a stopped node succeeded")
	}
	if got := pids("epmd"); len(got) > len(epmdBefore) {
		t.Errorf("an epmd was started: %v (before: %v)", got, epmdBefore)
	}
}

// family returns pid and its live descendants, as "pid name".
func family(pid int) []string {
	type proc struct {
		ppid int
		name string
	}
	procs := map[int]proc{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		// After "pid (comm) ": state ppid ...
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		procs[p] = proc{ppid, s[strings.IndexByte(s, '(')+1 : i]}
	}
	var out []string
	for p, pr := range procs {
		for q := p; q > 1; q = procs[q].ppid {
			if q == pid {
				out = append(out, strconv.Itoa(p)+" "+pr.name)
				break
			}
			if _, ok := procs[q]; !ok {
				break
			}
		}
	}
	return out
}

// pids lists the processes named name.
func pids(name string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if b, err := os.ReadFile("/proc/" + e.Name() + "/comm"); err == nil && strings.TrimSpace(string(b)) == name {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestStartRefusesBadOptions(t *testing.T) {
	cases := []struct {
		name string
		o    ejabberd.Options
		want string
	}{
		{"no dir", ejabberd.Options{Domain: domain}, "Dir"},
		{"no domain", ejabberd.Options{Dir: t.TempDir()}, "Domain"},
		{"bad level", ejabberd.Options{Dir: t.TempDir(), Domain: domain, LogLevel: "loud"}, "log level"},
		{"component is the host", ejabberd.Options{Dir: t.TempDir(), Domain: domain, Components: map[string]string{domain: "x"}}, "component domain"},
		{"negative stanza size", ejabberd.Options{Dir: t.TempDir(), Domain: domain, MaxStanzaSize: -1}, "MaxStanzaSize"},
		{"pubsub is the host", ejabberd.Options{Dir: t.TempDir(), Domain: domain, PubSub: domain}, "PubSub domain"},
		{"pubsub is a component", ejabberd.Options{Dir: t.TempDir(), Domain: domain, PubSub: compDomain,
			Components: map[string]string{compDomain: "x"}}, "PubSub domain"},
		{"muc is the host", ejabberd.Options{Dir: t.TempDir(), Domain: domain, MUC: domain}, "MUC domain"},
		{"muc is a component", ejabberd.Options{Dir: t.TempDir(), Domain: domain, MUC: compDomain,
			Components: map[string]string{compDomain: "x"}}, "MUC domain"},
		{"muc archive without muc", ejabberd.Options{Dir: t.TempDir(), Domain: domain, MUCMAM: true}, "MUCMAM"},
		{"pubsub admin with a resource", ejabberd.Options{Dir: t.TempDir(), Domain: domain, PubSub: pubsubDomain,
			PubSubAdmins: []string{"app@example.test/phone"}}, "bare JID"},
		{"pubsub admin without a localpart", ejabberd.Options{Dir: t.TempDir(), Domain: domain, PubSub: pubsubDomain,
			PubSubAdmins: []string{"example.test"}}, "bare JID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ejabberd.Start(context.Background(), c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error naming %q", err, c.want)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	cases := []struct {
		name      string
		o         ejabberd.Options
		want, not []string
	}{
		{
			name: "subdomain component is listed by ejabberd itself",
			o: ejabberd.Options{Dir: "/d", Domain: domain, C2SPort: 1, ComponentPort: 2,
				Components: map[string]string{compDomain: `se"cret`}},
			want: []string{
				"module: ejabberd_service", "port: 2", `"groupchat.example.test":`, `password: "se\"cret"`,
				"module: ejabberd_c2s", "port: 1", "backlog: 1024", "starttls: false", "shaper: none",
				"max_stanza_size: 262144", "max_stanza_size: 524288", "extra_domains: []", "loglevel: info",
			},
		},
		{
			name: "other component is an extra domain",
			o: ejabberd.Options{Dir: "/d", Domain: domain, LogLevel: "warn", MaxStanzaSize: 4096,
				Components: map[string]string{"elsewhere.test": "x"}},
			want: []string{"extra_domains:\n      - \"elsewhere.test\"", "max_stanza_size: 4096", "loglevel: warning"},
		},
		{
			name: "no component, no service listener",
			o:    ejabberd.Options{Dir: "/d", Domain: domain},
			not:  []string{"ejabberd_service", "mod_pubsub", "pubsub_admins"},
		},
		{
			name: "pubsub service whose nodes only the admins create",
			o: ejabberd.Options{Dir: "/d", Domain: domain, PubSub: pubsubDomain,
				PubSubAdmins: []string{"app@example.test", "ops@elsewhere.test"}},
			want: []string{
				"  pubsub_admins:\n    user:\n      - \"app@example.test\"\n      - \"ops@elsewhere.test\"\n",
				"  pubsub_createnode:\n    allow: pubsub_admins\n",
				"  mod_pubsub:\n    hosts:\n      - \"push.example.test\"\n    access_createnode: pubsub_createnode\n",
				"    plugins:\n      - flat\n      - pep\n",
				"send_last_published_item: never", "mod_caps: {}", "extra_domains: []",
			},
		},
		{
			name: "pubsub service without admins creates no nodes",
			o:    ejabberd.Options{Dir: "/d", Domain: domain, PubSub: pubsubDomain},
			want: []string{"  pubsub_createnode:\n    deny: all\n", "access_createnode: pubsub_createnode"},
			not:  []string{"pubsub_admins"},
		},
		{
			name: "pubsub service outside the host is an extra domain",
			o:    ejabberd.Options{Dir: "/d", Domain: domain, PubSub: "push.elsewhere.test"},
			want: []string{"extra_domains:\n      - \"push.elsewhere.test\"", "      - \"push.elsewhere.test\"\n    access_createnode"},
		},
		{
			name: "muc service without archives",
			o:    ejabberd.Options{Dir: "/d", Domain: domain, MUC: mucDomain},
			want: []string{
				"  mod_muc:\n    hosts:\n      - \"conference.example.test\"\n    access: all\n    access_create: all\n",
				"    default_room_options:\n      public: true\n      persistent: true\n", "extra_domains: []",
			},
			not: []string{"mod_mam", "mam: true"},
		},
		{
			name: "muc service archiving every room",
			o:    ejabberd.Options{Dir: "/d", Domain: domain, MUC: mucDomain, MUCMAM: true},
			want: []string{"      mam: true\n", "  mod_mam:\n    default: always\n"},
		},
		{
			name: "muc service outside the host is an extra domain",
			o:    ejabberd.Options{Dir: "/d", Domain: domain, MUC: "rooms.elsewhere.test"},
			want: []string{"extra_domains:\n      - \"rooms.elsewhere.test\""},
		},
		{
			name: "multicast service with the default limit for components",
			o:    ejabberd.Options{Dir: "/d", Domain: domain},
			want: []string{"  mod_multicast:\n    access: all\n    limits:\n      remote:\n        message: 100\n        presence: 100\n"},
		},
		{
			name: "multicast service with a set limit",
			o:    ejabberd.Options{Dir: "/d", Domain: domain, MulticastLimit: 3},
			want: []string{"      remote:\n        message: 3\n        presence: 3\n"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ejabberd.Config(c.o)
			for _, w := range c.want {
				if !strings.Contains(cfg, w) {
					t.Errorf("config lacks %q:\n%s", w, cfg)
				}
			}
			for _, n := range c.not {
				if strings.Contains(cfg, n) {
					t.Errorf("config has %q:\n%s", n, cfg)
				}
			}
		})
	}
}

// TestPubSubServesAnAppServer: the PubSub service is what the push tests
// need of an XEP-0357 app server. Only an admin creates nodes; a node
// configured with publish_model open takes publishes from the component
// and notifies its subscriber; a publish to a missing node is refused and
// creates nothing.
func TestPubSubServesAnAppServer(t *testing.T) {
	t.Parallel()
	srv := start(t, ejabberd.Options{
		Components:   map[string]string{compDomain: compSecret},
		PubSub:       pubsubDomain,
		PubSubAdmins: []string{"app@example.test"},
	})
	ctx := launcher.Context(t)
	if err := srv.RegisterMany(ctx, map[string]string{"app": "pw", "alice": "pw"}); err != nil {
		t.Fatal(err)
	}
	sess, got, _, err := servertest.ComponentSession(t, ctx, srv, compDomain, compSecret)
	if err != nil {
		t.Fatal(err)
	}
	app := servertest.Dial(t, ctx, srv, "app@example.test/a", "pw", xmppclient.Options{InitialPresence: true})
	alice := servertest.Dial(t, ctx, srv, "alice@example.test/a", "pw", xmppclient.Options{InitialPresence: true})
	iq := func(c *xmppclient.Client, id, to, payload string) *xmppclient.Stanza {
		t.Helper()
		if err := c.SendRaw(ctx, `<iq type='set' id='`+id+`' to='`+to+`'>`+payload+`</iq>`); err != nil {
			t.Fatal(err)
		}
		res, err := c.Expect(ctx, servertest.ByID(id))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// publish sends a publish from the component and returns the answer.
	publish := func(id, node, text string) *xmppclient.Stanza {
		t.Helper()
		d := xml.NewDecoder(strings.NewReader(`<iq type='set' id='` + id + `' from='` + compDomain + `' to='` + pubsubDomain + `'>` +
			`<pubsub xmlns='` + nsPubSub + `'><publish node='` + node + `'><item><note xmlns='urn:example:note'>` + text + `</note></item></publish></pubsub></iq>`))
		if err := sess.Send(ctx, d); err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case s := <-got:
				if s.ID() == id {
					return s
				}
			case <-ctx.Done():
				t.Fatalf("no answer to the publish %s", id)
			}
		}
	}
	create := `<pubsub xmlns='` + nsPubSub + `'><create node='phone'/><configure><x xmlns='jabber:x:data' type='submit'>` +
		`<field var='FORM_TYPE' type='hidden'><value>` + nsPubSub + `#node_config</value></field>` +
		`<field var='pubsub#publish_model'><value>open</value></field></x></configure></pubsub>`

	// The service is a local route, listed in disco#items of the host.
	if err := alice.SendRaw(ctx, `<iq type='get' id='items' to='example.test'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`); err != nil {
		t.Fatal(err)
	}
	items, err := alice.Expect(ctx, servertest.ByID("items"))
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, it := range items.FindAll("{http://jabber.org/protocol/disco#items}query/item") {
		listed = listed || it.Attr("jid") == pubsubDomain
	}
	if !listed {
		t.Errorf("%s is not in disco#items of the host: %s", pubsubDomain, items.Raw)
	}
	if err := alice.SendRaw(ctx, `<iq type='get' id='info' to='`+pubsubDomain+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`); err != nil {
		t.Fatal(err)
	}
	info, err := alice.Expect(ctx, servertest.ByID("info"))
	if err != nil {
		t.Fatal(err)
	}
	if id := info.Find("{http://jabber.org/protocol/disco#info}query/identity"); info.Type() != "result" || id == nil || id.Attr("category") != "pubsub" {
		t.Errorf("disco#info of %s: %s", pubsubDomain, info.Raw)
	}

	// Only the admin creates nodes.
	if res := iq(alice, "c0", pubsubDomain, create); res.Type() != "error" || res.Find("error/{urn:ietf:params:xml:ns:xmpp-stanzas}forbidden") == nil {
		t.Errorf("a user who is no admin created a node: %s", res.Raw)
	}
	if res := iq(app, "c1", pubsubDomain, create); res.Type() != "result" {
		t.Fatalf("the admin creating a node: %s", res.Raw)
	}
	if res := iq(app, "s1", pubsubDomain, `<pubsub xmlns='`+nsPubSub+`'><subscribe node='phone' jid='app@example.test/a'/></pubsub>`); res.Type() != "result" {
		t.Fatalf("subscribing: %s", res.Raw)
	}

	// The component publishes; the subscriber gets the item.
	if res := publish("p1", "phone", "first"); res.Type() != "result" {
		t.Fatalf("the component's publish to an open node: %s", res.Raw)
	}
	ev, err := app.Expect(ctx, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.From() == pubsubDomain })
	if err != nil {
		t.Fatal(err)
	}
	items = ev.Find("{" + nsPubSub + "#event}event/items")
	if items == nil || items.Attr("node") != "phone" || ev.Find("{"+nsPubSub+"#event}event/items/item/{urn:example:note}note") == nil ||
		ev.Find("{"+nsPubSub+"#event}event/items/item/{urn:example:note}note").Text != "first" {
		t.Errorf("the notification of the publish: %s", ev.Raw)
	}

	// A publish to a missing node is refused and creates nothing: a
	// second one is refused too.
	for _, id := range []string{"p2", "p3"} {
		res := publish(id, "missing", "lost")
		if res.Type() != "error" || res.Find("error/{urn:ietf:params:xml:ns:xmpp-stanzas}item-not-found") == nil {
			t.Errorf("publish %s to a missing node: %s", id, res.Raw)
		}
	}
}

// TestMulticastServesAComponent: mod_multicast as the configuration sets it
// up is what server-side fan-out needs. Its disco#info offers the XEP-0033
// feature and states the component's limit (XEP-0128 form); a message from
// the component with bcc addresses reaches each address once, without the
// addresses (XEP-0033 §4.6.3), from the component's address; one with more
// addresses than the limit is refused back to the component.
func TestMulticastServesAComponent(t *testing.T) {
	t.Parallel()
	const (
		mc    = "multicast." + domain
		nsAdr = "http://jabber.org/protocol/address"
		from  = "g@" + compDomain + "/hag"
	)
	srv := start(t, ejabberd.Options{Components: map[string]string{compDomain: compSecret}, MulticastLimit: 3})
	ctx := launcher.Context(t)
	if err := srv.RegisterMany(ctx, map[string]string{"alice": "pw", "bob": "pw"}); err != nil {
		t.Fatal(err)
	}
	sess, got, _, err := servertest.ComponentSession(t, ctx, srv, compDomain, compSecret)
	if err != nil {
		t.Fatal(err)
	}
	send := func(s string) {
		t.Helper()
		if err := sess.Send(ctx, xml.NewDecoder(strings.NewReader(s))); err != nil {
			t.Fatal(err)
		}
	}
	next := func(what string, m func(*xmppclient.Stanza) bool) *xmppclient.Stanza {
		t.Helper()
		for {
			select {
			case s := <-got:
				if m(s) {
					return s
				}
			case <-ctx.Done():
				t.Fatalf("the component got no %s", what)
			}
		}
	}
	send(`<iq type='get' id='mc-info' from='` + compDomain + `' to='` + mc + `'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	info := next("disco#info answer", func(s *xmppclient.Stanza) bool { return s.ID() == "mc-info" })
	feature, limit := false, ""
	for _, f := range info.FindAll("{http://jabber.org/protocol/disco#info}query/feature") {
		feature = feature || f.Attr("var") == nsAdr
	}
	for _, x := range info.FindAll("{http://jabber.org/protocol/disco#info}query/{jabber:x:data}x") {
		fields := map[string]string{}
		for _, f := range x.FindAll("{jabber:x:data}field") {
			fields[f.Attr("var")] = f.ChildText("jabber:x:data", "value")
		}
		if fields["FORM_TYPE"] == nsAdr {
			limit = fields["message"]
		}
	}
	if info.Type() != "result" || !feature || limit != "3" {
		t.Fatalf("disco#info of %s: feature %v, limit %q: %s", mc, feature, limit, info.Raw)
	}

	recipients := []*xmppclient.Client{
		servertest.Dial(t, ctx, srv, "alice@example.test/a", "pw", xmppclient.Options{InitialPresence: true}),
		servertest.Dial(t, ctx, srv, "alice@example.test/b", "pw", xmppclient.Options{InitialPresence: true}),
		servertest.Dial(t, ctx, srv, "bob@example.test/a", "pw", xmppclient.Options{InitialPresence: true}),
	}
	var addrs strings.Builder
	for _, c := range recipients {
		addrs.WriteString(`<address type='bcc' jid='` + c.JID().String() + `'/>`)
	}
	send(`<message type='groupchat' id='mc-1' from='` + from + `' to='` + mc + `'><body>to three</body><addresses xmlns='` + nsAdr + `'>` + addrs.String() + `</addresses></message>`)
	for _, c := range recipients {
		m, err := c.Expect(ctx, servertest.ByID("mc-1"))
		if err != nil {
			t.Fatalf("%s: %v", c.JID(), err)
		}
		if m.From() != from || m.ChildText("", "body") != "to three" || strings.Contains(m.Raw, nsAdr) {
			t.Errorf("%s got %s", c.JID(), m.Raw)
		}
	}
	// One over the limit: refused to the sender, delivered to no one.
	send(`<message type='groupchat' id='mc-2' from='` + from + `' to='` + mc + `'><body>to four</body><addresses xmlns='` + nsAdr + `'>` + addrs.String() +
		`<address type='bcc' jid='bob@example.test/b'/></addresses></message>`)
	refused := next("the refusal of four addresses", func(s *xmppclient.Stanza) bool { return s.ID() == "mc-2" })
	if refused.Type() != "error" || !strings.Contains(refused.Raw, "<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'") && !strings.Contains(refused.Raw, `<not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"`) {
		t.Errorf("over the limit: %s", refused.Raw)
	}
	// Each recipient got mc-1 once: a second copy would come before an
	// answer to a ping the server itself answers after it.
	for _, c := range recipients {
		if err := c.SendRaw(ctx, `<iq type='get' id='p' to='`+domain+`'><ping xmlns='urn:xmpp:ping'/></iq>`); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Expect(ctx, servertest.ByID("p")); err != nil {
			t.Fatal(err)
		}
		for _, s := range c.Pending() {
			if s.ID() == "mc-1" || s.ID() == "mc-2" {
				t.Errorf("%s got another %s", c.JID(), s.Raw)
			}
		}
	}
}

// TestMUCWithArchive: with MUC and MUCMAM, a room comes into being when
// its first occupant joins, takes the second at once (no configuration,
// no lock), reflects messages with a XEP-0359 stanza-id and keeps them in
// its XEP-0313 archive.
func TestMUCWithArchive(t *testing.T) {
	t.Parallel()
	srv := start(t, ejabberd.Options{MUC: mucDomain, MUCMAM: true})
	ctx := launcher.Context(t)
	if err := srv.RegisterMany(ctx, map[string]string{"alice": "pw", "bob": "pw"}); err != nil {
		t.Fatal(err)
	}
	alice := servertest.Dial(t, ctx, srv, "alice@example.test/a", "pw", xmppclient.Options{})
	bob := servertest.Dial(t, ctx, srv, "bob@example.test/b", "pw", xmppclient.Options{})
	servertest.RoomArchives(t, ctx, alice, bob, "lobby@"+mucDomain)
}
