package loadtest

import (
	"context"
	"fmt"
	"strings"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// The differences between the systems while forming groups: addresses,
// coming online, creating a group or joining a room. Posting and receiving
// are the same XML for all of them: <message type="groupchat"/> to the bare
// group or room JID, reflected to every member, the sender included.

// roomJID returns the bare JID of the group or room named name.
func roomJID(sys System, name string) string {
	if sys.component() {
		return name + "@" + serviceJID
	}
	return name + "@" + mucDomain
}

// place gives m its addresses in the group or room before it logs in.
func place(sys System, m *member, room string) {
	m.room = room
	m.occupant = ""
	if !sys.component() {
		m.occupant = room + "/" + m.user
	}
}

// comeOnline does what a client of sys does after login. For groupchat,
// the directed presence to the service JID that makes the resource online
// for it, then a ping round trip so the presence is known to have been
// handled. A MUC occupant only needs its join presence (joinRoom).
func comeOnline(ctx context.Context, sys System, m *member) error {
	if !sys.component() {
		return nil
	}
	id := "online-" + m.user
	_, err := m.iq(ctx, id, `<presence to="`+serviceJID+`"/>`+
		`<iq type="get" id="`+id+`" to="`+serviceJID+`"><ping xmlns="`+nsPing+`"/></iq>`)
	return err
}

// formGroup makes ms[0] create the group or room and every member part of
// it, and returns once each member has seen that it is.
func formGroup(ctx context.Context, sys System, ms []*member) error {
	if sys.component() {
		return createGroup(ctx, ms)
	}
	// The first occupant creates the room (unlocked at once by the
	// prosody package's configuration); the others join it.
	if err := joinRoom(ctx, ms[0]); err != nil {
		return err
	}
	return parallel(len(ms)-1, dialParallel, func(i int) error { return joinRoom(ctx, ms[i+1]) })
}

// createGroup sends one #creategroup presence listing every member and
// waits for each member's creategroup broadcast.
func createGroup(ctx context.Context, ms []*member) error {
	owner := ms[0]
	name := strings.SplitN(owner.room, "@", 2)[0]
	var b strings.Builder
	fmt.Fprintf(&b, `<presence to="%s"><x xmlns="%s"/><properties><property name="name">%s</property><property name="members">`,
		owner.room, nsCreate, name)
	for _, m := range ms[1:] {
		fmt.Fprintf(&b, `<item jid="%s@%s" role="member"/>`, m.user, xmppDomain)
	}
	b.WriteString(`</property></properties></presence>`)
	if err := owner.send(ctx, b.String()); err != nil {
		return err
	}
	for _, m := range ms {
		s, err := m.await(ctx, "the creategroup broadcast of "+m.room, func(s *xmppclient.Stanza) bool {
			return s.Is("", "presence") && s.From() == m.room
		})
		if err != nil {
			return err
		}
		if s.Type() == "error" {
			return fmt.Errorf("creating %s: %s", m.room, s.Raw)
		}
	}
	return nil
}

// joinRoom enters m's room as an XEP-0045 occupant without history and
// waits for its own presence, which the room sends last.
func joinRoom(ctx context.Context, m *member) error {
	if err := m.send(ctx, `<presence to="`+m.occupant+`"><x xmlns="`+nsMUC+`"><history maxstanzas="0"/></x></presence>`); err != nil {
		return err
	}
	s, err := m.await(ctx, "its own presence in "+m.room, func(s *xmppclient.Stanza) bool {
		return s.Is("", "presence") && s.From() == m.occupant
	})
	if err != nil {
		return err
	}
	if s.Type() == "error" {
		return fmt.Errorf("joining %s: %s", m.room, s.Raw)
	}
	return nil
}

// hasFeature asks m's room for disco#info and reports whether it lists
// feature.
func hasFeature(ctx context.Context, m *member, feature string) (bool, error) {
	id := "disco-" + m.user
	res, err := m.iq(ctx, id, `<iq type="get" id="`+id+`" to="`+m.room+`"><query xmlns="`+nsDiscoInfo+`"/></iq>`)
	if err != nil {
		return false, err
	}
	for _, f := range res.Child(nsDiscoInfo, "query").ChildrenNamed("", "feature") {
		if f.Attr("var") == feature {
			return true, nil
		}
	}
	return false, nil
}
