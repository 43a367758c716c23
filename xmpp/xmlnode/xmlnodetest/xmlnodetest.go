// Package xmlnodetest holds checks shared by the tests of the packages that
// read and write stanzas: a strict namespace well-formedness check and a
// tree comparison.
package xmlnodetest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Diff describes the first difference between two trees, or returns ""
// when they are equal.
func Diff(a, b *xmlnode.Node) string { return diffAt("/", a, b) }

func diffAt(path string, a, b *xmlnode.Node) string {
	switch {
	case a == nil && b == nil:
		return ""
	case a == nil || b == nil:
		return fmt.Sprintf("%s: one node is nil", path)
	}
	if a.Name != b.Name {
		return fmt.Sprintf("%s: name %v != %v", path, a.Name, b.Name)
	}
	here := path + a.Name.Local
	if a.IsText() {
		here = path + "#text"
	}
	if a.Text != b.Text {
		return fmt.Sprintf("%s: text %q != %q", here, a.Text, b.Text)
	}
	if fmt.Sprint(a.Attrs) != fmt.Sprint(b.Attrs) {
		return fmt.Sprintf("%s: attributes %v != %v", here, a.Attrs, b.Attrs)
	}
	if len(a.Children) != len(b.Children) {
		return fmt.Sprintf("%s: %d children != %d children", here, len(a.Children), len(b.Children))
	}
	for i := range a.Children {
		if d := diffAt(fmt.Sprintf("%s/%d:", here, i), a.Children[i], b.Children[i]); d != "" {
			return d
		}
	}
	return ""
}

const (
	xmlURL   = "http://www.w3.org/XML/1998/namespace"
	xmlnsURL = "http://www.w3.org/2000/xmlns/"
)

// WellFormed is stricter than encoding/xml: beyond XML 1.0
// well-formedness (which the decoder checks) it checks what the decoder lets
// through and an XMPP server refuses: duplicate attributes (by written name
// and by expanded name), undeclared prefixes, names that are not QNames, and
// reserved prefixes or namespaces misused (Namespaces in XML 1.0).
func WellFormed(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	d = xml.NewDecoder(strings.NewReader(s))
	scopes := []map[string]string{{"xml": xmlURL}}
	lookup := func(prefix string) (string, bool) {
		for i := len(scopes) - 1; i >= 0; i-- {
			if uri, ok := scopes[i][prefix]; ok {
				return uri, true
			}
		}
		return "", false
	}
	qname := func(n xml.Name) error {
		if n.Local == "" || strings.Contains(n.Local, ":") {
			return fmt.Errorf("%q is not a QName", n.Space+":"+n.Local)
		}
		return nil
	}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			scope := map[string]string{}
			written := map[xml.Name]bool{}
			for _, a := range t.Attr {
				if written[a.Name] {
					return fmt.Errorf("<%s>: attribute %s:%s written twice", t.Name.Local, a.Name.Space, a.Name.Local)
				}
				written[a.Name] = true
				if err := qname(a.Name); err != nil {
					return err
				}
				switch {
				case a.Name.Space == "xmlns":
					switch {
					case a.Value == "":
						return fmt.Errorf("prefix %q bound to the empty namespace", a.Name.Local)
					case a.Name.Local == "xmlns" || a.Value == xmlnsURL:
						return fmt.Errorf("the xmlns prefix or namespace bound")
					case (a.Name.Local == "xml") != (a.Value == xmlURL):
						return fmt.Errorf("the xml prefix or namespace misbound")
					}
					scope[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					if a.Value == xmlURL || a.Value == xmlnsURL {
						return fmt.Errorf("a reserved namespace as default")
					}
				}
			}
			scopes = append(scopes, scope)
			if err := qname(t.Name); err != nil {
				return err
			}
			if t.Name.Space != "" {
				if t.Name.Space == "xmlns" {
					return fmt.Errorf("element <%s:%s> uses the xmlns prefix", t.Name.Space, t.Name.Local)
				}
				if _, ok := lookup(t.Name.Space); !ok {
					return fmt.Errorf("element <%s:%s>: undeclared prefix", t.Name.Space, t.Name.Local)
				}
			}
			expanded := map[xml.Name]bool{}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				name := a.Name
				if name.Space != "" {
					uri, ok := lookup(name.Space)
					if !ok {
						return fmt.Errorf("attribute %s:%s: undeclared prefix", name.Space, name.Local)
					}
					name.Space = uri
				}
				if expanded[name] {
					return fmt.Errorf("<%s>: attribute {%s}%s twice", t.Name.Local, name.Space, name.Local)
				}
				expanded[name] = true
			}
		case xml.EndElement:
			scopes = scopes[:len(scopes)-1]
		}
	}
}
