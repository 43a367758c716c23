package push

import "time"

// Note is one message that may wake one member's devices.
type Note struct {
	// User is the member's bare JID.
	User string
	// Sender is the occupant JID of the message's sender.
	Sender string
	// Body is the message's body (sent only to registrations that opted in).
	Body string
}

// Batch is what one notification carries: the messages a member received
// since its last one.
type Batch struct {
	User string
	// Count is the number of messages gathered.
	Count int
	// LastSender and LastBody are those of the newest message.
	LastSender, LastBody string
	// Due is when the batch is to be sent.
	Due time.Time
}

// Coalescer gathers notes per member: the first note of a member opens a
// batch due one interval later; later notes join it until it is taken. A
// member thus gets at most one notification per interval, carrying the
// count of everything in between. Time comes in as arguments, so tests
// need no clock. A Coalescer is not safe for concurrent use.
type Coalescer struct {
	interval time.Duration
	pending  map[string]*Batch
	// order holds the members with a batch in the order their batches
	// opened, which is the order they fall due: the interval is the same
	// for all.
	order []string
}

// NewCoalescer returns a coalescer with the given interval.
func NewCoalescer(interval time.Duration) *Coalescer {
	return &Coalescer{interval: interval, pending: map[string]*Batch{}}
}

// Add gathers a note received at now.
func (c *Coalescer) Add(n Note, now time.Time) {
	b := c.pending[n.User]
	if b == nil {
		b = &Batch{User: n.User, Due: now.Add(c.interval)}
		c.pending[n.User] = b
		c.order = append(c.order, n.User)
	}
	b.Count++
	b.LastSender, b.LastBody = n.Sender, n.Body
}

// Due removes and returns the batches due at now, oldest first.
func (c *Coalescer) Due(now time.Time) []Batch {
	var out []Batch
	i := 0
	for ; i < len(c.order); i++ {
		b := c.pending[c.order[i]]
		if b.Due.After(now) {
			break
		}
		out = append(out, *b)
		delete(c.pending, b.User)
	}
	c.order = c.order[i:]
	if len(c.order) == 0 {
		c.order = nil
	}
	return out
}

// Next is when the oldest batch falls due; ok is false when none waits.
func (c *Coalescer) Next() (due time.Time, ok bool) {
	if len(c.order) == 0 {
		return time.Time{}, false
	}
	return c.pending[c.order[0]].Due, true
}

// Len is the number of members with a batch waiting.
func (c *Coalescer) Len() int { return len(c.order) }
