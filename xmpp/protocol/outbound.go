package protocol

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Why the edge refuses to write a stanza. Each would make the XMPP server
// refuse it, and some (a from outside the component's domain, a stanza
// over the server's size limit) make it close the component's stream.
var (
	ErrOutboundFrom     = errors.New("the from address is not a prepared address of the component")
	ErrOutboundTo       = errors.New("the to address is not a prepared address")
	ErrOutboundTooLarge = errors.New("the stanza is larger than the server accepts from the component")
	ErrOutboundAddress  = errors.New("an XEP-0033 address is not a prepared address")
)

// CheckOutbound reports why the XMPP server would refuse o from the
// component serving domain, or nil: its from must be in the component's
// domain (Prosody closes the stream otherwise) and, like its to, pass the
// server's address rules in their prepared form; it must not be longer
// than maxBytes (0: unlimited). A multicast stanza (Bcc set) goes to the
// multicast service (its to) and each of its addresses must pass the same
// rules: the service would bounce a bad one, or refuse the whole stanza.
func CheckOutbound(o Outbound, domain string, maxBytes int) error {
	if o.Env == nil {
		return fmt.Errorf("%w: the stanza has no envelope", ErrOutboundFrom)
	}
	if !o.Env.fromChecked.Load() {
		if err := address.Check(o.Env.From); err != nil {
			return fmt.Errorf("%w: %q: %v", ErrOutboundFrom, o.Env.From, err)
		}
		if !inDomain(o.Env.From, domain) {
			return fmt.Errorf("%w: %q is outside %s", ErrOutboundFrom, o.Env.From, domain)
		}
		o.Env.fromChecked.Store(true)
	}
	if err := address.Check(o.To); err != nil {
		return fmt.Errorf("%w: %q: %v", ErrOutboundTo, o.To, err)
	}
	for _, a := range o.Bcc {
		if err := address.Check(a); err != nil {
			return fmt.Errorf("%w: %q: %v", ErrOutboundAddress, a, err)
		}
	}
	if n := o.Size(); maxBytes > 0 && n > maxBytes {
		return fmt.Errorf("%w: %d bytes, the limit is %s", ErrOutboundTooLarge, n, strconv.Itoa(maxBytes))
	}
	return nil
}

// inDomain reports whether a prepared address is the domain itself or an
// address at it, comparing the raw domain part as Prosody's component
// session does.
func inDomain(j, domain string) bool {
	at := 0
	for i := 0; i < len(j); i++ {
		switch j[i] {
		case '@':
			if at == 0 {
				at = i + 1
			}
		case '/':
			return j[at:i] == domain
		}
	}
	return j[at:] == domain
}

// MessageReserve is what a message's delivery adds to its body, id and
// extensions at most, in its largest form (an archive result: the
// recipient twice, the sender's occupant address, the archive wrapper),
// with addresses of up to 3,071 bytes written with entities.
const MessageReserve = 32 << 10

// PostBytes is the length of a message's body, id and extensions once
// written: with MessageReserve, a bound of any stanza that carries it.
func PostBytes(m domain.PostMessage) int {
	return xmlnode.TextLen(m.Body) + len(m.Payload) + xmlnode.AttrValueLen(m.ID)
}

// TooLargeReply turns an IQ result too large to send into the error that
// tells its asker so; ok is false for any other stanza.
func TooLargeReply(o Outbound, maxBytes int) (Outbound, bool) {
	if o.Env == nil || o.Env.Kind != "iq" || o.Env.Type != "result" {
		return Outbound{}, false
	}
	e := ErrPolicyViolation.With("the answer (" + strconv.Itoa(o.Size()) + " bytes) is larger than the XMPP server accepts from the service (" +
		strconv.Itoa(maxBytes) + "); ask for a smaller page")
	tail := append(make([]byte, 0, 256), `">`...)
	tail = AppendErrorElement(tail, e, o.Env.From)
	tail = AppendEnd(tail, "iq")
	return outbound("iq", o.Env.From, o.Env.ID, "error", o.To, tail), true
}
