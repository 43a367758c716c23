package protocol

import (
	"net/url"
	"strings"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Request is what an incoming stanza asks of the service.
type Request interface{ request() }

// GroupCommand is a presence that changes a group: NS names the operation
// (NSCreate, NSUpdate, NSDelete, NSAdd, NSRemove). For a creation sent to the
// service address, Group is empty and the service assigns an id.
type GroupCommand struct {
	NS      string
	Group   string
	Command domain.Command
	// SystemType is true when a creation asked for a system group.
	SystemType bool
	// TypeGiven is true when a creation named its type; otherwise the
	// service decides (system for its administrators, customized else).
	TypeGiven bool
}

// Post is a groupchat message to a group.
type Post struct {
	Group   string
	Command domain.PostMessage
}

// Read is a read receipt: MessageID names the message read (its client id
// or its archive id), or is empty for "everything so far". Marker is set
// when the read came as an XEP-0333 displayed marker: the marker itself
// (a Transient, or a Post when the client asked to store it) reaches the
// members like any signal, and the read it implies is never answered with
// an error (markers get none).
type Read struct {
	Group     string
	MessageID string
	Marker    Request
}

// Transient is a message to a group that carries only signals (chat
// states, receipts, markers) and envelope metadata: members receive it
// live, as in MUC, but it is neither archived, counted as unread nor
// pushed.
type Transient struct {
	Group   string
	ID      string
	Payload string
}

// Availability is a presence without a group operation: the sending
// resource comes online (or goes offline).
type Availability struct{ Online bool }

// Bounce is a delivery error from a user's resource: the resource is gone.
type Bounce struct{}

// ItemsQuery asks for the requester's groups.
type ItemsQuery struct{ Page Page }

// GroupInfoQuery asks for one group's description.
type GroupInfoQuery struct{ Group string }

// FindByName asks for the group with a given name.
type FindByName struct{ Name string }

// MembersQuery asks for a group's member list.
type MembersQuery struct {
	Group string
	Page  Page
}

// MemberInfoQuery asks for one member of a group, by nick, mid or jid.
type MemberInfoQuery struct {
	Group string
	By    domain.MemberSelector
}

// DiscoInfo is a service discovery info query (XEP-0030).
type DiscoInfo struct {
	Group string
}

// DiscoItems is a service discovery items query (XEP-0030), paged as
// XEP-0059 §3 allows.
type DiscoItems struct {
	Group string
	Page  Page
}

// Ping is an XEP-0199 ping.
type Ping struct{}

func (GroupCommand) request()    {}
func (Post) request()            {}
func (Read) request()            {}
func (Transient) request()       {}
func (Availability) request()    {}
func (Bounce) request()          {}
func (ItemsQuery) request()      {}
func (GroupInfoQuery) request()  {}
func (FindByName) request()      {}
func (MembersQuery) request()    {}
func (MemberInfoQuery) request() {}
func (DiscoInfo) request()       {}
func (DiscoItems) request()      {}
func (Ping) request()            {}

// Parse turns a stanza into a request. It returns (nil, nil) for stanzas the
// service takes note of without answering (IQ results, subscriptions, chat
// state notifications) and a *Error for requests to refuse.
func Parse(s Stanza) (Request, error) {
	switch s.Kind {
	case "presence":
		return parsePresence(s)
	case "message":
		return parseMessage(s)
	case "iq":
		return parseIQ(s)
	}
	return nil, nil
}

var groupOps = []string{NSCreate, NSUpdate, NSDelete, NSAdd, NSRemove}

// deliveryErrors are the conditions of an error that tells a resource is
// gone, those on which Prosody's MUC removes an occupant (XEP-0045 "ghost"
// occupants; kickable_error_conditions in muc/util.lib.lua). Others (a
// client refusing a stanza it does not understand, a server's rate limit)
// say nothing about whether the resource is still there.
var deliveryErrors = map[string]bool{
	"gone":                    true,
	"internal-server-error":   true,
	"item-not-found":          true,
	"jid-malformed":           true,
	"recipient-unavailable":   true,
	"redirect":                true,
	"remote-server-not-found": true,
	"remote-server-timeout":   true,
	"service-unavailable":     true,
}

// bounce reads an error message or presence: a Bounce if it is a delivery
// error from a full JID, else nothing. An error stanza without an <error/>
// element counts, as in Prosody's MUC; one whose <error/> has no defined
// condition does not. Only a full JID names the resource that is gone.
func bounce(s Stanza) Request {
	if s.From.Resourcepart() == "" {
		return nil
	}
	e := s.Node.Child("", "error")
	if e == nil {
		return Bounce{}
	}
	for _, c := range e.Children {
		if c.Name.Space == NSStanzas && c.Name.Local != "text" && !c.IsText() {
			if deliveryErrors[c.Name.Local] {
				return Bounce{}
			}
			return nil
		}
	}
	return nil
}

// groupOp is the namespace of the seed's group operation a presence
// carries (#creategroup, …), or "".
func groupOp(s Stanza) string {
	for _, ns := range groupOps {
		if s.Node.ChildNS(ns) != nil {
			return ns
		}
	}
	return ""
}

func hasGroupOp(s Stanza) bool { return groupOp(s) != "" }

func parsePresence(s Stanza) (Request, error) {
	if s.Type != "error" && !hasGroupOp(s) {
		if r, err, ok := parseRoomPresence(s); ok {
			return r, err
		}
	}
	switch s.Type {
	case "error":
		return bounce(s), nil
	case "unavailable":
		return Availability{Online: false}, nil
	case "":
	default:
		// Subscriptions and probes mean nothing to a group.
		return nil, nil
	}
	op := groupOp(s)
	if op == "" {
		return Availability{Online: true}, nil
	}
	if s.To.Resourcepart() != "" && s.Group() == "" {
		return nil, ErrBadRequest.With("address the group, not an occupant of the service")
	}
	group := s.Group()
	if group == "" && op != NSCreate {
		return nil, ErrBadRequest.With("address the group's JID")
	}
	props := properties(s.Node)
	by := s.Requester()
	cmd := GroupCommand{NS: op, Group: group}
	var err error
	switch op {
	case NSCreate:
		if err := checkMID(props["mid"]); err != nil {
			return nil, err
		}
		c := domain.CreateGroup{GroupID: group, Name: props["name"], Type: domain.TypeCustomized,
			Creator: domain.Member{JID: by, MID: props["mid"], Nick: props["nick"]}}
		if t := props["type"]; t != "" {
			cmd.TypeGiven = true
			switch domain.GroupType(t) {
			case domain.TypeSystem:
				cmd.SystemType = true
				c.Type = domain.TypeSystem
			case domain.TypeCustomized:
			default:
				return nil, ErrBadRequest.With("unknown group type " + t)
			}
		}
		if c.Members, err = memberItems(s.Node); err != nil {
			return nil, err
		}
		cmd.Command = c
	case NSUpdate:
		c := domain.UpdateGroup{By: by, Name: props["name"]}
		if o := props["owner"]; o != "" {
			j, err := address.Parse(o)
			if err != nil {
				return nil, ErrBadRequest.With("the owner is not a valid JID")
			}
			c.NewOwner = j.Bare().String()
		}
		if _, named := props["name"]; named && c.Name == "" {
			return nil, ErrBadRequest.With("the group name is empty")
		}
		cmd.Command = c
	case NSDelete:
		cmd.Command = domain.DeleteGroup{By: by}
	case NSAdd:
		c := domain.AddMembers{By: by}
		if c.Members, err = memberItems(s.Node); err != nil {
			return nil, err
		}
		if len(c.Members) == 0 {
			return nil, ErrBadRequest.With("no item names a member to add")
		}
		cmd.Command = c
	case NSRemove:
		c := domain.RemoveMembers{By: by}
		items := allItems(s.Node)
		for _, it := range items {
			sel := domain.MemberSelector{MID: it.Attr("mid"), Nick: it.Attr("nick")}
			if a := it.Attr("jid"); a != "" {
				j, err := address.Parse(a)
				if err != nil {
					return nil, ErrBadRequest.With("an item's jid is not a valid JID")
				}
				sel.JID = j.Bare().String()
			}
			c.Members = append(c.Members, sel)
		}
		if len(c.Members) == 0 {
			return nil, ErrBadRequest.With("no item names a member to remove")
		}
		cmd.Command = c
	}
	return cmd, nil
}

// properties reads <property name="..">value</property> elements, directly
// under n (IQ queries) or inside <properties> (presences): the value is the
// text or the value attribute. The first of a repeated name wins.
func properties(n *xmlnode.Node) map[string]string {
	out := map[string]string{}
	props := n.ChildrenNamed("", "property")
	if holder := n.Child("", "properties"); holder != nil {
		props = append(props, holder.ChildrenNamed("", "property")...)
	}
	for _, p := range props {
		name := p.Attr("name")
		if name == "" || name == "members" {
			continue
		}
		v := p.Attr("value")
		if v == "" {
			v = strings.TrimSpace(p.Text)
		}
		if _, seen := out[name]; !seen {
			out[name] = v
		}
	}
	return out
}

// allItems finds member items wherever a client may put them: directly in
// the presence (seed's addmember), inside the operation's <x/>, or in
// <property name="members"> (seed's creategroup).
func allItems(n *xmlnode.Node) []*xmlnode.Node {
	var items []*xmlnode.Node
	items = append(items, n.ChildrenNamed("", "item")...)
	for _, ns := range groupOps {
		if x := n.ChildNS(ns); x != nil {
			items = append(items, x.ChildrenNamed("", "item")...)
		}
	}
	if props := n.Child("", "properties"); props != nil {
		for _, p := range props.ChildrenNamed("", "property") {
			if p.Attr("name") == "members" {
				items = append(items, p.ChildrenNamed("", "item")...)
			}
		}
	}
	return items
}

func memberItems(n *xmlnode.Node) ([]domain.Member, error) {
	var out []domain.Member
	for _, it := range allItems(n) {
		a := it.Attr("jid")
		if a == "" {
			return nil, ErrBadRequest.With("an item has no jid")
		}
		j, err := address.Parse(a)
		if err != nil || j.Localpart() == "" {
			return nil, ErrBadRequest.With("an item's jid is not a valid user JID")
		}
		if err := checkMID(it.Attr("mid")); err != nil {
			return nil, err
		}
		out = append(out, domain.Member{
			JID: j.Bare().String(), MID: it.Attr("mid"), Nick: it.Attr("nick"), Role: domain.Role(it.Attr("role")),
		})
	}
	return out, nil
}

// checkMID refuses a member id that, in the form the domain keeps it, is
// not an XMPP resource in prepared form: the member's occupant address
// must be one the server accepts as it is. An id the domain refuses is
// left to it, to say why.
func checkMID(mid string) error {
	if mid == "" {
		return nil
	}
	n, err := domain.NormalizeMID(mid)
	if err != nil {
		return nil
	}
	if p, err := address.Resourceprep(n); err != nil || p != n {
		return ErrBadRequest.With("the mid cannot be the resource of an XMPP address (RFC 6122 resourceprep)")
	}
	return nil
}

// signalNS are namespaces of signals about messages, not messages: chat
// states (XEP-0085), delivery receipts (XEP-0184) and chat markers
// (XEP-0333). A message without a body carrying signals and nothing but
// envelope metadata beside them is delivered live (Transient) but neither
// archived, counted as unread nor pushed, unless it asks to be stored.
var signalNS = map[string]bool{
	NSChatStates:        true,
	"urn:xmpp:receipts": true,
	NSMarkers:           true,
}

// isEnvelope reports whether c, a child of the message msg, says how the
// stanza travels rather than what it says, so that it does not make a
// signal content: XEP-0359 ids (clients such as Monal and Smack add an
// origin-id to every message), the RFC 6121 thread (XEP-0333 sends markers
// in a thread), XEP-0334 hints (only hints, says its Business Rules) and
// XEP-0203 delays (added by whoever held the stanza).
func isEnvelope(c, msg *xmlnode.Node) bool {
	switch c.Name.Space {
	case NSSID:
		return c.Name.Local == "origin-id" || c.Name.Local == "stanza-id"
	case NSHints:
		return true
	case NSDelay:
		return c.Name.Local == "delay"
	case msg.Name.Space, NSClient, NSComponent:
		return c.Name.Local == "thread"
	}
	return false
}

func parseMessage(s Stanza) (Request, error) {
	switch s.Type {
	case "error":
		return bounce(s), nil
	case "groupchat":
	case "chat", "normal", "":
		if r, err, ok := parseRoomInvite(s); ok {
			return r, err
		}
		if s.Group() != "" && s.To.Resourcepart() != "" {
			return PrivateMessage{}, nil
		}
		return nil, ErrBadRequest.With("a group accepts only messages of type groupchat")
	default:
		return nil, ErrBadRequest.With("a group accepts only messages of type groupchat")
	}
	if s.Group() == "" || s.To.Resourcepart() != "" {
		return nil, ErrBadRequest.With("send group messages to the group's bare JID")
	}
	if r, err, ok := parseRetract(s); ok {
		return r, err
	}
	if r, err, ok := parseRoomSubject(s); ok {
		return r, err
	}
	n := s.Node
	body := n.Child("", "body")
	if read := n.Child(NSChatStates, "read"); read != nil && body == nil {
		return Read{Group: s.Group(), MessageID: read.Attr("id")}, nil
	}
	groupJID := s.GroupJID()
	cmd := domain.PostMessage{Sender: s.Requester(), ID: s.ID}
	if body != nil {
		cmd.Body = body.Text
	}
	var payload []byte
	var displayed *xmlnode.Node
	signals, content, store, noStore := false, false, false, false
	for _, c := range n.Children {
		if c.IsText() || c == body {
			continue
		}
		switch {
		case c.Name.Space == NSMUCUser:
			// Who sent a message is the service's to say (XEP-0313
			// §6.1.2 and XEP-0045 name the real JID in this element): a
			// client's own is dropped, never relayed or stored.
			continue
		case c.Name.Space == NSSID && c.Name.Local == "stanza-id":
			// XEP-0359: a client must not claim ids in the group's name.
			if by := c.Attr("by"); by == groupJID || strings.EqualFold(by, groupJID) || by == s.To.Domainpart() {
				continue
			}
		case c.Name.Space == NSSID && c.Name.Local == "origin-id":
			cmd.OriginID = c.Attr("id")
		case c.Name.Space == NSDataForms && c.Name.Local == "x" && c.Attr("type") == "at":
			if j, err := address.Parse(c.Attr("id")); err == nil {
				cmd.Mentions = append(cmd.Mentions, j.Bare().String())
			}
		case c.Name.Space == NSReference && c.Name.Local == "reference" && c.Attr("type") == "mention":
			mentionURI(&cmd, c.Attr("uri"), groupJID)
		case c.Name.Space == NSCorrect && c.Name.Local == "replace":
			cmd.Kind = domain.Correction
		case c.Name.Space == NSReactions && c.Name.Local == "reactions":
			if cmd.Kind == domain.PlainMessage {
				cmd.Kind = domain.Reaction
			}
		case c.Name.Space == NSMarkers && c.Name.Local == "displayed":
			if displayed == nil {
				displayed = c
			}
		case c.Name.Space == NSHints:
			switch c.Name.Local {
			case "store":
				store = true
			case "no-store", "no-permanent-store":
				noStore = true
			}
		}
		switch {
		case signalNS[c.Name.Space]:
			signals = true
		case !isEnvelope(c, n):
			content = true
		}
		payload = xmlnode.AppendXML(payload, c, n.Name.Space)
	}
	if noStore && (cmd.Body != "" || content) {
		// XEP-0334: not to be stored. Members online get it, as a signal;
		// it is not archived, so it is neither counted nor pushed.
		var all []byte
		if body != nil {
			all = xmlnode.AppendXML(all, body, n.Name.Space)
		}
		return Transient{Group: s.Group(), ID: s.ID, Payload: string(append(all, payload...))}, nil
	}
	if body == nil && !content {
		if !signals {
			// No body and no signal: nothing to relay.
			return nil, nil
		}
		var deliver Request = Transient{Group: s.Group(), ID: s.ID, Payload: string(payload)}
		if store && !noStore {
			// XEP-0334: a signal the client wants archived is stored like
			// a message, but as a signal: never unread, never pushed.
			cmd.Payload, cmd.Kind = string(payload), domain.StoredSignal
			deliver = Post{Group: s.Group(), Command: cmd}
		}
		if displayed != nil && displayed.Attr("id") != "" {
			// XEP-0333 §5: in a group the marker names the message by the
			// group's stanza-id; it also says the member read up to it.
			return Read{Group: s.Group(), MessageID: displayed.Attr("id"), Marker: deliver}, nil
		}
		return deliver, nil
	}
	if !content && cmd.Body == "" {
		// An empty <body/> beside envelope metadata only (an origin-id,
		// which most clients add to everything) says nothing.
		return nil, ErrBadRequest.With("the message is empty")
	}
	cmd.Payload = string(payload)
	return Post{Group: s.Group(), Command: cmd}, nil
}

// mentionURI adds the mention an XEP-0372 reference names by its XMPP URI
// (RFC 5122: xmpp:, an optional //authority, the JID percent-encoded, an
// optional ?query or #fragment): a user's JID mentions that bare JID, an
// occupant JID of the group mentions the member with that mid. Anything
// else (the group itself, another group's occupant, not a JID) mentions
// nobody.
func mentionURI(cmd *domain.PostMessage, uri, groupJID string) {
	rest, ok := strings.CutPrefix(uri, "xmpp:")
	if !ok {
		return
	}
	if auth, ok := strings.CutPrefix(rest, "//"); ok {
		_, rest, _ = strings.Cut(auth, "/")
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	raw, err := url.PathUnescape(rest)
	if err != nil {
		return
	}
	j, err := address.Parse(raw)
	if err != nil || j.Localpart() == "" {
		return
	}
	if j.Bare().String() == groupJID {
		if mid := j.Resourcepart(); mid != "" {
			cmd.MentionMIDs = append(cmd.MentionMIDs, mid)
		}
		return
	}
	cmd.Mentions = append(cmd.Mentions, j.Bare().String())
}

func parseIQ(s Stanza) (Request, error) {
	if s.Type != "get" && s.Type != "set" {
		return nil, nil
	}
	var q *xmlnode.Node
	for _, c := range s.Node.Children {
		if !c.IsText() {
			q = c
			break
		}
	}
	if q == nil {
		return nil, ErrBadRequest.With("the iq has no payload")
	}
	group := s.Group()
	if s.To.Resourcepart() != "" {
		return nil, ErrServiceUnavailable.With("occupant addresses answer no queries")
	}
	if r, err, ok := parseHistoryIQ(s, q); ok {
		return r, err
	}
	if r, err, ok := parsePushIQ(s, q); ok {
		return r, err
	}
	if r, err, ok := parseModerate(s, q); ok {
		return r, err
	}
	if r, err, ok := parseRoomAdminIQ(s, q); ok {
		return r, err
	}
	if s.Type == "get" {
		switch q.Name.Space {
		case NSDiscoInfo, NSDiscoItems:
			// The service and its groups have no nodes (XEP-0030 §3.2,
			// §4.2: a node that does not exist is item-not-found).
			if q.Name.Space == NSDiscoInfo && q.Attr("node") == "x-roomuser-item" && group != "" {
				return ReservedNick{Group: group}, nil
			}
			if q.Attr("node") != "" {
				return nil, ErrNotExists.With("no such node")
			}
			if q.Name.Space == NSDiscoInfo {
				return DiscoInfo{Group: group}, nil
			}
			p, err := parseListPage(q)
			return DiscoItems{Group: group, Page: p}, err
		case NSPing:
			return Ping{}, nil
		case NSItems:
			if group == "" {
				p, err := parseListPage(q)
				return ItemsQuery{Page: p}, err
			}
		case NSGroupInfo:
			if name, ok := properties(q)["name"]; ok {
				if name == "" {
					return nil, ErrBadRequest.With("the name to look up is empty")
				}
				return FindByName{Name: name}, nil
			}
			if group == "" {
				return nil, ErrBadRequest.With("ask the group's JID, or give a name property")
			}
			return GroupInfoQuery{Group: group}, nil
		case NSMembers:
			if group != "" {
				p, err := parseListPage(q)
				return MembersQuery{Group: group, Page: p}, err
			}
		case NSMemberInfo:
			if group == "" {
				break
			}
			props := properties(q)
			sel := domain.MemberSelector{Nick: props["nick"], MID: props["mid"]}
			if a := props["jid"]; a != "" {
				j, err := address.Parse(a)
				if err != nil {
					return nil, ErrBadRequest.With("the jid property is not a valid JID")
				}
				sel.JID = j.Bare().String()
			}
			if sel == (domain.MemberSelector{}) {
				return nil, ErrBadRequest.With("name the member with a nick, mid or jid property")
			}
			return MemberInfoQuery{Group: group, By: sel}, nil
		}
	}
	return nil, ErrServiceUnavailable.With("")
}
