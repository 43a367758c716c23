package xmlnode

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Node is one XML element. Name.Space is the element's namespace URI (not a
// prefix). Attrs excludes namespace declarations.
type Node struct {
	Name  xml.Name
	Attrs []xml.Attr
	// Children are the element's content in document order: elements, and
	// text nodes (empty Name.Local) so mixed content survives a round trip.
	Children []*Node
	// Text is the element's character data (all text children joined); for a
	// text node, its text.
	Text string
}

// IsText reports whether n is a text node.
func (n *Node) IsText() bool { return n.Name.Local == "" }

// Attr returns the value of the attribute with the given local name and no
// namespace, or "".
func (n *Node) Attr(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// Child returns the first child with the given namespace and local name; an
// empty space matches any namespace.
func (n *Node) Child(space, local string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name.Local == local && (space == "" || c.Name.Space == space) {
			return c
		}
	}
	return nil
}

// ChildrenNamed returns every child with the given namespace and local name;
// an empty space matches any namespace.
func (n *Node) ChildrenNamed(space, local string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, c := range n.Children {
		if c.Name.Local == local && (space == "" || c.Name.Space == space) {
			out = append(out, c)
		}
	}
	return out
}

// ChildNS returns the first child in the given namespace, whatever its name.
func (n *Node) ChildNS(space string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name.Space == space && !c.IsText() {
			return c
		}
	}
	return nil
}

// Limits bound what Read accepts.
type Limits struct {
	// MaxBytes bounds the sum of names, attribute values and text, a close
	// estimate of the element's serialized size.
	MaxBytes int
	// MaxDepth bounds nesting; the top element is depth 1.
	MaxDepth int
	// MaxChildren bounds the number of elements in the tree.
	MaxChildren int
}

// DefaultLimits are generous for chat but stop abuse.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 256 << 10, MaxDepth: 32, MaxChildren: 4096}
}

// ErrTooLarge is returned (wrapped in *LimitError) when an element exceeds a limit.
var ErrTooLarge = errors.New("xmlnode: element exceeds a limit")

// ErrInvalidName is returned (wrapped in *LimitError) for an element or
// attribute name that could not be written back as namespaced XML.
var ErrInvalidName = errors.New("xmlnode: invalid element or attribute name")

// LimitError reports an element that was refused: it broke a limit or used
// a name that cannot be written back. The reader has consumed the rest of
// the element, so the stream can go on; Partial holds the top element's name
// and attributes so the caller can answer it.
type LimitError struct {
	What    string
	Partial *Node
	cause   error
}

func (e *LimitError) Error() string {
	if e.cause == ErrInvalidName {
		return "xmlnode: invalid " + e.What
	}
	return "xmlnode: " + e.What + " exceeds its limit"
}

// Unwrap makes errors.Is(err, ErrTooLarge) or errors.Is(err,
// ErrInvalidName) true.
func (e *LimitError) Unwrap() error {
	if e.cause == nil {
		return ErrTooLarge
	}
	return e.cause
}

// Read reads the element that start opens from r (the tokens after start up
// to its matching end). Namespace declarations are dropped from Attrs; their
// effect is in each Name.Space.
func Read(r xml.TokenReader, start xml.StartElement, lim Limits) (*Node, error) {
	rd := reader{lim: lim}
	root := rd.newNode(start)
	stack := []*Node{root}
	text := []*strings.Builder{{}}
	var limitErr *LimitError
	if rd.invalid != "" {
		limitErr = &LimitError{What: rd.invalid, cause: ErrInvalidName}
	}
	for len(stack) > 0 {
		tok, err := r.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			rd.count++
			if limitErr == nil {
				switch {
				case lim.MaxDepth > 0 && len(stack)+1 > lim.MaxDepth:
					limitErr = &LimitError{What: "nesting"}
				case lim.MaxChildren > 0 && rd.count > lim.MaxChildren:
					limitErr = &LimitError{What: "number of elements"}
				}
			}
			n := rd.newNode(t)
			if limitErr == nil && rd.invalid != "" {
				limitErr = &LimitError{What: rd.invalid, cause: ErrInvalidName}
			}
			if limitErr == nil {
				top := stack[len(stack)-1]
				top.Children = append(top.Children, n)
			}
			stack = append(stack, n)
			text = append(text, &strings.Builder{})
		case xml.EndElement:
			top := stack[len(stack)-1]
			top.Text = text[len(text)-1].String()
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
		case xml.CharData:
			rd.size += len(t)
			if limitErr == nil {
				text[len(text)-1].Write(t)
				top := stack[len(stack)-1]
				if k := len(top.Children); k > 0 && top.Children[k-1].IsText() {
					top.Children[k-1].Text += string(t)
				} else {
					top.Children = append(top.Children, &Node{Text: string(t)})
				}
			}
		}
		if limitErr == nil && lim.MaxBytes > 0 && rd.size > lim.MaxBytes {
			limitErr = &LimitError{What: "size"}
		}
	}
	if limitErr != nil {
		limitErr.Partial = &Node{Name: root.Name, Attrs: root.Attrs}
		return nil, limitErr
	}
	return root, nil
}

type reader struct {
	lim   Limits
	size  int
	count int
	// invalid names what made the element unwritable, if anything.
	invalid string
}

func (rd *reader) newNode(start xml.StartElement) *Node {
	n := &Node{Name: start.Name}
	rd.size += len(start.Name.Local) + len(start.Name.Space)
	if !isNCName(start.Name.Local) {
		rd.invalid = "element name"
	}
	for _, a := range start.Attr {
		if a.Name.Space == "xmlns" {
			if a.Value == "" {
				rd.invalid = "namespace declaration"
			}
			continue
		}
		if a.Name.Space == "" && a.Name.Local == "xmlns" {
			continue
		}
		if !isNCName(a.Name.Local) {
			rd.invalid = "attribute name"
		}
		rd.size += len(a.Name.Local) + len(a.Value)
		n.Attrs = append(n.Attrs, a)
	}
	return n
}

// Parse reads the first element of an XML document, for tests and tools.
func Parse(s string, lim Limits) (*Node, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("xmlnode: no element: %w", err)
		}
		if start, ok := tok.(xml.StartElement); ok {
			return Read(d, start, lim)
		}
	}
}

// isNCName reports whether s is a name without a colon, as XML namespaces
// require of local names.
func isNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || r == '\u00B7'):
		default:
			return false
		}
	}
	return true
}
