package protocol

import (
	"math"

	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// parseListPage reads the XEP-0059 request of a list answer (groups,
// members, disco items): without a <set/> the whole list is asked for, and
// only the size limit may cut it.
func parseListPage(q *xmlnode.Node) (Page, error) {
	p, err := parsePage(q)
	if err != nil || !p.Given {
		return Page{}, err
	}
	switch {
	case q.Child(NSRSM, "set").Child(NSRSM, "max") == nil:
		p.Max = 0
	case p.Max == 0:
		p.Max = CountOnly
	}
	return p, nil
}

// CountOnly is the Max of a list page that asks for the count alone
// (<max>0</max>, XEP-0059 §2.7).
const CountOnly = -1

// Window is the part of a list one answer holds: items [Lo, Hi) of Count,
// and whether the list had to be cut to fit or the page was asked for (so
// the answer says where it is with an XEP-0059 <set/>).
type Window struct {
	Lo, Hi, Count int
	Paged         bool
}

// Cut chooses the items of a list answer: those after (or before) the
// page's cursor, at most p.Max (0: no bound), and no more than fit into
// budget bytes, given each item's cursor (keys) and rendered length
// (sizes). A forward page keeps its first items, a page from the end its
// last ones, so that paging on from the answer's <set/> misses nothing. A
// cursor that names no item is item-not-found (XEP-0059 §2.5 leaves the
// choice; MAM uses it), and a first item that cannot fit alone is
// policy-violation.
func Cut(keys []string, sizes []int, p Page, budget int) (Window, error) {
	w := Window{Lo: 0, Hi: len(keys), Count: len(keys), Paged: p.Given}
	find := func(k string) (int, error) {
		for i, key := range keys {
			if key == k {
				return i, nil
			}
		}
		return 0, ErrNotExists.With("no item of the list is " + k)
	}
	fromEnd := p.Last || p.Before != ""
	switch {
	case p.After != "":
		i, err := find(p.After)
		if err != nil {
			return w, err
		}
		w.Lo = i + 1
	case p.Before != "":
		i, err := find(p.Before)
		if err != nil {
			return w, err
		}
		w.Hi = i
	}
	if p.Max > 0 && w.Hi-w.Lo > p.Max {
		if fromEnd {
			w.Lo = w.Hi - p.Max
		} else {
			w.Hi = w.Lo + p.Max
		}
	}
	if p.Max == CountOnly {
		return Window{Count: len(keys), Paged: true}, nil
	}
	used := 0
	if fromEnd {
		lo := w.Hi
		for lo > w.Lo && used+sizes[lo-1] <= budget {
			used += sizes[lo-1]
			lo--
		}
		if lo > w.Lo {
			w.Paged = true
			if lo == w.Hi {
				return w, ErrPolicyViolation.With("the item " + keys[lo-1] + " is larger than the XMPP server accepts from the service; page past it with <before>" + keys[lo-1] + "</before>")
			}
		}
		w.Lo = lo
		return w, nil
	}
	hi := w.Lo
	for hi < w.Hi && used+sizes[hi] <= budget {
		used += sizes[hi]
		hi++
	}
	if hi < w.Hi {
		w.Paged = true
		if hi == w.Lo {
			return w, ErrPolicyViolation.With("the item " + keys[hi] + " is larger than the XMPP server accepts from the service; page past it with <after>" + keys[hi] + "</after>")
		}
	}
	w.Hi = hi
	return w, nil
}

// AppendWindowSet appends the <set/> of a list answer cut by Cut, if it
// needs one.
func AppendWindowSet(buf []byte, keys []string, w Window) []byte {
	if !w.Paged {
		return buf
	}
	if w.Hi <= w.Lo {
		return AppendSet(buf, "", "", 0, w.Count)
	}
	return AppendSet(buf, keys[w.Lo], keys[w.Hi-1], w.Lo, w.Count)
}

// ItemsBudget is how many bytes of items an answer to st may hold beside
// its envelope, what precedes the items (used) and a closing <set/>, when
// the XMPP server accepts stanzas of at most maxOutbound bytes (0 is
// unlimited). List answers and the catch-up share it, so that every
// answer they page fits the same limit.
func ItemsBudget(maxOutbound int, st Stanza, used int) int {
	if maxOutbound <= 0 {
		return math.MaxInt
	}
	const closing = 1024 // </query>, </iq>, a <set/> with two cursors
	envelope := 64 + xmlnode.AttrValueLen(st.To.String()) + xmlnode.AttrValueLen(st.From.String()) + xmlnode.AttrValueLen(st.ID)
	return maxOutbound - envelope - used - closing
}
