package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// The tests in this file let an XMPP client library the project did not
// write read the service: slixmpp (Debian's python3-slixmpp), with its own
// implementations of the XEPs. Each scenario is a script in
// testdata/slixmpp that logs in as a member through the harness's XMPP
// server, does one thing and prints what it observed as one JSON object;
// the test asserts on that against the XEPs and PROTOCOL.md, with Go
// members of package xmppclient on the other side where a scenario needs
// one. A new scenario is a script there and a test calling runSlixmpp, or
// startSlixmpp when Go clients act while the script runs (the scenarios of
// the files slixmpp_*_test.go). testdata/slixmpp/member.py describes the
// scripts' contract.

// slixmppPython is the interpreter that has python3-slixmpp: Debian's, not
// whatever python3 comes first on PATH.
const slixmppPython = "/usr/bin/python3"

// nsHints is XEP-0334's namespace.

var slixmppAvailable struct {
	once sync.Once
	err  error
}

// requireSlixmpp skips t when slixmpp cannot be imported, and fails it when
// CI is set: .ci/run installs it.
func requireSlixmpp(t *testing.T) {
	t.Helper()
	slixmppAvailable.once.Do(func() {
		out, err := exec.Command(slixmppPython, "-c", "import slixmpp").CombinedOutput()
		if err != nil {
			slixmppAvailable.err = &slixmppMissing{err: err, out: strings.TrimSpace(string(out))}
		}
	})
	if err := slixmppAvailable.err; err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; .ci/run must install it (apt-get install python3-slixmpp)", err)
		}
		t.Skipf("%v (apt-get install python3-slixmpp); set CI=1 to make this a failure", err)
	}
}

type slixmppMissing struct {
	err error
	out string
}

func (e *slixmppMissing) Error() string {
	msg := slixmppPython + " cannot import slixmpp: " + e.err.Error()
	if e.out != "" {
		msg += ": " + e.out
	}
	return msg
}

// runSlixmpp runs testdata/slixmpp/<script>.py as user@xmppDomain/resource
// against h with args (a JSON object for the script) and decodes what it
// printed into out. The test fails if the script fails; its stderr is in
// the failure.
func runSlixmpp(t *testing.T, h *harness, script, user, resource string, args map[string]any, out any) {
	t.Helper()
	startSlixmpp(t, h, script, user, resource, args)(out)
}

// startSlixmpp starts a scenario as runSlixmpp does and returns at once, so
// that Go clients can act while it runs (the script and they talk one to
// one through the XMPP server: member.tell and member.heard, client.tell
// and client.heard); the function it returns waits for the script and
// decodes its result into out.
func startSlixmpp(t *testing.T, h *harness, script, user, resource string, args map[string]any) func(out any) {
	t.Helper()
	requireSlixmpp(t)
	h.watch(t)
	host, port, err := net.SplitHostPort(h.srv.C2SAddr())
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, slixmppPython, filepath.Join("testdata", "slixmpp", script+".py"))
	cmd.Env = append(slixmppEnv(),
		"GC_HOST="+host,
		"GC_PORT="+port,
		"GC_JID="+user+"@"+xmppDomain+"/"+resource,
		"GC_PASSWORD="+user,
		"GC_SERVICE="+service,
		"GC_ARGS="+string(encoded),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("slixmpp scenario %s as %s: %v", script, user, err)
	}
	// A test that fails while the script runs must not leave it behind.
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	return func(out any) {
		t.Helper()
		err := cmd.Wait()
		cancel()
		if err != nil {
			t.Fatalf("slixmpp scenario %s as %s: %v\n%s", script, user, err, stderr.String())
		}
		if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
			t.Fatalf("slixmpp scenario %s printed %q: %v\n%s", script, stdout.String(), err, stderr.String())
		}
	}
}

// slixmppEnv is the test's environment without what would point Debian's
// interpreter at another Python's modules, and without bytecode written
// into testdata.
func slixmppEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PYTHONPATH=") || strings.HasPrefix(kv, "PYTHONHOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PYTHONDONTWRITEBYTECODE=1")
}

