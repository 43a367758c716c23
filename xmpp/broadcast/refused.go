package broadcast

import (
	"context"
	"sync"

	"github.com/uuchat/groupchat/xmpp/protocol"
)

// sentMulticastCap is how many multicast stanzas are remembered for
// sending again: the service answers a refusal within a round trip, while
// a few hundred stanzas are still the last ones sent.
const sentMulticastCap = 512

// LogMulticastResent is logged for a multicast stanza the service refused
// as a whole and that was sent again one stanza per recipient.
const LogMulticastResent = "sent a refused multicast stanza again, one stanza per recipient"

// sentMulticast remembers the last multicast stanzas sent, with their
// addresses, by the from and id their refusal would name.
type sentMulticast struct {
	mu   sync.Mutex
	ring []sentBatch
	next int
}

type sentBatch struct {
	from, id string
	o        protocol.Outbound // as rendered for one recipient: no service, no addresses
	bcc      []string
}

func (s *sentMulticast) add(o protocol.Outbound, bcc []string) {
	if o.Env == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := sentBatch{from: o.Env.From, id: o.Env.ID, o: o, bcc: bcc}
	if len(s.ring) < sentMulticastCap {
		s.ring = append(s.ring, b)
		return
	}
	s.ring[s.next] = b
	s.next = (s.next + 1) % sentMulticastCap
}

// take removes and returns the oldest remembered batch sent from from
// with id. The service answers each stanza it refuses, in the order it
// got them, and every batch of a broadcast shares the from and id, as do
// group presences that have no id: the oldest is the one refused.
func (s *sentMulticast) take(from, id string) (sentBatch, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.ring {
		i := (s.next + k) % len(s.ring) // oldest first
		if b := s.ring[i]; b.bcc != nil && b.from == from && b.id == id {
			s.ring[i] = sentBatch{}
			return b, true
		}
	}
	return sentBatch{}, false
}

// MulticastRefused sends again, one stanza per recipient, the multicast
// stanza the service refused as a whole (its error names the stanza's
// from as to, and its id), so that a broadcast still reaches whoever is
// online; it is later than the broadcasts sent directly since. It reports
// how many copies it sent.
func (b *Broadcaster) MulticastRefused(ctx context.Context, from, id string) int {
	batch, ok := b.sent.take(from, id)
	if !ok {
		return 0
	}
	b.sendAll(ctx, batch.o, batch.bcc)
	b.log.Info(LogMulticastResent, "from", from, "id", id, "recipients", len(batch.bcc))
	return len(batch.bcc)
}
