package history

import (
	"context"
	"time"

	"github.com/uuchat/groupchat/xmpp/protocol"
)

// DefaultRoomHistory is how many messages a MUC client entering a room
// gets when it does not say (as Prosody's MUC sends by default).
const DefaultRoomHistory = 20

// RoomHistory is the history a MUC client asks for when it enters a
// group's room (XEP-0045 §7.2.15): the last messages the user may see, as
// they were broadcast (a withdrawn one as its tombstone), each with a
// delay from the group, oldest first. maxchars counts whole stanzas, and
// drops the oldest first; 0 of anything is none. A client wanting more
// pages back with MAM.
func (h *Answerer) RoomHistory(ctx context.Context, group, user string, q protocol.RoomHistory, now time.Time) ([]protocol.Outbound, error) {
	max := DefaultRoomHistory
	if q.MaxStanzas >= 0 {
		max = min(q.MaxStanzas, protocol.MaxPage)
	}
	if max == 0 || q.MaxChars == 0 {
		return nil, nil
	}
	tq := TimelineQuery{JID: user, Group: group, MessagesOnly: true, Max: max, Last: true}
	if q.Seconds >= 0 {
		tq.Start = now.Add(-time.Duration(q.Seconds) * time.Second)
	}
	if !q.Since.IsZero() && q.Since.After(tq.Start) {
		tq.Start = q.Since
	}
	page, err := h.Reads.Timeline(ctx, tq)
	if err != nil {
		return nil, err
	}
	recs, evs, err := h.loadEntries(ctx, page.Entries)
	if err != nil {
		return nil, err
	}
	out := make([]protocol.Outbound, 0, len(recs))
	gj := h.Addr.Group(group)
	for i, re := range recs {
		o, kind := h.show(ctx, re, evs[i], 0)
		if kind != "message" {
			continue
		}
		out = append(out, protocol.Delayed(o, gj, evs[i].OccurredAt()))
	}
	if q.MaxChars > 0 {
		total := 0
		for i := len(out) - 1; i >= 0; i-- {
			if total += out[i].Size(); total > q.MaxChars {
				out = out[i+1:]
				break
			}
		}
	}
	return out, nil
}
