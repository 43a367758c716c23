package service_test

import (
	"context"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/service"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// TestResendsTheWindowForgotAreFoundInTheArchive: a group remembers only
// its last few messages in memory (here 2, and its state is dropped after
// every use), yet a resend of an older message, by its id or by its
// XEP-0359 origin-id, gets the original's reflection back and stores
// nothing; a new message reusing another sender's id is stored.
func TestResendsTheWindowForgotAreFoundInTheArchive(t *testing.T) {
	lim := domain.DefaultLimits()
	lim.DedupWindow = 2
	svc, store, out := liveServiceWith(t, service.Config{Domain: benchDomain, Limits: lim, GroupCacheBytes: 1})
	group := "window@" + benchDomain
	handle(t, svc, `<presence from="`+bobPhone+`" to="`+benchDomain+`"/>`)
	createGroup(t, svc, out, "window", "bob@example.test")
	archiveID := func(n *xmlnode.Node) string {
		for _, c := range n.Children {
			if !c.IsText() && c.Name.Space == protocol.NSSID && c.Name.Local == "stanza-id" {
				return c.Attr("id")
			}
		}
		t.Fatalf("no stanza-id in %s", n)
		return ""
	}
	// postAs posts and returns the archive id of the reflection that has
	// the id reflected: a resend is answered with its original.
	postAs := func(from, id, origin, body, reflected string) string {
		t.Helper()
		extra := ""
		if origin != "" {
			extra = `<origin-id xmlns="urn:xmpp:sid:0" id="` + origin + `"/>`
		}
		handle(t, svc, `<message from="`+from+`" to="`+group+`" type="groupchat" id="`+id+`"><body>`+body+`</body>`+extra+`</message>`)
		return archiveID(out.next(t, from, "the reflection of "+reflected, func(n *xmlnode.Node) bool {
			return n.Name.Local == "message" && n.Attr("id") == reflected
		}))
	}
	post := func(from, id, origin, body string) string {
		t.Helper()
		return postAs(from, id, origin, body, id)
	}
	first := post(alicePhone, "a1", "", "one")
	withOrigin := post(alicePhone, "a2", "o-2", "two")
	for _, id := range []string{"a3", "a4", "a5", "a6"} {
		post(alicePhone, id, "", "more")
	}
	stored := func() int {
		evs, err := store.ReadStream(context.Background(), "window", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	before := stored()
	if got := post(alicePhone, "a1", "", "one"); got != first {
		t.Errorf("a resend of a1 by its id came back as %s, want the original %s", got, first)
	}
	// A client resending after a reconnect keeps the origin-id and may
	// give the stanza a new id.
	if got := postAs(alicePhone, "a2-again", "o-2", "two", "a2"); got != withOrigin {
		t.Errorf("a resend of a2 by its origin-id came back as %s, want the original %s", got, withOrigin)
	}
	if n := stored(); n != before {
		t.Errorf("the resends stored %d events", n-before)
	}
	// Bob reusing alice's id posts a message of his own.
	if got := post(bobPhone, "a1", "", "mine"); got == first {
		t.Errorf("bob's message with alice's id was taken for hers")
	}
	if n := stored(); n != before+1 {
		t.Errorf("bob's message stored %d events, want 1", n-before)
	}
}
