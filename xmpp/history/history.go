package history

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// parsePosition reads an archive id given by a client.
func parsePosition(s, what string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, protocol.ErrBadRequest.With(what + " is not an archive id")
	}
	return n, nil
}

// loadEntries reads the events a timeline names, in its order, reading
// consecutive versions of a group in one go.
func (h *Answerer) loadEntries(ctx context.Context, entries []TimelineEntry) ([]eventstore.RecordedEvent, []domain.Event, error) {
	recs := make([]eventstore.RecordedEvent, 0, len(entries))
	evs := make([]domain.Event, 0, len(entries))
	gone := map[TimelineEntry]uint64{}
	for _, e := range entries {
		if e.RetractedBy > 0 {
			gone[TimelineEntry{Group: e.Group, Version: e.Version}] = e.RetractedBy
		}
	}
	byKey := map[string]map[uint64]int{}
	// Group the wanted versions per stream into runs.
	type run struct {
		group    string
		from, to uint64 // inclusive
	}
	var runs []run
	last := map[string]int{}
	for i, e := range entries {
		if byKey[e.Group] == nil {
			byKey[e.Group] = map[uint64]int{}
		}
		byKey[e.Group][e.Version] = i
		if j, ok := last[e.Group]; ok && runs[j].to+1 == e.Version {
			runs[j].to = e.Version
			continue
		}
		last[e.Group] = len(runs)
		runs = append(runs, run{e.Group, e.Version, e.Version})
	}
	found := make([]eventstore.RecordedEvent, len(entries))
	for _, r := range runs {
		n := int(r.to-r.from) + 1
		got, err := h.Log.ReadStream(ctx, r.group, r.from, n)
		if err != nil {
			return nil, nil, err
		}
		for _, re := range got {
			if i, ok := byKey[r.group][re.Version]; ok {
				found[i] = re
			}
		}
	}
	for _, re := range found {
		if re.Stream == "" {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return nil, nil, err
		}
		if by := gone[TimelineEntry{Group: re.Stream, Version: re.Version}]; by > 0 {
			if m, ok := e.(domain.MessagePosted); ok {
				r, err := h.retraction(ctx, re.Stream, by)
				if err != nil {
					return nil, nil, err
				}
				e = withdrawn{m, r}
			}
		}
		recs = append(recs, re)
		evs = append(evs, e)
	}
	return recs, evs, nil
}

// withdrawn is a message history shows as a tombstone: its content is
// never shown again once retracted or moderated.
type withdrawn struct {
	domain.MessagePosted
	by domain.MessageRetracted
}

// retraction reads the retraction stored at a group's version.
func (h *Answerer) retraction(ctx context.Context, group string, version uint64) (domain.MessageRetracted, error) {
	re, ok, err := eventstore.EventAt(ctx, h.Log, group, version)
	if err != nil || !ok {
		return domain.MessageRetracted{}, cmp.Or(err, fmt.Errorf("history: no event at version %d of %s", version, group))
	}
	e, err := domain.DecodeEvent(re.Type, re.Data)
	if err != nil {
		return domain.MessageRetracted{}, err
	}
	r, ok := e.(domain.MessageRetracted)
	if !ok {
		return r, fmt.Errorf("history: no retraction at version %d of %s", version, group)
	}
	return r, nil
}

// show renders an event as history shows it: as it was broadcast, or a
// withdrawn message as its tombstone.
func (h *Answerer) show(ctx context.Context, re eventstore.RecordedEvent, e domain.Event, previous uint64) (protocol.Outbound, string) {
	w, ok := e.(withdrawn)
	if !ok {
		return h.Render(ctx, re, e, previous)
	}
	return protocol.Tombstone(h.Addr.Occupant(re.Stream, w.MID), h.Addr.Group(re.Stream), w.MessagePosted,
		protocol.ArchiveID(re.Position), w.by, h.Addr.Occupant(re.Stream, w.by.MID)), "message"
}

// publisher is the bare JID of the member an event renders as a message
// from ("" for the group's own messages), and whether it renders as an
// archived message, which carries its stanza-id already.
func publisher(e domain.Event) (string, bool) {
	switch m := e.(type) {
	case domain.MessagePosted:
		return m.Sender, true
	case withdrawn:
		return m.Sender, true
	case domain.MessageRetracted:
		if m.Moderated {
			return "", true
		}
		return m.By, true
	}
	return "", false
}