// slixMessage is a message as the scripts describe it (member.describe).
type slixMessage struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Type      string `json:"type"`
	ID        string `json:"id"`
	Body      string `json:"body"`
	OriginID  string `json:"origin_id"`
	StanzaIDs []struct {
		By string `json:"by"`
		ID string `json:"id"`
	} `json:"stanza_ids"`
	// Children are the message's child elements as {namespace}name.
	Children []string `json:"children"`
}

// has reports whether the message has a child element ns:name.
func (m slixMessage) has(ns, name string) bool {
	return slices.Contains(m.Children, "{"+ns+"}"+name)
}

// slixError is a stanza error as the scripts report it (member.error_of).
type slixError struct {
	Type      string `json:"type"`
	Condition string `json:"condition"`
	Text      string `json:"text"`
	By        string `json:"by"`
	From      string `json:"from"`
	ID        string `json:"id"`
}

// archiveID checks that m carries exactly one XEP-0359 stanza-id by the
// group, a decimal archive id (PROTOCOL.md §1), and returns it.
func (m slixMessage) archiveID(t *testing.T, group string) string {
	t.Helper()
	var ids []string
	for _, s := range m.StanzaIDs {
		if s.By == gjid(group) {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("message %q carries stanza-ids %+v, want exactly one by %s", m.ID, m.StanzaIDs, gjid(group))
	}
	if _, err := strconv.ParseUint(ids[0], 10, 64); err != nil {
		t.Fatalf("message %q: archive id %q is not a position", m.ID, ids[0])
	}
	return ids[0]
}

// TestSlixmppDiscovery: XEP-0030 as slixmpp's xep_0030 reads it. The service
// and a group are groupchat entities (PROTOCOL.md §3.2, §3.4); a group hosts
// an archive and says so (XEP-0313 §8), the service does not; neither has
// nodes (XEP-0030 §3.2: item-not-found).
func TestSlixmppDiscovery(t *testing.T) {
	alice := shared.login(t, "alice", "slix-disco")
	group := groupID("slix-disco")
	createGroup(alice, group, "Disco "+group, "carol")

	type info struct {
		Identities [][]string `json:"identities"`
		Features   []string   `json:"features"`
	}
	var got struct {
		Service     info       `json:"service"`
		Group       info       `json:"group"`
		ServiceNode *slixError `json:"service_node"`
		GroupNode   *slixError `json:"group_node"`
	}
	runSlixmpp(t, shared, "discovery", "carol", "slix-disco", map[string]any{"group": gjid(group)}, &got)

	// slixmpp's identities are (category, type, xml:lang, name).
	wantIdentity := func(who string, ids [][]string, name string) {
		t.Helper()
		for _, id := range ids {
			if len(id) == 4 && id[0] == "groupchat" && id[1] == "text" && id[3] == name {
				return
			}
		}
		t.Errorf("%s identities %v, want category groupchat, type text, name %q", who, ids, name)
	}
	wantIdentity("the service's", got.Service.Identities, "Group Chat Service")
	wantIdentity("the group's", got.Group.Identities, "Disco "+group)

	for _, f := range []string{nsGC, nsDiscoInfo, nsSID} {
		if !slices.Contains(got.Service.Features, f) {
			t.Errorf("the service does not advertise %s: %v", f, got.Service.Features)
		}
	}
	if slices.Contains(got.Service.Features, nsMAM) || slices.Contains(got.Service.Features, nsMAMExtended) {
		t.Errorf("the service advertises MAM but hosts no archive: %v", got.Service.Features)
	}
	for _, f := range []string{nsMAM, nsMAMExtended, nsDiscoInfo, nsGC} {
		if !slices.Contains(got.Group.Features, f) {
			t.Errorf("the group does not advertise %s: %v", f, got.Group.Features)
		}
	}

	for who, e := range map[string]*slixError{"the service": got.ServiceNode, "the group": got.GroupNode} {
		if e == nil {
			t.Errorf("disco#info to %s with a node was answered with a result", who)
			continue
		}
		if e.Type != "cancel" || e.Condition != "item-not-found" {
			t.Errorf("disco#info to %s with a node: %s/%s, want cancel/item-not-found", who, e.Type, e.Condition)
		}
	}
}

// slixArchived is one XEP-0313 result as archive.py reports it.
type slixArchived struct {
	ResultID string      `json:"result_id"`
	QueryID  string      `json:"queryid"`
	Stamp    string      `json:"stamp"`
	Message  slixMessage `json:"message"`
}

// TestSlixmppArchive: a group's history through slixmpp's xep_0313 and its
// XEP-0059 iteration, after Go members posted. Pages of two deliver every
// message once, in order, each from its sender's occupant JID (XEP-0313
// §6.1.2 for a MUC archive) with its body, its result id its archive id; the
// RSM count is the whole result's and the last page is complete; with, ids
// and metadata (XEP-0313 §4.1.1, §4.1.2 extended, §7) agree with the pages.
func TestSlixmppArchive(t *testing.T) {
	alice := shared.login(t, "alice", "slix-mam")
	bob := shared.login(t, "bob", "slix-mam")
	group := groupID("slix-mam")
	createGroup(alice, group, "Archive "+group, "bob", "carol")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	type post struct {
		by       *client
		id, body string
	}
	posts := []post{
		{alice, "sm1", "first"}, {bob, "sm2", "second"}, {alice, "sm3", "third & <fourth>"},
		{bob, "sm4", "fourth"}, {alice, "sm5", "fifth"},
	}
	for _, p := range posts {
		p.by.send(`<message type="groupchat" id="` + p.id + `" to="` + gjid(group) + `"><body>` + xmlEscape(p.body) + `</body></message>`)
		p.by.expect("the reflection of "+p.id, func(s *xmppclient.Stanza) bool { return s.ID() == p.id && s.Type() == "groupchat" })
	}

	type rsmSet struct {
		First      string `json:"first"`
		FirstIndex string `json:"first_index"`
		Last       string `json:"last"`
		Count      string `json:"count"`
	}
	var got struct {
		Pages []struct {
			Results  []slixArchived `json:"results"`
			Complete string         `json:"complete"`
			Set      rsmSet         `json:"set"`
		} `json:"pages"`
		With []slixArchived `json:"with"`
		IDs  struct {
			Asked   []string       `json:"asked"`
			Results []slixArchived `json:"results"`
		} `json:"ids"`
		Metadata struct {
			Start string `json:"start"`
			End   string `json:"end"`
		} `json:"metadata"`
	}
	runSlixmpp(t, shared, "archive", "carol", "slix-mam", map[string]any{
		"group": gjid(group), "page": 2, "with": gjid(group) + "/alice",
	}, &got)

	var all []slixArchived
	for i, p := range got.Pages {
		all = append(all, p.Results...)
		if p.Set.Count != strconv.Itoa(len(posts)) {
			t.Errorf("page %d: RSM count %q, want the whole result's %d (XEP-0059 §2.6)", i, p.Set.Count, len(posts))
		}
		if p.Set.FirstIndex != strconv.Itoa(2*i) {
			t.Errorf("page %d: first index %q, want %d", i, p.Set.FirstIndex, 2*i)
		}
		if n := len(p.Results); n == 0 || p.Set.First != p.Results[0].ResultID || p.Set.Last != p.Results[n-1].ResultID {
			t.Errorf("page %d: RSM first/last %q/%q do not name its results %+v", i, p.Set.First, p.Set.Last, p.Results)
		}
		if last := i == len(got.Pages)-1; (p.Complete == "true") != last {
			t.Errorf("page %d of %d: complete=%q", i, len(got.Pages), p.Complete)
		}
	}
	if len(got.Pages) != 3 {
		t.Errorf("pages of 2 over 5 messages: the plugin fetched %d pages", len(got.Pages))
	}
	if len(all) != len(posts) {
		t.Fatalf("the archive through slixmpp holds %d messages, want %d: %+v", len(all), len(posts), all)
	}
	prev := uint64(0)
	for i, r := range all {
		p := posts[i]
		m := r.Message
		if m.ID != p.id || m.Body != p.body {
			t.Errorf("result %d is %q %q, want %q %q", i, m.ID, m.Body, p.id, p.body)
		}
		if want := gjid(group) + "/" + p.by.name; m.From != want {
			t.Errorf("result %d is from %q, want the occupant JID %q", i, m.From, want)
		}
		if m.To != "" || !m.has(nsMUCUser, "x") {
			t.Errorf("result %d: to=%q, children %v; a MUC archive's message has no to and names its publisher in muc#user", i, m.To, m.Children)
		}
		if aid := m.archiveID(t, group); aid != r.ResultID {
			t.Errorf("result %d: result id %q, stanza-id %q: the same archive id", i, r.ResultID, aid)
		}
		pos, _ := strconv.ParseUint(r.ResultID, 10, 64)
		if pos <= prev {
			t.Errorf("result %d: archive id %d after %d: not in archive order", i, pos, prev)
		}
		prev = pos
		if r.Stamp == "" {
			t.Errorf("result %d has no <delay/> stamp", i)
		}
	}

	var with []string
	for _, r := range got.With {
		with = append(with, r.Message.ID)
	}
	if strings.Join(with, " ") != "sm1 sm3 sm5" {
		t.Errorf("with %s/alice: %v, want alice's sm1 sm3 sm5", gjid(group), with)
	}

	var byIDs []string
	for _, r := range got.IDs.Results {
		byIDs = append(byIDs, r.ResultID)
	}
	if !slices.Equal(byIDs, got.IDs.Asked) {
		t.Errorf("ids %v answered %v", got.IDs.Asked, byIDs)
	}

	if got.Metadata.Start != all[0].ResultID || got.Metadata.End != all[len(all)-1].ResultID {
		t.Errorf("metadata start %q end %q, want the first and last results %q %q",
			got.Metadata.Start, got.Metadata.End, all[0].ResultID, all[len(all)-1].ResultID)
	}
}

// xmlEscape escapes text for an element's content.
func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// TestSlixmppPostsAndResends: a message slixmpp sends (body, and its id
// again as XEP-0359 origin-id) reaches a Go member with the group's
// stanza-id; slixmpp gets its reflection with the same id and stanza-id
// (PROTOCOL.md §6.1); sending it again, as after a reconnect, gets the
// original's reflection to the sender only and stores nothing
// (PROTOCOL.md §6.4).
func TestSlixmppPostsAndResends(t *testing.T) {
	alice := shared.login(t, "alice", "slix-post")
	bob := shared.login(t, "bob", "slix-post")
	group := groupID("slix-post")
	createGroup(alice, group, "Posts "+group, "bob", "carol")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	const id, body = "slix-post-1", "from slixmpp"
	var got struct {
		Reflection slixMessage   `json:"reflection"`
		Resent     slixMessage   `json:"resent"`
		Others     []slixMessage `json:"others"`
		Archived   []slixMessage `json:"archived"`
		Count      string        `json:"count"`
	}
	runSlixmpp(t, shared, "post", "carol", "slix-post", map[string]any{"group": gjid(group), "id": id, "body": body}, &got)

	occupant := gjid(group) + "/carol"
	r := got.Reflection
	if r.From != occupant || r.Type != "groupchat" || r.Body != body || r.OriginID != id {
		t.Errorf("the reflection is from %q type %q body %q origin-id %q, want %q groupchat %q %q",
			r.From, r.Type, r.Body, r.OriginID, occupant, body, id)
	}
	aid := r.archiveID(t, group)
	if again := got.Resent.archiveID(t, group); again != aid || got.Resent.ID != id || got.Resent.From != occupant {
		t.Errorf("the resend came back as %+v, want the original's reflection (archive id %s)", got.Resent, aid)
	}
	if len(got.Others) != 0 {
		t.Errorf("slixmpp got more than two messages with id %s: %+v", id, got.Others)
	}
	if len(got.Archived) != 1 || got.Count != "1" {
		t.Errorf("after a resend the archive holds %d messages with that id (RSM count %s), want 1: %+v", len(got.Archived), got.Count, got.Archived)
	}

	m := bob.expect("slixmpp's message", func(s *xmppclient.Stanza) bool { return s.ID() == id })
	if m.From() != occupant || m.Type() != "groupchat" || m.ChildText("", "body") != body {
		t.Errorf("bob got %s", m.Raw)
	}
	if o := m.Child(nsSID, "origin-id"); o == nil || o.Attr("id") != id {
		t.Errorf("the origin-id did not reach bob unchanged: %s", m.Raw)
	}
	sids := m.ChildrenNamed(nsSID, "stanza-id")
	if len(sids) != 1 || sids[0].Attr("by") != gjid(group) || sids[0].Attr("id") != aid {
		t.Errorf("bob's copy carries stanza-ids %s, want one by %s with id %s", m.Raw, gjid(group), aid)
	}
	bob.expectNone("the resend", func(s *xmppclient.Stanza) bool { return s.ID() == id })
}

// TestSlixmppSignals: an XEP-0085 chat state from slixmpp reaches a Go
// member live from slixmpp's occupant JID without a stanza-id, comes back
// to slixmpp the same way, and is not in the archive; an XEP-0333
// displayed marker with an XEP-0334 store hint is delivered the same way
// but archived, as the hint asks (PROTOCOL.md §6.6); a markable message
// with a body sent after them is archived too (PROTOCOL.md §6.1).
func TestSlixmppSignals(t *testing.T) {
	alice := shared.login(t, "alice", "slix-sig")
	bob := shared.login(t, "bob", "slix-sig")
	group := groupID("slix-sig")
	createGroup(alice, group, "Signals "+group, "bob", "carol")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))
	alice.send(`<message type="groupchat" id="sig-1" to="` + gjid(group) + `"><body>mark me</body><markable xmlns="` + nsMarkers + `"/></message>`)
	marked := archiveIDOf(t, alice.expect("the reflection of sig-1", func(s *xmppclient.Stanza) bool { return s.ID() == "sig-1" }))
	bob.expect("sig-1", func(s *xmppclient.Stanza) bool { return s.ID() == "sig-1" })

	type signal struct {
		SentID     string      `json:"sent_id"`
		Reflection slixMessage `json:"reflection"`
	}
	var got struct {
		Composing signal        `json:"composing"`
		Displayed signal        `json:"displayed"`
		After     slixMessage   `json:"after"`
		Archived  []slixMessage `json:"archived"`
	}
	markedID := strconv.FormatUint(marked, 10)
	runSlixmpp(t, shared, "signals", "carol", "slix-sig", map[string]any{"group": gjid(group), "marked": markedID, "after": "sig-after"}, &got)

	occupant := gjid(group) + "/carol"
	for name, s := range map[string]signal{"composing": got.Composing, "displayed": got.Displayed} {
		r := s.Reflection
		stored := name == "displayed"
		if r.From != occupant || r.Type != "groupchat" || (len(r.StanzaIDs) == 1) != stored || r.Body != "" {
			t.Errorf("slixmpp's %s came back as %+v, want from %s, no body, a stanza-id only if stored (%v)", name, r, occupant, stored)
		}
	}
	if !got.Composing.Reflection.has(nsChatStates, "composing") {
		t.Errorf("the composing reflection lost its chat state: %+v", got.Composing.Reflection)
	}
	if r := got.Displayed.Reflection; !r.has(nsMarkers, "displayed") || !r.has(nsHints, "store") {
		t.Errorf("the displayed reflection lost its marker or hint: %+v", r)
	}
	if got.After.archiveID(t, group) == "" || !got.After.has(nsMarkers, "markable") {
		t.Errorf("the message after the signals: %+v", got.After)
	}

	c := bob.expect("the composing chat state", func(s *xmppclient.Stanza) bool { return s.ID() == got.Composing.SentID })
	if c.From() != occupant || c.Child(nsChatStates, "composing") == nil || c.Child(nsSID, "stanza-id") != nil {
		t.Errorf("bob got the chat state as %s", c.Raw)
	}
	d := bob.expect("the displayed marker", func(s *xmppclient.Stanza) bool { return s.ID() == got.Displayed.SentID })
	if dm := d.Child(nsMarkers, "displayed"); d.From() != occupant || dm == nil || dm.Attr("id") != markedID || d.Child(nsSID, "stanza-id") == nil {
		t.Errorf("bob got the marker as %s, want displayed id=%s from %s with the stanza-id it was stored at", d.Raw, markedID, occupant)
	}
	a := bob.expect("the message after the signals", func(s *xmppclient.Stanza) bool { return s.ID() == "sig-after" })
	if a.Child(nsMarkers, "markable") == nil {
		t.Errorf("the markable element did not reach bob: %s", a.Raw)
	}

	var archived []string
	for _, m := range got.Archived {
		archived = append(archived, m.ID)
	}
	if want := "sig-1 " + got.Displayed.SentID + " sig-after"; strings.Join(archived, " ") != want {
		t.Errorf("the archive through slixmpp holds %v, want %s: the messages with a body and the stored marker", archived, want)
	}
}

