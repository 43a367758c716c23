// Command protocapture_tmp is a throwaway: it drives a running dev server
// and prints every exchange.
package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/internal/xmppclient"
)

var (
	addr    = flag.String("addr", "127.0.0.1:25522", "c2s")
	phase   = flag.Int("phase", 1, "phase")
	svc     = "groupchat.localhost"
	rep     = strings.NewReplacer("groupchat.localhost", "groupchat.example.org", "localhost", "example.org")
	clients []*cl
)

type cl struct {
	name string
	c    *xmppclient.Client
}

func login(user, res string) *cl {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := xmppclient.Dial(ctx, *addr, jid.MustParse(user+"@localhost/"+res), user)
	if err != nil {
		panic(err)
	}
	x := &cl{name: user + "/" + res, c: c}
	clients = append(clients, x)
	return x
}

func pretty(s *xmppclient.Stanza, from string) string {
	var b strings.Builder
	write(&b, s, "jabber:client", 0, from)
	return rep.Replace(b.String())
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func escAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;").Replace(s)
}

var orders = map[string][]string{
	"item":     {"jid", "id", "mid", "name", "nick", "type", "members", "role", "unread", "mentions"},
	"group":    {"jid", "id", "name", "role", "members", "unread", "mentions"},
	"identity": {"category", "type", "name"},
	"message":  {"from", "id", "to", "type"},
	"presence": {"from", "id", "to", "type"},
	"iq":       {"from", "id", "to", "type"},
}
var generic = []string{"by", "queryid", "var", "type", "to", "id", "position", "name", "value", "index", "complete", "stamp"}

func rank(el, attr string) int {
	o, ok := orders[el]
	if !ok {
		o = generic
	}
	for i, a := range o {
		if a == attr {
			return i
		}
	}
	return 99
}

func write(b *strings.Builder, s *xmppclient.Stanza, parentNS string, depth int, from string) {
	ind := strings.Repeat("  ", depth)
	b.WriteString(ind + "<" + s.Name.Local)
	var attrs []string
	var names []string
	if s.Name.Space != parentNS {
		attrs = append(attrs, fmt.Sprintf(`xmlns="%s"`, escAttr(s.Name.Space)))
		names = append(names, "xmlns")
	}
	if from != "" {
		attrs = append(attrs, fmt.Sprintf(`from="%s"`, escAttr(from)))
		names = append(names, "from")
	}
	for _, a := range s.Attrs {
		if a.Name.Space != "" {
			continue // xml:lang added by the server
		}
		if a.Name.Local == "from" && from != "" {
			continue
		}
		attrs = append(attrs, fmt.Sprintf(`%s="%s"`, a.Name.Local, escAttr(a.Value)))
		names = append(names, a.Name.Local)
	}
	idx := make([]int, len(attrs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool {
		ni, nj := names[idx[i]], names[idx[j]]
		if ni == "xmlns" {
			return nj != "xmlns"
		}
		if nj == "xmlns" {
			return false
		}
		return rank(s.Name.Local, ni) < rank(s.Name.Local, nj)
	})
	sorted := make([]string, len(attrs))
	for i, k := range idx {
		sorted[i] = attrs[k]
	}
	if depth == 0 && len(sorted) > 1 {
		for i, a := range sorted {
			if i == 0 {
				b.WriteString(" " + a)
			} else {
				b.WriteString("\n" + ind + strings.Repeat(" ", len(s.Name.Local)+2) + a)
			}
		}
	} else {
		for _, a := range sorted {
			b.WriteString(" " + a)
		}
	}
	if len(s.Children) == 0 && s.Text == "" {
		b.WriteString("/>\n")
		return
	}
	b.WriteString(">")
	if len(s.Children) == 0 {
		t := s.Text
		if len(t) > 200 {
			t = t[:40] + "…(" + fmt.Sprint(len(s.Text)) + " bytes)"
		}
		b.WriteString(esc(t) + "</" + s.Name.Local + ">\n")
		return
	}
	b.WriteString("\n")
	if strings.TrimSpace(s.Text) != "" {
		b.WriteString(ind + "  " + esc(strings.TrimSpace(s.Text)) + "\n")
	}
	for _, c := range s.Children {
		write(b, c, s.Name.Space, depth+1, "")
	}
	b.WriteString(ind + "</" + s.Name.Local + ">\n")
}

var seq int

func settle() {
	time.Sleep(500 * time.Millisecond)
	for _, c := range clients {
		seq++
		id := fmt.Sprintf("sync-%d", seq)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c.c.SendRaw(ctx, `<iq type="get" id="`+id+`" to="`+svc+`"><ping xmlns="urn:xmpp:ping"/></iq>`)
		_, err := c.c.Expect(ctx, func(s *xmppclient.Stanza) bool { return s.ID() == id })
		cancel()
		if err != nil {
			fmt.Println("SYNC FAILED", c.name, err)
		}
	}
}

func dump() map[*cl][]*xmppclient.Stanza {
	got := map[*cl][]*xmppclient.Stanza{}
	for _, c := range clients {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			s, err := c.c.Next(ctx)
			cancel()
			if err != nil {
				break
			}
			fmt.Printf("--- received by %s:\n%s", rep.Replace(c.name), pretty(s, ""))
			got[c] = append(got[c], s)
		}
	}
	return got
}