// CatchUp renders the one-round-trip catch-up: the counters of every
// group of the user, then the events after the client's position, paged.
func (h *Answerer) CatchUp(ctx context.Context, st protocol.Stanza, r protocol.CatchUp) ([]byte, error) {
	user := st.Requester()
	after, err := parsePosition(r.Page.After, "<after/>")
	if err != nil {
		return nil, err
	}
	before, err := parsePosition(r.Page.Before, "<before/>")
	if err != nil {
		return nil, err
	}
	groups, err := h.Reads.GroupsOf(ctx, user)
	if err != nil {
		return nil, err
	}
	q := TimelineQuery{JID: user, After: after, Before: before, Max: r.Page.Max}
	// A phone that never synced (no position) gets the latest page.
	q.Last = r.Page.Last || before > 0 || r.Page.After == ""
	page, err := h.timeline(ctx, q)
	if err != nil {
		return nil, err
	}
	recs, evs, err := h.loadEntries(ctx, page.Entries)
	if err != nil {
		return nil, err
	}
	last, _ := h.Log.LastPosition(ctx)
	// The counters come first, in at most half of what one stanza may
	// hold; a user in more groups than fit gets the rest from #items.
	budget := protocol.ItemsBudget(h.MaxOutboundBytes, st, 256)
	var counters []byte
	complete := ""
	for _, g := range groups {
		n := len(counters)
		counters = append(counters, protocol.CatchUpGroup(g.UserGroup(h.Addr.Group(g.ID)))...)
		if len(counters) > budget/2 {
			counters, complete = counters[:n], "false"
			break
		}
	}
	payload := protocol.AppendStart(nil, "query", false, protocol.A("xmlns", protocol.NSCatchUp),
		protocol.A("position", strconv.FormatUint(last, 10)), protocol.A("groups-complete", complete))
	payload = append(payload, counters...)
	// The events that fit in the rest: a page cut short says so in its
	// <set/>, and the client pages on from it as from any page.
	to := st.From.String()
	kept := recs[:0:0]
	keys, items := make([]string, 0, len(recs)), make([][]byte, 0, len(recs))
	for i, re := range recs {
		// A group change names the group's change before it, as its
		// broadcast did, even when that one is on an earlier page.
		var previous uint64
		if protocol.IsGroupChange(evs[i]) {
			if previous, err = h.Reads.PreviousChange(ctx, re.Stream, re.Position); err != nil {
				return nil, err
			}
		}
		o, kind := h.show(ctx, re, evs[i], previous)
		if kind == "" {
			continue
		}
		// Messages and group changes carry their stanza-id as broadcast;
		// receipts, live without one, get theirs here.
		if _, isRead := evs[i].(domain.MessageRead); isRead {
			o = protocol.WithStanzaID(o, kind, h.Addr.Group(re.Stream), protocol.ArchiveID(re.Position))
		}
		kept = append(kept, re)
		keys = append(keys, protocol.ArchiveID(re.Position))
		items = append(items, protocol.AppendForwarded(nil, evs[i].OccurredAt(), o, to))
	}
	sizes := make([]int, len(items))
	for i, it := range items {
		sizes[i] = len(it)
	}
	w, err := protocol.Cut(keys, sizes, protocol.Page{Last: q.Last}, budget-len(counters))
	if err != nil {
		return nil, err
	}
	for _, it := range items[w.Lo:w.Hi] {
		payload = append(payload, it...)
	}
	payload = appendPageSet(payload, kept[w.Lo:w.Hi], page.Count, page.Index+w.Lo)
	return protocol.AppendEnd(payload, "query"), nil
}

// appendPageSet closes a page of the log with its <set/>: the archive ids
// of its first and last events, and where it starts in the whole range.
func appendPageSet(buf []byte, recs []eventstore.RecordedEvent, count, index int) []byte {
	if len(recs) == 0 {
		return protocol.AppendSet(buf, "", "", 0, count)
	}
	return protocol.AppendSet(buf, protocol.ArchiveID(recs[0].Position), protocol.ArchiveID(recs[len(recs)-1].Position), index, count)
}

