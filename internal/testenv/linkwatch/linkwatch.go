package linkwatch

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/uuchat/groupchat/xmpp/link"
	"github.com/uuchat/groupchat/xmpp/service"
)

// Kind is what a log line says about the link.
type Kind int

const (
	// Other lines say nothing about the link's state.
	Other Kind = iota
	// Serving: the link is authenticated and serving.
	Serving
	// Lost: the link was lost; the line carries the error, often the
	// server's stream error (invalid-from, not-well-formed, …).
	Lost
	// Refused: the service made a stanza the link refused to write,
	// because the server would have refused it (or the queue was gone).
	Refused
)

func (k Kind) String() string {
	switch k {
	case Serving:
		return "serving"
	case Lost:
		return "lost"
	case Refused:
		return "refused"
	}
	return "other"
}

// needles are the message fields of the link's records as slog's text and
// JSON handlers write them. Matching the whole field, quotes included, and
// not the bare words, keeps a line that merely quotes the words in one of
// its values (a message body, a hostile JID) from counting: both handlers
// escape the quotes inside a value.
var needles = func() map[Kind][]string {
	m := map[Kind][]string{}
	for msg, k := range map[string]Kind{
		link.LogServing: Serving, link.LogLost: Lost,
		service.LogDroppedReply: Refused, service.LogDroppedBroadcast: Refused,
	} {
		q := strconv.Quote(msg)
		m[k] = append(m[k], "msg="+q, `"msg":`+q)
	}
	return m
}()

// KindOf tells what line, one record of a component's log in text or JSON
// format, says about the link.
func KindOf(line string) Kind {
	for k, ns := range needles {
		for _, n := range ns {
			if strings.Contains(line, n) {
				return k
			}
		}
	}
	return Other
}

// event is one relink or loss.
type event struct {
	line    string
	lost    bool
	refused bool
	excused bool
}

// Log is what the component processes linked to one XMPP server said about
// their link, in the order it was read. The zero value is ready to use; it
// is safe for concurrent use.
type Log struct {
	mu     sync.Mutex
	events []event
}

// Process returns the reader of a new process's log.
func (l *Log) Process() *Process { return &Process{log: l} }

// Process reads the log of one component process. Observe is called from
// one goroutine only, the one reading the process's output.
type Process struct {
	log     *Log
	serving int
}

// Observe reads one line of the process's log and returns what it says
// about the link. The process's first authentication is its start; each
// later one, and each loss, is recorded in the Log.
func (p *Process) Observe(line string) Kind {
	k := KindOf(line)
	switch k {
	case Serving:
		p.serving++
		if p.serving > 1 {
			p.log.add(event{line: line})
		}
	case Lost:
		p.log.add(event{line: line, lost: true})
	case Refused:
		p.log.add(event{line: line, refused: true})
	}
	return k
}

func (l *Log) add(e event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// Mark is the position of the next event: Since(Mark()) is what happens
// from now on.
func (l *Log) Mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// Excuse forgives every event from mark up to now: the caller caused them
// on purpose (it restarted or stopped the XMPP server). Events recorded
// afterwards are not forgiven.
func (l *Log) Excuse(mark int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := mark; i < len(l.events); i++ {
		l.events[i].excused = true
	}
}

// Report is what happened to the link in a window, excused events left out.
type Report struct {
	// Relinks counts the authentications after a process's first.
	Relinks int
	// Lost holds the lines saying the link was lost.
	Lost []string
	// Refused holds the lines saying a stanza was not written.
	Refused []string
}

// OK tells whether the link stayed up all along.
func (r Report) OK() bool { return r.Relinks == 0 && len(r.Lost) == 0 && len(r.Refused) == 0 }

// String describes the report for a failure message, ending with the lines
// that say the link was lost: they carry the server's reason.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the component link was re-authenticated %d time(s) and lost %d time(s)", r.Relinks, len(r.Lost))
	if len(r.Refused) > 0 {
		fmt.Fprintf(&b, ", and %d stanza(s) were not written: the service made what the server would refuse", len(r.Refused))
		for _, l := range r.Refused {
			b.WriteString("\n\t")
			b.WriteString(l)
		}
	}
	if len(r.Lost) > 0 {
		b.WriteString("; the component logged:")
	}
	for _, l := range r.Lost {
		b.WriteString("\n\t")
		b.WriteString(l)
	}
	return b.String()
}

// Since reports the events not excused from mark on.
func (l *Log) Since(mark int) Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	var r Report
	for _, e := range l.events[min(mark, len(l.events)):] {
		switch {
		case e.excused:
		case e.lost:
			r.Lost = append(r.Lost, e.line)
		case e.refused:
			r.Refused = append(r.Refused, e.line)
		default:
			r.Relinks++
		}
	}
	return r
}