// TestSlixmppHostileMessages: messages no group may take, written by
// slixmpp, each get the stanza error PROTOCOL.md §6.1 and §9 document from
// the address they were sent to (RFC 6120 §8.3), nobody receives them, the
// group still works afterwards, and the component's link holds (runSlixmpp
// watches it).
func TestSlixmppHostileMessages(t *testing.T) {
	alice := shared.login(t, "alice", "slix-hostile")
	bob := shared.login(t, "bob", "slix-hostile")
	group := groupID("slix-hostile")
	createGroup(alice, group, "Hostile "+group, "bob", "carol")
	bob.expect("the creategroup broadcast", presenceWith(group, nsCreate))

	// The defaults of --max-body-bytes, --max-payload-bytes and
	// --max-stanza-depth, which the shared harness keeps.
	const limit, depth = 65536, 32
	occupant := gjid(group) + "/alice"
	var got struct {
		Errors    map[string]slixError `json:"errors"`
		Delivered []slixMessage        `json:"delivered"`
		After     slixMessage          `json:"after"`
	}
	runSlixmpp(t, shared, "hostile", "carol", "slix-hostile", map[string]any{
		"group": gjid(group), "occupant": occupant, "limit": limit, "depth": depth,
	}, &got)

	want := map[string]struct{ typ, condition, from string }{
		"oversized-body":      {"modify", "policy-violation", gjid(group)},
		"oversized-extension": {"modify", "policy-violation", gjid(group)},
		"deep-nesting":        {"modify", "policy-violation", gjid(group)},
		"empty-body":          {"modify", "bad-request", gjid(group)},
		"chat-type":           {"modify", "bad-request", gjid(group)},
		"to-occupant":         {"modify", "bad-request", occupant},
	}
	for name, w := range want {
		e, ok := got.Errors[name]
		if !ok {
			t.Errorf("%s: no error reported", name)
			continue
		}
		if e.Type != w.typ || e.Condition != w.condition {
			t.Errorf("%s: %s/%s (%s), want %s/%s", name, e.Type, e.Condition, e.Text, w.typ, w.condition)
		}
		if e.From != w.from || e.By != gjid(group) {
			t.Errorf("%s: the error comes from %q by %q, want from %q by %q", name, e.From, e.By, w.from, gjid(group))
		}
	}
	if len(got.Delivered) != 0 {
		t.Errorf("hostile messages came back as more than errors: %+v", got.Delivered)
	}
	if got.After.From != gjid(group)+"/carol" || got.After.archiveID(t, group) == "" {
		t.Errorf("the message after the hostile ones: %+v", got.After)
	}
	bob.expect("the message after the hostile ones", func(s *xmppclient.Stanza) bool { return s.ID() == "hostile-after" })
	bob.expectNone("a hostile message", func(s *xmppclient.Stanza) bool {
		return strings.HasPrefix(s.ID(), "hostile-") && s.ID() != "hostile-after"
	})
}
