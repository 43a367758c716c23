package protocol_test

import (
	"testing"
	"time"

	"github.com/uuchat/groupchat/xmpp/protocol"
)

// TestArchiveTimeBoundsFollowTheShownStamps checks that a MAM query's start
// and end are read at the precision of the delay stamps history shows: a
// bound equal to a message's stamp includes that message.
func TestArchiveTimeBoundsFollowTheShownStamps(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name, start, end   string
		wantStart, wantEnd string
	}{
		{name: "a stamp as end covers its millisecond", end: "2026-11-29T08:14:49.916Z", wantEnd: "2026-11-29T08:14:49.916999999Z"},
		{name: "a stamp as start stays", start: "2026-11-29T08:14:49.916Z", wantStart: "2026-11-29T08:14:49.916Z"},
		{name: "seconds as end cover that millisecond only", end: "2026-11-29T08:14:49Z", wantEnd: "2026-11-29T08:14:49.000999999Z"},
		{name: "a start inside a millisecond moves to the next", start: "2026-11-29T08:14:49.9165Z", wantStart: "2026-11-29T08:14:49.917Z"},
		{name: "an end inside a millisecond covers it", end: "2026-11-29T08:14:49.9165Z", wantEnd: "2026-11-29T08:14:49.916999999Z"},
		{name: "an offset is kept as an instant", start: "2026-11-29T09:14:49.916+01:00", wantStart: "2026-11-29T08:14:49.916Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := `<x xmlns="jabber:x:data" type="submit">`
			if tc.start != "" {
				form += `<field var="start"><value>` + tc.start + `</value></field>`
			}
			if tc.end != "" {
				form += `<field var="end"><value>` + tc.end + `</value></field>`
			}
			form += `</x>`
			_, req := mustRequest(t, iq(groupJID, "set", `<query xmlns="urn:xmpp:mam:2">`+form+`</query>`))
			q, ok := req.(protocol.ArchiveQuery)
			if !ok {
				t.Fatalf("got %T, want an archive query", req)
			}
			if tc.wantStart == "" && !q.Start.IsZero() || tc.wantStart != "" && !q.Start.Equal(at(tc.wantStart)) {
				t.Errorf("start = %v, want %s", q.Start, tc.wantStart)
			}
			if tc.wantEnd == "" && !q.End.IsZero() || tc.wantEnd != "" && !q.End.Equal(at(tc.wantEnd)) {
				t.Errorf("end = %v, want %s", q.End, tc.wantEnd)
			}
		})
	}
}