func step(label string, c *cl, text string) map[*cl][]*xmppclient.Stanza {
	fmt.Printf("\n===== %s\n", label)
	s, err := xmppclient.ParseStanza(text)
	if err != nil {
		panic(err)
	}
	fmt.Printf("--- sent by %s:\n%s", rep.Replace(c.name), pretty(s, c.c.JID().String()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.c.SendRaw(ctx, text); err != nil {
		panic(err)
	}
	settle()
	return dump()
}

const (
	gc = "http://jabber.org/protocol/groupchat"
)

func g(id string) string { return id + "@" + svc }

func main() {
	flag.Parse()
	if *phase == 2 {
		phase2()
		return
	}
	aliceP := login("alice", "phone")
	aliceD := login("alice", "desk")
	bob := login("bob", "pda")
	carol := login("carol", "tablet")
	dave := login("dave", "laptop")
	for _, c := range clients {
		step("directed presence", c, `<presence to="`+svc+`"/>`)
	}
	step("disco#items server", aliceP, `<iq type="get" id="h7ns81g" to="localhost"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`)
	step("disco#info service", aliceP, `<iq type="get" id="lx09df27" to="`+svc+`"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
	step("ping", aliceP, `<iq type="get" id="p1" to="`+svc+`"><ping xmlns="urn:xmpp:ping"/></iq>`)
	step("find by name not found", aliceP, `<iq type="get" id="f1" to="`+svc+`"><query xmlns="`+gc+`#groupinfo"><property name="name" value="Witches"/></query></iq>`)
	step("create", aliceP, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#creategroup"/><properties><property name="name">Witches</property><property name="members"><item jid="bob@localhost" nick="Bob" mid="bob" role="member"/></property></properties></presence>`)
	step("create at service", aliceP, `<presence to="`+svc+`"><x xmlns="`+gc+`#creategroup"/><properties><property name="name">Book club</property></properties></presence>`)
	step("create conflict", aliceP, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#creategroup"/><properties><property name="name">Witches again</property></properties></presence>`)
	step("create system not admin", aliceP, `<presence to="`+g("announce")+`"><x xmlns="`+gc+`#creategroup"/><properties><property name="name">News</property><property name="type">system</property></properties></presence>`)
	step("create empty name", aliceP, `<presence to="`+g("noname")+`"><x xmlns="`+gc+`#creategroup"/><properties><property name="name"></property></properties></presence>`)
	step("create bad jid", aliceP, `<presence to="`+g("badjid")+`"><x xmlns="`+gc+`#creategroup"/><properties><property name="name">x</property><property name="members"><item jid="not a jid@@"/></property></properties></presence>`)
	step("items alice", aliceP, `<iq type="get" id="i1" to="`+svc+`"><query xmlns="`+gc+`#items"/></iq>`)
	step("disco items service bob", bob, `<iq type="get" id="di1" to="`+svc+`"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`)
	step("disco info group", dave, `<iq type="get" id="dg1" to="`+g("coven")+`"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
	step("disco items group", bob, `<iq type="get" id="dg2" to="`+g("coven")+`"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`)
	step("groupinfo", bob, `<iq type="get" id="ik3vs715" to="`+g("coven")+`"><query xmlns="`+gc+`#groupinfo"/></iq>`)
	step("groupinfo nonmember", dave, `<iq type="get" id="gi2" to="`+g("coven")+`"><query xmlns="`+gc+`#groupinfo"/></iq>`)
	step("find by name", dave, `<iq type="get" id="f2" to="`+svc+`"><query xmlns="`+gc+`#groupinfo"><property name="name" value="Witches"/></query></iq>`)
	step("groupinfo not exists", bob, `<iq type="get" id="gi3" to="`+g("nosuch")+`"><query xmlns="`+gc+`#groupinfo"/></iq>`)
	step("groupinfo service no name", bob, `<iq type="get" id="gi4" to="`+svc+`"><query xmlns="`+gc+`#groupinfo"/></iq>`)
	step("members", bob, `<iq type="get" id="member3" to="`+g("coven")+`"><query xmlns="`+gc+`#members"/></iq>`)
	step("members nonmember", dave, `<iq type="get" id="member4" to="`+g("coven")+`"><query xmlns="`+gc+`#members"/></iq>`)
	step("memberinfo nick", bob, `<iq type="get" id="mi1" to="`+g("coven")+`"><query xmlns="`+gc+`#memberinfo"><property name="nick" value="Bob"/></query></iq>`)
	step("memberinfo mid", bob, `<iq type="get" id="mi2" to="`+g("coven")+`"><query xmlns="`+gc+`#memberinfo"><property name="mid" value="alice"/></query></iq>`)
	step("memberinfo jid", bob, `<iq type="get" id="mi3" to="`+g("coven")+`"><query xmlns="`+gc+`#memberinfo"><property name="jid" value="alice@localhost/phone"/></query></iq>`)
	step("memberinfo unknown", bob, `<iq type="get" id="mi4" to="`+g("coven")+`"><query xmlns="`+gc+`#memberinfo"><property name="nick" value="nobody"/></query></iq>`)
	step("memberinfo none", bob, `<iq type="get" id="mi5" to="`+g("coven")+`"><query xmlns="`+gc+`#memberinfo"/></iq>`)
	step("add by member", bob, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#addmember"/><item jid="carol@localhost" nick="Carol" mid="carol" role="member"/></presence>`)
	step("add", aliceP, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#addmember"/><item jid="carol@localhost/tablet" nick="Carol" mid="carol" role="member"/></presence>`)
	step("add conflict", aliceP, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#addmember"/><item jid="carol@localhost"/></presence>`)
	step("add owner role", aliceP, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#addmember"/><item jid="dave@localhost" role="owner"/></presence>`)
	step("add none", aliceP, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#addmember"/></presence>`)
	step("rename by member", bob, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#updategroup"/><properties><property name="name">Bob's</property></properties></presence>`)
	step("rename", aliceP, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#updategroup"/><properties><property name="name">The Coven</property></properties></presence>`)
	step("update nothing", aliceP, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#updategroup"/></presence>`)
	step("message", aliceP, `<message type="groupchat" id="hysf1v37" to="`+g("coven")+`"><body>Harpier cries: 'tis time, 'tis time.</body></message>`)
	gotB1 := step("message extensions", bob, `<message type="groupchat" id="b1" to="`+g("coven")+`"><body>Agreed.</body><origin-id xmlns="urn:xmpp:sid:0" id="b1-origin"/><stanza-id xmlns="urn:xmpp:sid:0" by="`+g("coven")+`" id="999"/><reply xmlns="urn:xmpp:reply:0" to="`+g("coven")+`/alice" id="hysf1v37"/><request xmlns="urn:xmpp:receipts"/><active xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	b1sid := ""
	for _, st := range gotB1[carol] {
		if x := st.Child("urn:xmpp:sid:0", "stanza-id"); x != nil {
			b1sid = x.Attr("id")
		}
	}
	step("mention", aliceP, `<message type="groupchat" id="m1" to="`+g("coven")+`"><body>@Bob look</body><x xmlns="jabber:x:data" type="at" id="bob@localhost/pda"/></message>`)
	step("chat state only", bob, `<message type="groupchat" id="cs1" to="`+g("coven")+`"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	step("no id message", carol, `<message type="groupchat" to="`+g("coven")+`"><body>hi all</body></message>`)
	step("items bob", bob, `<iq type="get" id="i2" to="`+svc+`"><query xmlns="`+gc+`#items"/></iq>`)
	step("items carol", carol, `<iq type="get" id="i3" to="`+svc+`"><query xmlns="`+gc+`#items"/></iq>`)
	step("read with id", bob, `<message type="groupchat" to="`+g("coven")+`"><read xmlns="http://jabber.org/protocol/chatstates" id="hysf1v37"/></message>`)
	step("items bob 2", bob, `<iq type="get" id="i4" to="`+svc+`"><query xmlns="`+gc+`#items"/></iq>`)
	step("read without id", bob, `<message type="groupchat" to="`+g("coven")+`"><read xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	step("read own", bob, `<message type="groupchat" to="`+g("coven")+`"><read xmlns="http://jabber.org/protocol/chatstates" id="b1"/></message>`)
	step("read by origin-id", bob, `<message type="groupchat" id="r8" to="`+g("coven")+`"><read xmlns="http://jabber.org/protocol/chatstates" id="b1-origin"/></message>`)
	step("read by archive id", carol, `<message type="groupchat" to="`+g("coven")+`"><read xmlns="http://jabber.org/protocol/chatstates" id="`+b1sid+`"/></message>`)
	step("read unknown", bob, `<message type="groupchat" id="r9" to="`+g("coven")+`"><read xmlns="http://jabber.org/protocol/chatstates" id="nosuch"/></message>`)
	step("items bob 3", bob, `<iq type="get" id="i5" to="`+svc+`"><query xmlns="`+gc+`#items"/></iq>`)
	step("readers", aliceP, `<iq type="get" id="rd1" to="`+g("coven")+`"><query xmlns="`+gc+`#readers" id="hysf1v37"/></iq>`)
	step("readers not sender", bob, `<iq type="get" id="rd2" to="`+g("coven")+`"><query xmlns="`+gc+`#readers" id="hysf1v37"/></iq>`)
	step("readers unknown", bob, `<iq type="get" id="rd3" to="`+g("coven")+`"><query xmlns="`+gc+`#readers" id="nosuch"/></iq>`)
	step("mam form", bob, `<iq type="get" id="mf1" to="`+g("coven")+`"><query xmlns="urn:xmpp:mam:2"/></iq>`)
	got := step("mam page 1", carol, `<iq type="set" id="mam1" to="`+g("coven")+`"><query xmlns="urn:xmpp:mam:2" queryid="q1"><set xmlns="http://jabber.org/protocol/rsm"><max>2</max></set></query></iq>`)
	last := ""
	for _, s := range got[carol] {
		if s.ID() == "mam1" {
			last = s.Find("fin/set/last").Text
		}
	}
	step("mam page 2", carol, `<iq type="set" id="mam2" to="`+g("coven")+`"><query xmlns="urn:xmpp:mam:2" queryid="q2"><set xmlns="http://jabber.org/protocol/rsm"><max>2</max><after>`+last+`</after></set></query></iq>`)
	step("mam last page", bob, `<iq type="set" id="mam3" to="`+g("coven")+`"><query xmlns="urn:xmpp:mam:2" queryid="q3"><set xmlns="http://jabber.org/protocol/rsm"><max>1</max><before/></set></query></iq>`)
	step("mam by time", bob, `<iq type="set" id="mam4" to="`+g("coven")+`"><query xmlns="urn:xmpp:mam:2" queryid="q4"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2</value></field><field var="start"><value>2000-01-01T00:00:00Z</value></field></x><set xmlns="http://jabber.org/protocol/rsm"><max>1</max></set></query></iq>`)
	step("mam non member", dave, `<iq type="set" id="mam5" to="`+g("coven")+`"><query xmlns="urn:xmpp:mam:2" queryid="q5"/></iq>`)
	step("mam at service", dave, `<iq type="set" id="mam6" to="`+svc+`"><query xmlns="urn:xmpp:mam:2" queryid="q6"/></iq>`)
	step("mam bad field", bob, `<iq type="set" id="mam7" to="`+g("coven")+`"><query xmlns="urn:xmpp:mam:2" queryid="q7"><x xmlns="jabber:x:data" type="submit"><field var="fulltext"><value>x</value></field></x></query></iq>`)
	got = step("catchup first page", carol, `<iq type="get" id="cu1" to="`+svc+`"><query xmlns="`+gc+`#catchup"><set xmlns="http://jabber.org/protocol/rsm"><max>3</max><after>0</after></set></query></iq>`)
	last = ""
	for _, s := range got[carol] {
		if s.ID() == "cu1" {
			if l := s.Find("query/set/last"); l != nil {
				last = l.Text
			}
		}
	}
	step("catchup next page", carol, `<iq type="get" id="cu2" to="`+svc+`"><query xmlns="`+gc+`#catchup"><set xmlns="http://jabber.org/protocol/rsm"><max>3</max><after>`+last+`</after></set></query></iq>`)
	step("catchup no position", bob, `<iq type="get" id="cu3" to="`+svc+`"><query xmlns="`+gc+`#catchup"><set xmlns="http://jabber.org/protocol/rsm"><max>2</max></set></query></iq>`)
	step("catchup at group", bob, `<iq type="get" id="cu4" to="`+g("coven")+`"><query xmlns="`+gc+`#catchup"/></iq>`)
	step("resend", aliceP, `<message type="groupchat" id="hysf1v37" to="`+g("coven")+`"><body>Harpier cries: 'tis time, 'tis time.</body></message>`)
	step("resend origin", bob, `<message type="groupchat" id="b1-retry" to="`+g("coven")+`"><body>Agreed.</body><origin-id xmlns="urn:xmpp:sid:0" id="b1-origin"/></message>`)
	step("chat type", bob, `<message type="chat" id="c1" to="`+g("coven")+`"><body>hi</body></message>`)
	step("to occupant", bob, `<message type="groupchat" id="c2" to="`+g("coven")+`/alice"><body>hi</body></message>`)
	step("empty body", bob, `<message type="groupchat" id="c3" to="`+g("coven")+`"><body></body></message>`)
	step("non member post", dave, `<message type="groupchat" id="spam1" to="`+g("coven")+`"><body>spam</body></message>`)
	step("no group post", bob, `<message type="groupchat" id="c4" to="`+g("nosuch")+`"><body>hello?</body></message>`)
	step("big body", bob, `<message type="groupchat" id="big" to="`+g("coven")+`"><body>`+strings.Repeat("x", 64<<10+1)+`</body></message>`)
	step("unknown iq", bob, `<iq type="get" id="u1" to="`+svc+`"><query xmlns="urn:example:unknown"/></iq>`)
	step("iq occupant", bob, `<iq type="get" id="u2" to="`+g("coven")+`/alice"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
	step("iq set items", bob, `<iq type="set" id="u3" to="`+svc+`"><query xmlns="`+gc+`#items"/></iq>`)
	step("iq empty", bob, `<iq type="get" id="u4" to="`+svc+`"/>`)
	step("members at service", bob, `<iq type="get" id="u5" to="`+svc+`"><query xmlns="`+gc+`#members"/></iq>`)
	step("error never answered", bob, `<message type="error" id="e1" to="`+g("coven")+`"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
	step("add admin", aliceP, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#addmember"/><item jid="dave@localhost" nick="Dave" role="admin"/></presence>`)
	step("admin removes member", dave, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#removemember"/><item jid="carol@localhost"/></presence>`)
	step("removed posts", carol, `<message type="groupchat" id="c5" to="`+g("coven")+`"><body>still here?</body></message>`)
	step("mam after removal", carol, `<iq type="set" id="mam9" to="`+g("coven")+`"><query xmlns="urn:xmpp:mam:2" queryid="q9"><set xmlns="http://jabber.org/protocol/rsm"><max>1</max><before/></set></query></iq>`)
	step("catchup after removal", carol, `<iq type="get" id="cu5" to="`+svc+`"><query xmlns="`+gc+`#catchup"><set xmlns="http://jabber.org/protocol/rsm"><max>2</max><before/></set></query></iq>`)
	step("admin removes owner", dave, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#removemember"/><item mid="alice"/></presence>`)
	step("remove unknown", dave, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#removemember"/><item nick="Nobody"/></presence>`)
	step("leave", bob, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#removemember"/><item jid="bob@localhost"/></presence>`)
	step("handover by admin", dave, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#updategroup"/><properties><property name="owner">dave@localhost</property></properties></presence>`)
	step("handover", aliceP, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#updategroup"/><properties><property name="owner">dave@localhost</property></properties></presence>`)
	step("members after", dave, `<iq type="get" id="member5" to="`+g("coven")+`"><query xmlns="`+gc+`#members"/></iq>`)
	step("delete by admin", aliceP, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#deletegroup"/></presence>`)
	step("delete", dave, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#deletegroup"/></presence>`)
	step("groupinfo deleted", dave, `<iq type="get" id="gone" to="`+g("coven")+`"><query xmlns="`+gc+`#groupinfo"/></iq>`)
	step("post deleted", dave, `<message type="groupchat" id="late" to="`+g("coven")+`"><body>hello?</body></message>`)
	step("recreate deleted", dave, `<presence to="`+g("coven")+`"><x xmlns="`+gc+`#creategroup"/><properties><property name="name">Coven II</property></properties></presence>`)
	step("unavailable", aliceD, `<presence type="unavailable" to="`+svc+`"/>`)
	step("mam removed member", carol, `<iq type="set" id="mam8" to="`+g("coven")+`"><query xmlns="urn:xmpp:mam:2" queryid="q8"/></iq>`)
	step("items alice end", aliceP, `<iq type="get" id="i9" to="`+svc+`"><query xmlns="`+gc+`#items"/></iq>`)
	for _, c := range clients {
		c.c.Close()
	}
}

func phase2() {
	alice := login("alice", "phone")
	bob := login("bob", "pda")
	for _, c := range clients {
		step("directed presence", c, `<presence to="`+svc+`"/>`)
	}
	step("name too long", alice, `<presence to="`+g("long")+`"><x xmlns="`+gc+`#creategroup"/><properties><property name="name">A very long name</property></properties></presence>`)
	step("too many members", alice, `<presence to="`+g("big")+`"><x xmlns="`+gc+`#creategroup"/><properties><property name="name">Big</property><property name="members"><item jid="bob@localhost"/><item jid="carol@localhost"/></property></properties></presence>`)
	step("create small", alice, `<presence to="`+g("small")+`"><x xmlns="`+gc+`#creategroup"/><properties><property name="name">Small</property></properties></presence>`)
	step("oversized", alice, `<message type="groupchat" id="huge" to="`+g("small")+`"><body>`+strings.Repeat("x", 3000)+`</body></message>`)
	fmt.Println("\n===== rate")
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		alice.c.SendRaw(ctx, fmt.Sprintf(`<message type="groupchat" id="r%d" to="%s"><body>%d</body></message>`, i, g("small"), i))
	}
	settle()
	dump()
	_ = bob
	for _, c := range clients {
		c.c.Close()
	}
}
