package loadtest

import (
	"slices"
	"time"
)

// Result is what one scenario measured on one system.
type Result struct {
	Server   Server
	Scenario Scenario
	System   System
	// Round counts from 1 (Config.Rounds).
	Round int

	// Skipped, if not empty, says why the system did not run the scenario.
	Skipped string
	// Err, if not empty, says why the run failed or what went wrong in it.
	Err string

	Clients int // client connections logged in
	Senders int // clients that posted (live) or reconnecting readers (storm)

	// Sent is the number of messages posted. Expected is the number of
	// deliveries they call for: every member of the group, the sender
	// included, gets each message (live); every reader gets every message
	// once (storm).
	Sent, Expected int64
	// Delivered counts first deliveries, Lost expected deliveries that never
	// came (within the drain timeout), Duplicated deliveries beyond the
	// first.
	Delivered, Lost, Duplicated int64
	// Errors counts error answers to posts; Stalled counts senders that gave
	// up because a reflection of theirs never came.
	Errors, Stalled int64
	// CtrlDropped counts setup stanzas dropped for lack of buffer space;
	// it should stay zero.
	CtrlDropped int64

	// Elapsed runs from the first post to the last delivery (live), or from
	// the start of the reconnection to the last reader done (storm).
	Elapsed time.Duration
	// Latency is over deliveries, from post to receipt (live), or over
	// readers, from the start of the reconnection to having every message
	// (storm).
	Latency Latencies

	// CPU time used during the measurement by the XMPP server, the
	// component (zero without one) and the load generator itself.
	CPUServer, CPUComponent, CPULoad time.Duration
	// LinkBytes is what the component wrote to the server during a live
	// measurement (its groupchat_link_bytes_written_total); zero without a
	// component and in a storm.
	LinkBytes int64

	// LoadAverage is the machine's 1, 5 and 15 minute load average before
	// the run: other work on the machine shows there.
	LoadAverage string
	// Fsync is the median and slowest of a few 4 KiB write+fsync in the
	// run's directory before it: what a durable commit waits for.
	Fsync [2]time.Duration

	// Notes are remarks for the report.
	Notes []string
}

// PerSecond returns first deliveries per second of Elapsed.
func (r *Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Delivered) / r.Elapsed.Seconds()
}

// LinkBytesPerMessage returns LinkBytes per message posted, 0 if there
// are none.
func (r *Result) LinkBytesPerMessage() float64 {
	if r.LinkBytes <= 0 || r.Sent <= 0 {
		return 0
	}
	return float64(r.LinkBytes) / float64(r.Sent)
}

// Ran reports whether the result holds measurements.
func (r *Result) Ran() bool { return r.Skipped == "" && r.Elapsed > 0 }

// Latencies summarizes a distribution.
type Latencies struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

// percentiles returns the nearest-rank percentiles of d, which it sorts.
func percentiles(d []time.Duration) Latencies {
	if len(d) == 0 {
		return Latencies{}
	}
	slices.Sort(d)
	rank := func(p int) time.Duration {
		i := (p*len(d) + 99) / 100 // ceil(p/100 * n)
		return d[max(i-1, 0)]
	}
	return Latencies{N: len(d), P50: rank(50), P95: rank(95), P99: rank(99), Max: d[len(d)-1]}
}
