package xmppclient

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
)

// NSClient is the namespace of stanzas on a client-to-server stream.
const NSClient = "jabber:client"

// nsXML is the namespace bound to the reserved "xml" prefix (xml:lang).
const nsXML = "http://www.w3.org/XML/1998/namespace"

// Stanza is a received XML element as a small generic tree. The top-level
// Stanza is a whole stanza (message, presence or iq, in namespace
// "jabber:client"); Children are its child elements, recursively.
//
// Names carry resolved namespaces: Name.Space is the namespace URI, never a
// prefix. Attrs excludes namespace declarations (xmlns and xmlns:prefix); the
// namespace of an element is in Name.Space instead.
type Stanza struct {
	// Name is the element's namespace URI and local name.
	Name xml.Name
	// Attrs are the element's attributes, in document order, without
	// namespace declarations. xml:lang has Name.Space
	// "http://www.w3.org/XML/1998/namespace".
	Attrs []xml.Attr
	// Children are the child elements in document order.
	Children []*Stanza
	// Text is the character data directly inside this element (not inside
	// its children), concatenated.
	Text string
	// Raw is the element serialized as XML text, set on top-level stanzas
	// only. It is a re-serialization of the parsed tree, not the received
	// bytes: namespaces are declared with xmlns where they change (including
	// xmlns="jabber:client" on the stanza itself), attribute quoting and
	// escaping are normalized, and whitespace-only text between child elements
	// is dropped.
	Raw string
}

// Attr returns the value of the first attribute with the given local name
// and no namespace, or "" if there is none.
func (s *Stanza) Attr(local string) string {
	v, _ := s.LookupAttr("", local)
	return v
}

// AttrNS returns the value of the attribute with the given namespace and
// local name, or "" if there is none. Use "" for attributes without a
// namespace.
func (s *Stanza) AttrNS(space, local string) string {
	v, _ := s.LookupAttr(space, local)
	return v
}

// LookupAttr returns the value of the attribute with the given namespace and
// local name and whether it is present.
func (s *Stanza) LookupAttr(space, local string) (string, bool) {
	if s == nil {
		return "", false
	}
	for _, a := range s.Attrs {
		if a.Name.Local == local && a.Name.Space == space {
			return a.Value, true
		}
	}
	return "", false
}

// ID returns the id attribute.
func (s *Stanza) ID() string { return s.Attr("id") }

// Type returns the type attribute.
func (s *Stanza) Type() string { return s.Attr("type") }

// From returns the from attribute.
func (s *Stanza) From() string { return s.Attr("from") }

// To returns the to attribute.
func (s *Stanza) To() string { return s.Attr("to") }

// Is reports whether the element has the given namespace and local name. An
// empty space matches any namespace.
func (s *Stanza) Is(space, local string) bool {
	return s != nil && s.Name.Local == local && (space == "" || s.Name.Space == space)
}

// Child returns the first child element with the given namespace and local
// name, or nil. An empty space matches any namespace.
func (s *Stanza) Child(space, local string) *Stanza {
	if s == nil {
		return nil
	}
	for _, c := range s.Children {
		if c.Is(space, local) {
			return c
		}
	}
	return nil
}

// ChildrenNamed returns all child elements with the given namespace and local
// name. An empty space matches any namespace.
func (s *Stanza) ChildrenNamed(space, local string) []*Stanza {
	if s == nil {
		return nil
	}
	var out []*Stanza
	for _, c := range s.Children {
		if c.Is(space, local) {
			out = append(out, c)
		}
	}
	return out
}

// ChildText returns the Text of the first child with the given namespace and
// local name, or "" if there is none. An empty space matches any namespace.
func (s *Stanza) ChildText(space, local string) string {
	if c := s.Child(space, local); c != nil {
		return c.Text
	}
	return ""
}

// Find returns the first descendant element matching path, or nil. Find is
// nil-safe, so calls can be chained.
//
// A path is a list of steps separated by "/", each matching one level of
// children below s (s itself is not part of the path). A step is "local"
// (any namespace), "{namespace}local" or "*" (any element); the namespace may
// itself contain "/". For example, on a message carrying a XEP-0313 result:
//
//	s.Find("{urn:xmpp:mam:2}result/{urn:xmpp:forward:0}forwarded/{jabber:client}message/body")
func (s *Stanza) Find(path string) *Stanza {
	all := s.findAll(path, true)
	if len(all) == 0 {
		return nil
	}
	return all[0]
}

// FindAll returns all descendant elements matching path in document order.
// See Find for the path syntax.
func (s *Stanza) FindAll(path string) []*Stanza {
	return s.findAll(path, false)
}

func (s *Stanza) findAll(path string, first bool) []*Stanza {
	if s == nil {
		return nil
	}
	steps := splitPath(path)
	cur := []*Stanza{s}
	for i, st := range steps {
		var next []*Stanza
		for _, e := range cur {
			for _, c := range e.Children {
				if st.matches(c) {
					next = append(next, c)
					if first && i == len(steps)-1 {
						return next
					}
				}
			}
		}
		cur = next
		if len(cur) == 0 {
			return nil
		}
	}
	return cur
}

