package protocol

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// NSAddress is XEP-0033 Extended Stanza Addressing: the feature of a
// multicast service and the namespace of <addresses/>.
const NSAddress = "http://jabber.org/protocol/address"

// multicastIDPrefix starts the id of every discovery request the service
// sends while looking for the server's multicast service.
const multicastIDPrefix = "mcast-"

// Multicast returns o as one stanza to the multicast service at service
// that the service delivers to each of bcc (XEP-0033 §4.6.3: bcc
// addresses are removed before delivery, so recipients do not see each
// other). ok is false for a stanza that cannot carry addresses (an IQ,
// XEP-0033 §3) or none to send.
func (o Outbound) Multicast(service string, bcc []string) (Outbound, bool) {
	if o.Env == nil || (o.Env.Kind != "message" && o.Env.Kind != "presence") || len(bcc) == 0 {
		return Outbound{}, false
	}
	end := "</" + o.Env.Kind + ">"
	if !bytes.HasSuffix(o.Tail, []byte(end)) && !bytes.Equal(o.Tail, []byte(`"/>`)) {
		return Outbound{}, false
	}
	o.To = service
	o.Bcc = bcc
	return o, true
}

// appendTail appends the rest of the stanza after its to attribute: the
// tail, with the <addresses/> of a multicast stanza before its end tag.
func (o Outbound) appendTail(buf []byte) []byte {
	if len(o.Bcc) == 0 {
		return append(buf, o.Tail...)
	}
	end := "</" + o.Env.Kind + ">"
	if bytes.Equal(o.Tail, []byte(`"/>`)) {
		buf = append(buf, `">`...)
	} else {
		buf = append(buf, o.Tail[:len(o.Tail)-len(end)]...)
	}
	buf = AppendAddresses(buf, o.Bcc)
	return append(buf, end...)
}

// tailLen is the length of what appendTail appends.
func (o Outbound) tailLen() int {
	if len(o.Bcc) == 0 {
		return len(o.Tail)
	}
	n := len(o.Tail) + len(`<addresses xmlns="`+NSAddress+`"></addresses>`)
	if bytes.Equal(o.Tail, []byte(`"/>`)) {
		n += len(`</`+o.Env.Kind+`>`) - 1
	}
	for _, a := range o.Bcc {
		n += len(`<address type="bcc" jid=""/>`) + xmlnode.AttrValueLen(a)
	}
	return n
}

// AppendAddresses appends <addresses/> with one bcc address per JID.
func AppendAddresses(buf []byte, bcc []string) []byte {
	buf = AppendStart(buf, "addresses", false, Attr{"xmlns", NSAddress})
	for _, a := range bcc {
		buf = AppendStart(buf, "address", true, Attr{"type", "bcc"}, Attr{"jid", a})
	}
	return AppendEnd(buf, "addresses")
}

// MulticastQuery renders a discovery request of the search for the
// server's multicast service (XEP-0033 §2): disco#info (ns NSDiscoInfo) or
// disco#items (NSDiscoItems) from the service to an entity of the server.
// id must come from MulticastID.
func MulticastQuery(from, to, id, ns string) Outbound {
	tail := append(make([]byte, 0, 96), `">`...)
	tail = AppendStart(tail, "query", true, Attr{"xmlns", ns})
	tail = AppendEnd(tail, "iq")
	return outbound("iq", from, id, "get", to, tail)
}

// MulticastID is the id of discovery request n of search round.
func MulticastID(round uint64, n int) string {
	return multicastIDPrefix + strconv.FormatUint(round, 10) + "-" + strconv.Itoa(n)
}

// MulticastRound is the search round of an id MulticastID made.
func MulticastRound(id string) (uint64, bool) {
	rest, ok := strings.CutPrefix(id, multicastIDPrefix)
	if !ok {
		return 0, false
	}
	r, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(r, 10, 64)
	return n, err == nil
}

// IsMulticastReply reports whether s answers a discovery request of the
// search for the multicast service: an IQ result or error to the service
// JID with an id MulticastID made.
func IsMulticastReply(s Stanza) bool {
	if s.Kind != "iq" || (s.Type != "result" && s.Type != "error") || s.To.Localpart() != "" {
		return false
	}
	_, ok := MulticastRound(s.ID)
	return ok
}

// MulticastInfo is what a disco#info answer tells of XEP-0033.
type MulticastInfo struct {
	// Supported: the entity offers the http://jabber.org/protocol/address
	// feature.
	Supported bool
	// MessageLimit and PresenceLimit are the most addresses the service
	// takes in one message or presence, from the XEP-0128 form with
	// FORM_TYPE http://jabber.org/protocol/address (fields "message" and
	// "presence", as ejabberd's mod_multicast writes them); 0 when not
	// given.
	MessageLimit, PresenceLimit int
}

// ParseMulticastInfo reads a disco#info result.
func ParseMulticastInfo(iq *xmlnode.Node) MulticastInfo {
	var mi MulticastInfo
	q := iq.Child(NSDiscoInfo, "query")
	for _, f := range q.ChildrenNamed(NSDiscoInfo, "feature") {
		if f.Attr("var") == NSAddress {
			mi.Supported = true
		}
	}
	for _, x := range q.ChildrenNamed(NSDataForms, "x") {
		fields := map[string]string{}
		for _, f := range x.ChildrenNamed(NSDataForms, "field") {
			fields[f.Attr("var")] = nodeText(f.Child(NSDataForms, "value"))
		}
		if fields["FORM_TYPE"] != NSAddress {
			continue
		}
		mi.MessageLimit = positive(fields["message"])
		mi.PresenceLimit = positive(fields["presence"])
	}
	return mi
}

// ParseDiscoItems reads the JIDs of a disco#items result.
func ParseDiscoItems(iq *xmlnode.Node) []string {
	var out []string
	for _, it := range iq.Child(NSDiscoItems, "query").ChildrenNamed(NSDiscoItems, "item") {
		if j := it.Attr("jid"); j != "" && it.Attr("node") == "" {
			out = append(out, j)
		}
	}
	return out
}

func positive(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

func nodeText(n *xmlnode.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range n.Children {
		if c.IsText() {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}
