package xmppclient

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

const mamResult = `<message to='juliet@capulet.lit/balcony' from='coven@chat.shakespeare.lit' id='m1'>
  <result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482-98726-73623'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
      <message xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' type='groupchat' xml:lang='en'>
        <body>Thrice the brinded cat hath mew'd &amp; more.</body>
        <x:extra xmlns:x='urn:example:x' x:flag='yes'>a<b/>c</x:extra>
      </message>
    </forwarded>
  </result>
</message>`

func TestParseStanza(t *testing.T) {
	s, err := ParseStanza(mamResult)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != (xml.Name{Space: NSClient, Local: "message"}) {
		t.Errorf("name %v", s.Name)
	}
	if s.ID() != "m1" || s.From() != "coven@chat.shakespeare.lit" || s.To() != "juliet@capulet.lit/balcony" || s.Type() != "" {
		t.Errorf("attrs %v", s.Attrs)
	}
	res := s.Child("urn:xmpp:mam:2", "result")
	if res == nil || res.Attr("queryid") != "f27" {
		t.Fatalf("result: %v", res)
	}
	for _, a := range res.Attrs {
		if a.Name.Local == "xmlns" {
			t.Errorf("namespace declaration kept as attribute: %v", a)
		}
	}
	if s.Child("", "result") != res || s.Child("urn:other", "result") != nil {
		t.Error("Child namespace matching")
	}
	body := s.Find("{urn:xmpp:mam:2}result/{urn:xmpp:forward:0}forwarded/{jabber:client}message/body")
	if body == nil || body.Text != "Thrice the brinded cat hath mew'd & more." || body.Name.Space != NSClient {
		t.Fatalf("body: %+v", body)
	}
	if d := s.Find("result/forwarded/{urn:xmpp:delay}delay"); d == nil || d.Attr("stamp") != "2010-07-10T23:08:25Z" {
		t.Errorf("delay: %v", d)
	}
	inner := s.Find("*/*/message")
	if inner.AttrNS("http://www.w3.org/XML/1998/namespace", "lang") != "en" {
		t.Errorf("xml:lang: %v", inner.Attrs)
	}
	extra := inner.Child("urn:example:x", "extra")
	if extra.AttrNS("urn:example:x", "flag") != "yes" || extra.Text != "ac" || len(extra.Children) != 1 {
		t.Errorf("extra: %+v", extra)
	}
	if s.Find("result/nothing/body") != nil || (*Stanza)(nil).Find("a") != nil || s.Find("{urn:xmpp:mam:2}result").Find("forwarded") == nil {
		t.Error("Find misses")
	}
	if n := len(s.FindAll("*/*/*")); n != 2 {
		t.Errorf("FindAll */*/* = %d, want 2 (delay, message)", n)
	}

	// Raw re-parses to the same tree.
	again, err := ParseStanza(s.Raw)
	if err != nil {
		t.Fatalf("%v in %s", err, s.Raw)
	}
	if again.Raw != s.Raw {
		t.Errorf("Raw not stable:\n%s\n%s", s.Raw, again.Raw)
	}
	if !strings.HasPrefix(s.Raw, `<message xmlns="jabber:client"`) || !strings.Contains(s.Raw, `xml:lang="en"`) {
		t.Errorf("Raw: %s", s.Raw)
	}
}

func TestCheckElements(t *testing.T) {
	for _, ok := range []string{
		`<presence/>`,
		` <message to='a@b'><body>x</body></message>
		  <presence/> `,
		`<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>`,
	} {
		if err := checkElements(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{
		``, `   `, `text`, `<message>`, `<message></presence>`, `<a/>junk`, `<!-- c --><a/>`, `<?xml version='1.0'?><a/>`,
	} {
		if err := checkElements(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestExpectKeepsOthers(t *testing.T) {
	c := &Client{done: make(chan struct{}), changed: make(chan struct{})}
	for _, id := range []string{"a", "b", "c"} {
		s, _ := ParseStanza(`<message id='` + id + `'/>`)
		c.deliver(s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	b, err := c.Expect(ctx, func(s *Stanza) bool { return s.ID() == "b" })
	if err != nil || b.ID() != "b" {
		t.Fatal(b, err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		s, _ := ParseStanza(`<message id='d'/>`)
		c.deliver(s)
	}()
	d, err := c.Expect(ctx, func(s *Stanza) bool { return s.ID() == "d" })
	if err != nil || d.ID() != "d" {
		t.Fatal(d, err)
	}
	for _, want := range []string{"a", "c"} {
		s, err := c.Next(ctx)
		if err != nil || s.ID() != want {
			t.Fatalf("Next = %v, %v; want %s", s, err, want)
		}
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := c.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next on empty queue: %v", err)
	}

	// After the stream ends, queued stanzas come first, then io.EOF.
	s, _ := ParseStanza(`<message id='e'/>`)
	c.deliver(s)
	c.mu.Lock()
	close(c.done)
	c.notifyLocked()
	c.mu.Unlock()
	if s, err := c.Next(ctx); err != nil || s.ID() != "e" {
		t.Fatalf("Next after end = %v, %v", s, err)
	}
	if _, err := c.Next(ctx); err != io.EOF {
		t.Errorf("Next after end and drain: %v, want io.EOF", err)
	}
}

func TestCallbackMode(t *testing.T) {
	var got []string
	c := &Client{done: make(chan struct{}), changed: make(chan struct{}), opts: Options{OnStanza: func(s *Stanza) { got = append(got, s.ID()) }}}
	s, _ := ParseStanza(`<message id='x'/>`)
	c.deliver(s)
	if len(got) != 1 || got[0] != "x" || len(c.Pending()) != 0 {
		t.Errorf("got %v, pending %d", got, len(c.Pending()))
	}
	if _, err := c.Next(context.Background()); !errors.Is(err, ErrCallbackMode) {
		t.Errorf("Next in callback mode: %v", err)
	}
}