type pathStep struct {
	any          bool
	space, local string
	spaceGiven   bool
}

func (p pathStep) matches(s *Stanza) bool {
	if p.any {
		return true
	}
	return s.Name.Local == p.local && (!p.spaceGiven || s.Name.Space == p.space)
}

func splitPath(path string) []pathStep {
	var steps []pathStep
	for len(path) > 0 {
		var st pathStep
		if path[0] == '{' {
			end := strings.IndexByte(path, '}')
			if end < 0 {
				end = len(path) - 1
			}
			st.space, st.spaceGiven = path[1:end], true
			path = path[end+1:]
		}
		i := strings.IndexByte(path, '/')
		if i < 0 {
			i = len(path)
		}
		st.local = path[:i]
		st.any = st.local == "*" && !st.spaceGiven
		if i < len(path) {
			i++
		}
		path = path[i:]
		if st.local != "" || st.spaceGiven {
			steps = append(steps, st)
		}
	}
	return steps
}

// String returns the element serialized as XML (see Raw for the form).
func (s *Stanza) String() string {
	if s == nil {
		return "<nil>"
	}
	if s.Raw != "" {
		return s.Raw
	}
	return s.serialize()
}

func (s *Stanza) serialize() string {
	var b strings.Builder
	writeElement(&b, s, "")
	return b.String()
}

func writeElement(b *strings.Builder, s *Stanza, parentNS string) {
	b.WriteByte('<')
	b.WriteString(s.Name.Local)
	if s.Name.Space != parentNS {
		b.WriteString(` xmlns="`)
		xml.EscapeText(b, []byte(s.Name.Space))
		b.WriteByte('"')
	}
	var prefixes map[string]string
	for _, a := range s.Attrs {
		b.WriteByte(' ')
		switch a.Name.Space {
		case "":
		case nsXML:
			b.WriteString("xml:")
		default:
			if prefixes == nil {
				prefixes = map[string]string{}
			}
			p, ok := prefixes[a.Name.Space]
			if !ok {
				p = "ns" + strconv.Itoa(len(prefixes)+1)
				prefixes[a.Name.Space] = p
				b.WriteString("xmlns:" + p + `="`)
				xml.EscapeText(b, []byte(a.Name.Space))
				b.WriteString(`" `)
			}
			b.WriteString(p + ":")
		}
		b.WriteString(a.Name.Local)
		b.WriteString(`="`)
		xml.EscapeText(b, []byte(a.Value))
		b.WriteByte('"')
	}
	if len(s.Children) == 0 && s.Text == "" {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	xml.EscapeText(b, []byte(s.Text))
	for _, c := range s.Children {
		writeElement(b, c, s.Name.Space)
	}
	b.WriteString("</")
	b.WriteString(s.Name.Local)
	b.WriteByte('>')
}

// ParseStanza parses the first element of an XML text into a Stanza (with
// Raw set). An element without a namespace declaration gets the namespace
// "jabber:client", as it would on a client stream. It is meant for tests
// that compare what they received with text from a specification.
func ParseStanza(text string) (*Stanza, error) {
	d := xml.NewDecoder(strings.NewReader(text))
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, errors.New("xmppclient: no element in text")
			}
			return nil, err
		}
		if start, ok := tok.(xml.StartElement); ok {
			s, err := build(start, d, NSClient)
			if err != nil {
				return nil, err
			}
			s.Raw = s.serialize()
			return s, nil
		}
	}
}

// build reads the rest of the element started by start from r (everything up
// to and including the matching end element, or up to io.EOF) into a tree.
// Elements in the empty namespace get defaultNS.
func build(start xml.StartElement, r xml.TokenReader, defaultNS string) (*Stanza, error) {
	root := newNode(start, defaultNS)
	stack := []*Stanza{root}
	text := [][]byte{nil} // character data per open element
	for len(stack) > 0 {
		tok, err := r.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			n := newNode(t, top.Name.Space)
			top.Children = append(top.Children, n)
			stack = append(stack, n)
			text = append(text, nil)
		case xml.EndElement:
			top.Text = string(text[len(text)-1])
			if len(top.Children) > 0 && strings.TrimSpace(top.Text) == "" {
				top.Text = ""
			}
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
		case xml.CharData:
			text[len(text)-1] = append(text[len(text)-1], t...)
		}
	}
	if len(stack) > 0 {
		// Input ended early; keep what was read.
		for i := len(stack) - 1; i >= 0; i-- {
			stack[i].Text = string(text[i])
		}
	}
	return root, nil
}

func newNode(start xml.StartElement, parentNS string) *Stanza {
	n := &Stanza{Name: start.Name}
	if n.Name.Space == "" {
		n.Name.Space = parentNS
	}
	if len(start.Attr) > 0 {
		n.Attrs = make([]xml.Attr, 0, len(start.Attr))
		for _, a := range start.Attr {
			if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
				continue
			}
			n.Attrs = append(n.Attrs, a)
		}
	}
	return n
}
