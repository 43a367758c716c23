package protocol

import (
	"strconv"
	"time"

	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Page is an XEP-0059 result-set request: at most Max items after or before
// a cursor (archive ids). Last asks for the last page (an empty <before/>).
type Page struct {
	Max    int
	After  string
	Before string
	Last   bool
	// Given is true when the request carried a <set/>.
	Given bool
}

// MaxPage bounds Page.Max whatever the client asks.
const MaxPage = 500

// DefaultPage is the page size when the client gives none.
const DefaultPage = 100

// CatchUp asks, on the service JID, for everything the user missed after
// the position in Page.After: counters of every group and the events, paged.
type CatchUp struct{ Page Page }

// ArchiveQuery is an XEP-0313 (MAM v2) query to a group's archive.
type ArchiveQuery struct {
	Group   string
	QueryID string
	// Start and End bound the messages' time (inclusive, at the precision
	// of the stamps shown, StampPrecision); zero is open.
	Start, End time.Time
	// AfterID and BeforeID bound archive ids (exclusive).
	AfterID, BeforeID string
	// With keeps the messages of one publisher (XEP-0313 §4.1.1): an
	// occupant address (group@service/mid) or a member's own bare JID.
	With string
	// IDs keeps only the messages with these archive ids.
	IDs  []string
	Page Page
	// Flip sends the page newest first (<flip-page/>).
	Flip bool
}

// ArchiveForm asks for the MAM query form of a group.
type ArchiveForm struct{ Group string }

// ArchiveMetadata asks for the first and last message of a group's
// archive (XEP-0313 §7, an iq get with <metadata/>).
type ArchiveMetadata struct{ Group string }

// Readers asks which members have read a message (named by the id its
// sender gave it or by its archive id).
type Readers struct {
	Group     string
	MessageID string
}

func (CatchUp) request()         {}
func (ArchiveQuery) request()    {}
func (ArchiveForm) request()     {}
func (ArchiveMetadata) request() {}
func (Readers) request()         {}

// parseHistoryIQ recognises the history IQs; ok is false for others.
func parseHistoryIQ(s Stanza, q *xmlnode.Node) (r Request, err error, ok bool) {
	group := s.Group()
	switch {
	case q.Name.Space == NSCatchUp && s.Type == "get":
		if group != "" {
			return nil, ErrBadRequest.With("ask the service's JID for catch-up"), true
		}
		p, err := parsePage(q)
		return CatchUp{Page: p}, err, true
	case q.Name.Space == NSReaders && s.Type == "get":
		if group == "" {
			return nil, ErrBadRequest.With("ask the group's JID"), true
		}
		id := q.Attr("id")
		if id == "" {
			return nil, ErrBadRequest.With("name the message with an id attribute"), true
		}
		return Readers{Group: group, MessageID: id}, nil, true
	case q.Name.Space == NSMAM && (q.Name.Local == "query" || q.Name.Local == "metadata"):
		if group == "" {
			return nil, ErrServiceUnavailable.With("the service keeps archives per group: query the group's JID"), true
		}
		if q.Name.Local == "metadata" {
			if s.Type != "get" {
				return nil, ErrBadRequest.With("ask for an archive's metadata with an iq get"), true
			}
			return ArchiveMetadata{Group: group}, nil, true
		}
		if s.Type == "get" {
			return ArchiveForm{Group: group}, nil, true
		}
		aq, err := parseArchiveQuery(group, q)
		return aq, err, true
	}
	return nil, nil, false
}

// parseArchiveQuery reads an XEP-0313 query: its form's filters, its
// result set request and <flip-page/>.
func parseArchiveQuery(group string, q *xmlnode.Node) (ArchiveQuery, error) {
	aq := ArchiveQuery{Group: group, QueryID: q.Attr("queryid"), Flip: q.Child(NSMAM, "flip-page") != nil}
	if x := q.Child(NSDataForms, "x"); x != nil {
		for _, f := range x.ChildrenNamed("", "field") {
			var values []string
			for _, v := range f.ChildrenNamed("", "value") {
				values = append(values, v.Text)
			}
			v := ""
			if len(values) > 0 {
				v = values[0]
			}
			var err error
			switch name := f.Attr("var"); name {
			case "FORM_TYPE":
				if v != NSMAM {
					return aq, ErrBadRequest.With("the form's FORM_TYPE must be " + NSMAM)
				}
			case "start":
				aq.Start, err = time.Parse(time.RFC3339Nano, v)
			case "end":
				aq.End, err = time.Parse(time.RFC3339Nano, v)
			case "after-id":
				aq.AfterID = v
			case "before-id":
				aq.BeforeID = v
			case "with":
				aq.With = v
			case "ids":
				aq.IDs = append(aq.IDs, values...)
				if len(aq.IDs) > MaxPage {
					return aq, ErrPolicyViolation.With("at most " + strconv.Itoa(MaxPage) + " ids in one query")
				}
			default:
				// XEP-0313 §4.1.5: a field the server does not know.
				return aq, ErrNotImplemented.With("unsupported field " + name)
			}
			if err != nil {
				return aq, ErrBadRequest.With("the " + f.Attr("var") + " field is not an XEP-0082 date-time")
			}
		}
	}
	aq.Start, aq.End = stampBounds(aq.Start, aq.End)
	var err error
	aq.Page, err = parsePage(q)
	return aq, err
}

// StampPrecision is the precision of the delay stamps history shows.
const StampPrecision = time.Millisecond

// stampBounds widens a query's time bounds to the precision of the stamps
// the archive shows, so that a message is within [start, end] exactly when
// its stamp is: a client that takes a message's stamp as end (or start)
// gets that message, although the service keeps finer times.
func stampBounds(start, end time.Time) (time.Time, time.Time) {
	if !start.IsZero() {
		if t := start.Truncate(StampPrecision); t.Before(start) {
			start = t.Add(StampPrecision)
		}
	}
	if !end.IsZero() {
		end = end.Truncate(StampPrecision).Add(StampPrecision - time.Nanosecond)
	}
	return start, end
}

func parsePage(q *xmlnode.Node) (Page, error) {
	p := Page{Max: DefaultPage}
	set := q.Child(NSRSM, "set")
	if set == nil {
		return p, nil
	}
	p.Given = true
	if m := set.Child(NSRSM, "max"); m != nil {
		n, err := strconv.Atoi(m.Text)
		if err != nil || n < 0 {
			return p, ErrBadRequest.With("<max/> must be a non-negative number")
		}
		p.Max = n
	}
	if p.Max > MaxPage {
		p.Max = MaxPage
	}
	if a := set.Child(NSRSM, "after"); a != nil {
		p.After = a.Text
	}
	if b := set.Child(NSRSM, "before"); b != nil {
		if b.Text == "" {
			p.Last = true
		} else {
			p.Before = b.Text
		}
	}
	return p, nil
}

// AppendForwarded appends an XEP-0297 forwarded stanza with its XEP-0203
// delay: the inner stanza is written in jabber:client, as forwarding needs,
// addressed to to (none when to is empty).
func AppendForwarded(buf []byte, at time.Time, inner Outbound, to string) []byte {
	buf = AppendStart(buf, "forwarded", false, A("xmlns", NSForward))
	buf = AppendStart(buf, "delay", true, A("xmlns", NSDelay), A("stamp", at.UTC().Format("2006-01-02T15:04:05.000Z")))
	// The head is "<message from=…" (or presence) and ends with ` to="`:
	// declare the namespace after the element name, and leave the to
	// attribute out when there is none.
	head := inner.Head
	for i, c := range head {
		if c == ' ' {
			buf = append(buf, head[:i]...)
			buf = append(buf, ` xmlns="jabber:client"`...)
			head = head[i:]
			break
		}
	}
	if to != "" {
		buf = append(buf, head...)
		buf = xmlnode.AppendAttrValue(buf, to)
		buf = append(buf, inner.Tail...)
	} else {
		buf = append(buf, head[:len(head)-len(` to="`)]...)
		buf = append(buf, inner.Tail[1:]...)
	}
	return AppendEnd(buf, "forwarded")
}

// WithPublisher returns a group message with the XEP-0045 extended
// information of a non-anonymous room inside it: the sender's real JID, as
// XEP-0313 §6.1.2 has a MUC archive show it.
func WithPublisher(o Outbound, jid string) Outbound {
	return withChild(o, "message", func(b []byte) []byte {
		b = AppendStart(b, "x", false, A("xmlns", NSMUCUser))
		b = AppendStart(b, "item", true, A("jid", jid))
		return AppendEnd(b, "x")
	})
}

// AppendSet appends an XEP-0059 result set: first, last and count.
func AppendSet(buf []byte, first, last string, firstIndex, count int) []byte {
	buf = AppendStart(buf, "set", false, A("xmlns", NSRSM))
	if first != "" {
		if firstIndex >= 0 {
			buf = AppendElementText(buf, "first", first, A("index", strconv.Itoa(firstIndex)))
		} else {
			buf = AppendElementText(buf, "first", first)
		}
		buf = AppendElementText(buf, "last", last)
	}
	if count >= 0 {
		buf = AppendElementText(buf, "count", strconv.Itoa(count))
	}
	return AppendEnd(buf, "set")
}

// ArchiveResult renders one XEP-0313 result message carrying a forwarded
// archived message. As XEP-0313 §6.1.2 has a MUC archive send it, the
// forwarded message has no to, comes from the sender's occupant JID and
// names its publisher (WithPublisher).
func ArchiveResult(groupJID, queryID, archiveID string, at time.Time, inner Outbound, to string) Outbound {
	tail := append(make([]byte, 0, 256+len(inner.Tail)), `">`...)
	tail = AppendStart(tail, "result", false, A("xmlns", NSMAM), A("queryid", queryID), A("id", archiveID))
	tail = AppendForwarded(tail, at, inner, "")
	tail = AppendEnd(tail, "result")
	tail = AppendEnd(tail, "message")
	return outbound("message", groupJID, "", "", to, tail)
}

// ArchiveMetadataResult renders XEP-0313 §7's answer: the archive ids and
// stamps of the first and last messages, or an empty <metadata/> when the
// archive holds none.
func ArchiveMetadataResult(firstID string, firstAt time.Time, lastID string, lastAt time.Time) []byte {
	if firstID == "" {
		return AppendStart(nil, "metadata", true, A("xmlns", NSMAM))
	}
	p := AppendStart(nil, "metadata", false, A("xmlns", NSMAM))
	p = AppendStart(p, "start", true, A("id", firstID), A("timestamp", firstAt.UTC().Format("2006-01-02T15:04:05.000Z")))
	p = AppendStart(p, "end", true, A("id", lastID), A("timestamp", lastAt.UTC().Format("2006-01-02T15:04:05.000Z")))
	return AppendEnd(p, "metadata")
}

// WithStanzaID returns o with an XEP-0359 stanza-id appended inside its
// element (for read receipts in catch-up, which carry their position like
// messages and group changes do).
func WithStanzaID(o Outbound, kind, by, id string) Outbound {
	return withChild(o, kind, func(b []byte) []byte {
		return AppendStart(b, "stanza-id", true, A("xmlns", NSSID), A("by", by), A("id", id))
	})
}

// withChild returns o with what add appends placed last inside its
// element, kind; o is returned unchanged if it does not end as one.
func withChild(o Outbound, kind string, add func([]byte) []byte) Outbound {
	end := "</" + kind + ">"
	if len(o.Tail) < len(end) || string(o.Tail[len(o.Tail)-len(end):]) != end {
		return o
	}
	tail := append([]byte(nil), o.Tail[:len(o.Tail)-len(end)]...)
	o.Tail = append(add(tail), end...)
	return o
}