// Archive runs an XEP-0313 query: one result message per archived
// message, then the IQ result with <fin/>. History follows membership.
func (h *Answerer) Archive(ctx context.Context, st protocol.Stanza, r protocol.ArchiveQuery) error {
	user := st.Requester()
	if err := h.checkArchiveAccess(ctx, r.Group, user); err != nil {
		return err
	}
	q, err := h.archiveTimeline(ctx, user, r)
	if err != nil {
		return err
	}
	page, err := h.timeline(ctx, q)
	if err != nil {
		return err
	}
	recs, evs, err := h.loadEntries(ctx, page.Entries)
	if err != nil {
		return err
	}
	results := make([]protocol.Outbound, 0, len(recs))
	to, gj := st.From.String(), h.Addr.Group(r.Group)
	for i, re := range recs {
		o, _ := h.show(ctx, re, evs[i], 0)
		if jid, _ := publisher(evs[i]); jid != "" {
			o = protocol.WithPublisher(o, jid)
		}
		res := protocol.ArchiveResult(gj, r.QueryID, protocol.ArchiveID(re.Position), evs[i].OccurredAt(), o, to)
		if max := h.MaxOutboundBytes; max > 0 && res.Size() > max {
			// Stored before the limit was lowered: say which, and how to
			// page past it, rather than leave a hole the client cannot see.
			id := protocol.ArchiveID(re.Position)
			return protocol.ErrPolicyViolation.With("the archived message " + id + " is larger than the XMPP server accepts from the service; page past it with after-id " + id)
		}
		results = append(results, res)
	}
	if r.Flip {
		// XEP-0313 §4.2.4: the same page, sent newest first.
		slices.Reverse(results)
	}
	for _, res := range results {
		h.Send(ctx, res)
	}
	// Complete: this page reaches the end of the range in the direction
	// of paging (the start, when paging back from the end).
	complete := !page.More
	payload := protocol.AppendStart(nil, "fin", false, protocol.A("xmlns", protocol.NSMAM), protocol.A("complete", strconv.FormatBool(complete)))
	payload = appendPageSet(payload, recs, page.Count, page.Index)
	payload = protocol.AppendEnd(payload, "fin")
	h.Send(ctx, protocol.IQResult(st, payload))
	return nil
}

// ArchiveCountLimit is the most messages an archive query counts, the
// largest page: a range that holds more is answered without <count/> and
// the index of its first (XEP-0059 §2.6 lets a responder leave them out),
// so that a page of a group's archive costs the same whatever the
// archive's length.
const ArchiveCountLimit = 500

// archiveTimeline turns an archive query into the timeline it selects: the
// form's filters make the range, RSM's after and before place the page.
func (h *Answerer) archiveTimeline(ctx context.Context, user string, r protocol.ArchiveQuery) (TimelineQuery, error) {
	q := TimelineQuery{JID: user, Group: r.Group, MessagesOnly: true, Start: r.Start, End: r.End, Max: r.Page.Max, Last: r.Page.Last,
		CountUpTo: ArchiveCountLimit}
	var err error
	if q.After, err = parsePosition(r.AfterID, "after-id"); err != nil {
		return q, err
	}
	if q.Before, err = parsePosition(r.BeforeID, "before-id"); err != nil {
		return q, err
	}
	if q.PageAfter, err = parsePosition(r.Page.After, "<after/>"); err != nil {
		return q, err
	}
	if q.PageBefore, err = parsePosition(r.Page.Before, "<before/>"); err != nil {
		return q, err
	}
	if q.PageBefore > 0 {
		q.Last = true
	}
	if q.Sender, q.SenderMID, err = h.publisher(r.Group, r.With); err != nil {
		return q, err
	}
	if r.IDs != nil {
		q.Positions = make([]uint64, 0, len(r.IDs))
		for _, id := range r.IDs {
			p, err := parsePosition(id, "an id of the ids field")
			if err != nil {
				return q, err
			}
			q.Positions = append(q.Positions, p)
		}
	}
	// XEP-0313: an id the client names must be one of the archive's
	// messages; one that is not is item-not-found, not an empty page.
	for _, c := range append([]string{r.AfterID, r.BeforeID, r.Page.After, r.Page.Before}, r.IDs...) {
		if err := h.checkArchiveID(ctx, r.Group, c); err != nil {
			return q, err
		}
	}
	return q, nil
}

