package protocol

import "bytes"

var (
	errorTypeHead = []byte(` type="error" to="`)
	errorElement  = []byte(`<error type="`)
)

// ErrorCondition returns the defined condition of an error stanza rendered
// by ErrorReply (or any stanza whose error element AppendErrorElement
// wrote), and false for every other stanza. It reads the rendered bytes, so
// a decorator around the link can count errors without the service telling
// it: the envelope ends in type="error" only for errors, and the payload
// before the error element is the echoed request element, whose attribute
// values are escaped and so hold no '<'.
func ErrorCondition(o Outbound) (string, bool) {
	if !bytes.HasSuffix(o.Head, errorTypeHead) {
		return "", false
	}
	i := bytes.Index(o.Tail, errorElement)
	if i < 0 {
		return "", false
	}
	rest := o.Tail[i+len(errorElement):]
	// The condition is the first child element of <error ...>.
	open := bytes.IndexByte(rest, '>')
	if open < 0 || open+2 > len(rest) || rest[open+1] != '<' {
		return "", false
	}
	name := rest[open+2:]
	end := bytes.IndexAny(name, " />")
	if end <= 0 {
		return "", false
	}
	return string(name[:end]), true
}
