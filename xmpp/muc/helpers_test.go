package muc_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// sameXML compares two stanzas as XML: names, namespaces, attributes in
// any order, children in order, text trimmed.
func sameXML(t *testing.T, got, want string) {
	t.Helper()
	g, err := canon(got)
	if err != nil {
		t.Fatalf("rendered XML does not parse: %v\n%s", err, got)
	}
	w, err := canon(want)
	if err != nil {
		t.Fatalf("expected XML does not parse: %v\n%s", err, want)
	}
	if g != w {
		t.Errorf("XML differs\n got: %s\nwant: %s", g, w)
	}
}

func canon(s string) (string, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			var attrs []string
			for _, a := range tok.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				attrs = append(attrs, fmt.Sprintf("%s=%q", a.Name.Local, a.Value))
			}
			slices.Sort(attrs)
			fmt.Fprintf(&b, "<{%s}%s %s>", tok.Name.Space, tok.Name.Local, strings.Join(attrs, " "))
		case xml.EndElement:
			b.WriteString("</>")
		case xml.CharData:
			b.WriteString(strings.TrimSpace(string(tok)))
		}
	}
}