// publisher reads a query's with (XEP-0313 §4.1.1: the publisher of the
// messages): an occupant address of the group selects one member id, the
// group's own address every message, any other address a member's real
// JID (its bare part: messages are kept with their sender's bare JID).
func (h *Answerer) publisher(group, with string) (sender, mid string, err error) {
	if with == "" {
		return "", "", nil
	}
	j, err := address.Parse(with)
	if err != nil {
		return "", "", protocol.ErrJIDMalformed.With("the with field is not an XMPP address")
	}
	if j.Bare().String() == h.Addr.Group(group) {
		return "", j.Resourcepart(), nil
	}
	return j.Bare().String(), "", nil
}

// ArchiveMetadata answers XEP-0313 §7: the first and last messages of the
// group's archive as the asker may see it.
func (h *Answerer) ArchiveMetadata(ctx context.Context, st protocol.Stanza, r protocol.ArchiveMetadata) ([]byte, error) {
	user := st.Requester()
	if err := h.checkArchiveAccess(ctx, r.Group, user); err != nil {
		return nil, err
	}
	ends := [2]struct {
		id string
		at time.Time
	}{}
	for i, last := range []bool{false, true} {
		page, err := h.Reads.Timeline(ctx, TimelineQuery{JID: user, Group: r.Group, MessagesOnly: true, Max: 1, Last: last})
		if err != nil {
			return nil, err
		}
		recs, evs, err := h.loadEntries(ctx, page.Entries)
		if err != nil {
			return nil, err
		}
		if len(recs) == 1 {
			ends[i].id, ends[i].at = protocol.ArchiveID(recs[0].Position), evs[0].OccurredAt()
		}
	}
	return protocol.ArchiveMetadataResult(ends[0].id, ends[0].at, ends[1].id, ends[1].at), nil
}

// checkArchiveID refuses an archive id (a position, already checked to be
// a number) that names no message of the group; "" and "0" name the start.
func (h *Answerer) checkArchiveID(ctx context.Context, group, id string) error {
	pos, err := parsePosition(id, "the id")
	if err != nil || pos == 0 {
		return err
	}
	if _, ok, err := h.Reads.MessageByPosition(ctx, group, pos); err != nil || ok {
		return err
	}
	return protocol.ErrNotExists.With("no message of the group's archive has the id " + id)
}

// checkArchiveAccess allows a group's history to those who are or were
// members. A deleted group is gone for queries: its history stays in the
// log for audit only.
func (h *Answerer) checkArchiveAccess(ctx context.Context, group, user string) error {
	g, ok, err := h.Reads.GroupByID(ctx, group)
	if err != nil {
		return err
	}
	if !ok || g.Deleted {
		return domain.RequireHistoryAccess(ok, g.Deleted, false)
	}
	was, err := h.Reads.WasMember(ctx, group, user)
	if err != nil {
		return err
	}
	return domain.RequireHistoryAccess(true, false, was)
}

// Readers tells the sender of a message which members have read it.
func (h *Answerer) Readers(ctx context.Context, st protocol.Stanza, r protocol.Readers) ([]byte, error) {
	user := st.Requester()
	if err := h.checkArchiveAccess(ctx, r.Group, user); err != nil {
		return nil, err
	}
	ref, ok, err := MessageNamed(ctx, h.Reads, r.Group, user, r.MessageID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, protocol.ErrNotExists.With("no such message in the group")
	}
	if err := domain.RequireSender(ref, user); err != nil {
		return nil, err
	}
	readers, err := h.Reads.ReadBy(ctx, r.Group, ref.Version)
	if err != nil {
		return nil, err
	}
	members, err := h.Reads.Members(ctx, r.Group)
	if err != nil {
		return nil, err
	}
	read := map[string]bool{}
	for _, j := range readers {
		read[j] = true
	}
	list := make([]protocol.Reader, 0, len(members))
	for _, m := range members {
		if m.JID == user {
			continue
		}
		list = append(list, protocol.Reader{JID: m.JID, MID: m.MID, Nick: m.Nick, Read: read[m.JID]})
	}
	return protocol.ReadersResult(r.MessageID, list), nil
}

// timeline runs a timeline query; a page of zero (RSM <max>0</max>) asks
// for the count alone.
func (h *Answerer) timeline(ctx context.Context, q TimelineQuery) (TimelinePage, error) {
	if q.Max > 0 {
		return h.Reads.Timeline(ctx, q)
	}
	// The count was asked for: it is counted, however long.
	q.Max, q.CountUpTo = 1, 0
	page, err := h.Reads.Timeline(ctx, q)
	return TimelinePage{Count: page.Count}, err
}
