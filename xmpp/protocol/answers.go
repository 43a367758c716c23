package protocol

import (
	"strconv"

	"github.com/uuchat/groupchat/domain"
)

// The payloads of the IQ results the service answers, each rendered here
// so that the wire format lives in one package and its tests can compare
// what the service sends with the protocol's examples. Each returns the
// payload alone; IQResult wraps it.

// GroupInfo is a group as #groupinfo and find-by-name describe it.
type GroupInfo struct {
	JID, ID, Name string
	Type          domain.GroupType
	Members       int
}

// GroupInfoResult renders the answer to #groupinfo, by group or by name:
// <query xmlns="#groupinfo"><item jid id name type members/></query>.
func GroupInfoResult(g GroupInfo) []byte {
	buf := AppendStart(nil, "query", false, A("xmlns", NSGroupInfo))
	buf = AppendStart(buf, "item", true,
		A("jid", g.JID), A("id", g.ID), A("name", g.Name),
		A("type", string(g.Type)), A("members", strconv.Itoa(g.Members)))
	return AppendEnd(buf, "query")
}

// UserGroup is a group as one of its members sees it in #items and
// catch-up: with the member's role and counters.
type UserGroup struct {
	JID, ID, Name             string
	Role                      domain.Role
	Members, Unread, Mentions int
}

// ItemsItem renders one group of #items: <item id name members role unread
// mentions/>. The counters are written even when zero, so a client never
// has to tell "none" from "unknown".
func ItemsItem(g UserGroup) []byte {
	return AppendStart(nil, "item", true,
		A("id", g.ID), A("name", g.Name), A("members", strconv.Itoa(g.Members)),
		A("role", string(g.Role)), A("unread", strconv.Itoa(g.Unread)),
		A("mentions", strconv.Itoa(g.Mentions)))
}

// CatchUpGroup renders the counters of one group at the head of a
// catch-up answer: <group jid id name role members unread mentions/>.
func CatchUpGroup(g UserGroup) []byte {
	return AppendStart(nil, "group", true,
		A("jid", g.JID), A("id", g.ID), A("name", g.Name), A("role", string(g.Role)),
		A("members", strconv.Itoa(g.Members)), A("unread", strconv.Itoa(g.Unread)), A("mentions", strconv.Itoa(g.Mentions)))
}

// DiscoItem renders one XEP-0030 item: <item jid name/>.
func DiscoItem(jid, name string) []byte {
	return AppendStart(nil, "item", true, A("jid", jid), A("name", name))
}

// EmptyDiscoItems is a group's disco#items answer: a group has no items.
func EmptyDiscoItems() []byte {
	return AppendStart(nil, "query", true, A("xmlns", NSDiscoItems))
}

// Identity is an XEP-0030 identity.
type Identity struct{ Category, Type, Name string }

// GroupchatIdentity is the identity of the service and of its groups,
// named by name.
func GroupchatIdentity(name string) Identity {
	return Identity{Category: "groupchat", Type: "text", Name: name}
}

// RoomIdentity is a group's identity as a XEP-0045 room (XEP-0045 §6.4),
// beside its groupchat identity, so that MUC clients see a room.
func RoomIdentity(name string) Identity {
	return Identity{Category: "conference", Type: "text", Name: name}
}

// DiscoInfoResult renders an XEP-0030 disco#info answer: the identities,
// then one <feature/> per feature.
func DiscoInfoResult(features []string, ids ...Identity) []byte {
	buf := AppendStart(nil, "query", false, A("xmlns", NSDiscoInfo))
	for _, id := range ids {
		buf = AppendStart(buf, "identity", true, A("category", id.Category), A("type", id.Type), A("name", id.Name))
	}
	for _, f := range features {
		buf = AppendStart(buf, "feature", true, A("var", f))
	}
	return AppendEnd(buf, "query")
}

// OpenList starts a list answer (#items, #members, disco#items): the
// <query/> of ns, whose length the paging needs before the items are
// chosen, since they share one stanza's room.
func OpenList(ns string) []byte {
	return AppendStart(nil, "query", false, A("xmlns", ns))
}

// AppendWindow appends the items of a list answer that the window w (from
// Cut) keeps and, when w was paged or cut, the <set/> that locates them.
func AppendWindow(buf []byte, keys []string, items [][]byte, w Window) []byte {
	for _, it := range items[w.Lo:w.Hi] {
		buf = append(buf, it...)
	}
	return AppendWindowSet(buf, keys, w)
}

// CloseList ends a list answer begun with OpenList.
func CloseList(buf []byte) []byte { return AppendEnd(buf, "query") }

// MemberInfoResult renders the answer to #memberinfo: the member's item.
func MemberInfoResult(m domain.Member) []byte {
	buf := AppendStart(nil, "query", false, A("xmlns", NSMemberInfo))
	buf = AppendMemberItem(buf, m)
	return AppendEnd(buf, "query")
}

// Reader is one member in a #readers answer.
type Reader struct {
	JID, MID, Nick string
	Read           bool
}

// ReadersResult renders the answer to #readers about the message named
// id: one <read/> or <unread/> per member, in the order given.
func ReadersResult(id string, readers []Reader) []byte {
	buf := AppendStart(nil, "query", false, A("xmlns", NSReaders), A("id", id))
	for _, r := range readers {
		el := "unread"
		if r.Read {
			el = "read"
		}
		buf = AppendStart(buf, el, true, A("jid", r.JID), A("mid", r.MID), A("nick", r.Nick))
	}
	return AppendEnd(buf, "query")
}

// ArchiveFormResult renders the XEP-0313 query form of a group's archive:
// every field §4.1 defines, with their types as §4.1.5's example gives
// them.
func ArchiveFormResult() []byte {
	p := AppendStart(nil, "query", false, A("xmlns", NSMAM))
	p = AppendStart(p, "x", false, A("xmlns", NSDataForms), A("type", "form"))
	p = AppendStart(p, "field", false, A("type", "hidden"), A("var", "FORM_TYPE"))
	p = AppendElementText(p, "value", NSMAM)
	p = AppendEnd(p, "field")
	p = AppendStart(p, "field", true, A("type", "jid-single"), A("var", "with"))
	for _, f := range []string{"start", "end", "before-id", "after-id"} {
		p = AppendStart(p, "field", true, A("type", "text-single"), A("var", f))
	}
	// The ids are the client's to give: the list is open, not offered.
	p = AppendStart(p, "field", false, A("type", "list-multi"), A("var", "ids"))
	p = AppendStart(p, "validate", false, A("xmlns", NSDataValidate), A("datatype", "xs:string"))
	p = AppendStart(p, "open", true)
	p = AppendEnd(p, "validate")
	p = AppendEnd(p, "field")
	p = AppendEnd(p, "x")
	return AppendEnd(p, "query")
}
