package xmlnode_test

import (
	"encoding/xml"
	"fmt"
	"runtime/debug"

	"github.com/uuchat/groupchat/xmpp/xmlnode"
	"github.com/uuchat/groupchat/xmpp/xmlnode/xmlnodetest"
)

// panicError is a panic of the code under test, turned into an error so
// that one input that makes the reader panic fails its own test only.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// parse is xmlnode.Parse with a panic turned into a *panicError.
func parse(s string, lim xmlnode.Limits) (n *xmlnode.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, &panicError{r, debug.Stack()}
		}
	}()
	return xmlnode.Parse(s, lim)
}

// read is xmlnode.Read with a panic turned into a *panicError.
func read(d xml.TokenReader, start xml.StartElement, lim xmlnode.Limits) (n *xmlnode.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, &panicError{r, debug.Stack()}
		}
	}()
	return xmlnode.Read(d, start, lim)
}

// diffTree reports the first difference between two trees, or "" when they
// are equal: same names, same attributes in the same order, same children
// (elements and text nodes) in the same order, same text.
// firstStart reads tokens from d up to the first start element.
func firstStart(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		if start, ok := tok.(xml.StartElement); ok {
			return start, nil
		}
	}
}

func diffTree(a, b *xmlnode.Node) string { return xmlnodetest.Diff(a, b) }

func checkNamespaceWellFormed(s string) error { return xmlnodetest.WellFormed(s) }

// xmlURL is the namespace bound to the reserved prefix "xml".
const xmlURL = "http://www.w3.org/XML/1998/namespace"
