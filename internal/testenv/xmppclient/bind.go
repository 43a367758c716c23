package xmppclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

const nsBind = "urn:ietf:params:xml:ns:xmpp-bind"

// bindFeature is the client side of RFC 6120 resource binding, requesting
// resource (or a server-assigned one if it is empty). mellium's
// BindResource in v0.22.0 sends an empty <resource/> whenever a resource is
// requested, so the server always picks one.
func bindFeature(resource string) xmpp.StreamFeature {
	return xmpp.StreamFeature{
		Name:       xml.Name{Space: nsBind, Local: "bind"},
		Necessary:  xmpp.Authn,
		Prohibited: xmpp.Ready,
		Parse: func(_ context.Context, d *xml.Decoder, _ *xml.StartElement) (bool, interface{}, error) {
			return true, nil, d.Skip()
		},
		Negotiate: func(_ context.Context, s *xmpp.Session, _ interface{}) (xmpp.SessionState, io.ReadWriter, error) {
			r := s.TokenReader()
			defer r.Close()
			w := s.TokenWriter()
			defer w.Close()

			var idb [8]byte
			_, _ = rand.Read(idb[:])
			id := "bind-" + hex.EncodeToString(idb[:])
			iq := xml.StartElement{
				Name: xml.Name{Space: stanza.NSClient, Local: "iq"},
				Attr: []xml.Attr{{Name: xml.Name{Local: "type"}, Value: "set"}, {Name: xml.Name{Local: "id"}, Value: id}},
			}
			var payload xml.TokenReader
			if resource != "" {
				payload = xmlstream.Wrap(xmlstream.Token(xml.CharData(resource)), xml.StartElement{Name: xml.Name{Space: nsBind, Local: "resource"}})
			}
			req := xmlstream.Wrap(xmlstream.Wrap(payload, xml.StartElement{Name: xml.Name{Space: nsBind, Local: "bind"}}), iq)
			if _, err := xmlstream.Copy(w, req); err != nil {
				return 0, nil, err
			}
			if err := w.Flush(); err != nil {
				return 0, nil, err
			}

			d := xml.NewTokenDecoder(r)
			var start xml.StartElement
			for {
				tok, err := d.Token()
				if err != nil {
					return 0, nil, err
				}
				if se, ok := tok.(xml.StartElement); ok {
					start = se
					break
				}
			}
			var resp struct {
				ID   string        `xml:"id,attr"`
				Type string        `xml:"type,attr"`
				JID  string        `xml:"urn:ietf:params:xml:ns:xmpp-bind bind>jid"`
				Err  *stanza.Error `xml:"jabber:client error"`
			}
			if err := d.DecodeElement(&resp, &start); err != nil {
				return 0, nil, err
			}
			switch {
			case start.Name.Local != "iq" || resp.ID != id:
				return 0, nil, fmt.Errorf("xmppclient: unexpected <%s id=%q> while binding a resource", start.Name.Local, resp.ID)
			case resp.Type == "error" && resp.Err != nil:
				return 0, nil, fmt.Errorf("xmppclient: binding resource %q: %w", resource, *resp.Err)
			case resp.Type != "result":
				return 0, nil, fmt.Errorf("xmppclient: binding resource %q: reply of type %q", resource, resp.Type)
			}
			j, err := jid.Parse(resp.JID)
			if err != nil {
				return 0, nil, fmt.Errorf("xmppclient: server bound an invalid JID %q: %w", resp.JID, err)
			}
			s.UpdateAddr(j)
			return xmpp.Ready, nil, nil
		},
	}
}
