package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
	"github.com/uuchat/groupchat/internal/webclient"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// The group dev makes at start, so that a newcomer has somewhere to talk:
// alice owns it and bob is its member.
const (
	demoGroup     = "demo"
	demoGroupName = "Demo"
)

// ensureDemoGroup creates the demo group as its owner through the XMPP
// server, as any client would; a group already there (a later start on the
// same data) is left as it is.
func ensureDemoGroup(ctx context.Context, c2s, domain, service string, owner [2]string, members []string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	me, err := jid.Parse(owner[0] + "@" + domain + "/dev-setup")
	if err != nil {
		return err
	}
	c, err := xmppclient.Dial(ctx, c2s, me, owner[1])
	if err != nil {
		return err
	}
	defer c.Close()
	group := demoGroup + "@" + service
	items := ""
	for _, m := range members {
		items += fmt.Sprintf(`<item jid="%s@%s" mid="%s" nick="%s" role="member"/>`, m, domain, m, m)
	}
	if err := c.SendRaw(ctx, `<presence to="`+group+`"><x xmlns="`+protocol.NSCreate+`"/><properties>`+
		`<property name="name">`+demoGroupName+`</property><property name="members">`+items+`</property></properties></presence>`); err != nil {
		return err
	}
	res, err := c.Expect(ctx, func(s *xmppclient.Stanza) bool {
		return s.Is("", "presence") && s.From() == group && s.Child(protocol.NSCreate, "x") != nil
	})
	if err != nil {
		return fmt.Errorf("no answer from %s: %w", group, err)
	}
	if res.Type() == "error" {
		if res.Find("{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}conflict") != nil {
			return nil
		}
		return fmt.Errorf("refused: %s", res.Raw)
	}
	return nil
}

// webClient is the browser client dev serves, or why there is none.
type webClient struct {
	url    string
	reason string
	ln     net.Listener
	cfg    webclient.Config
}

// prepareWebClient installs Converse if needed and binds the page's port
// before the XMPP server starts, so that a port in use stops dev at once.
// Without npm, or behind ejabberd, dev runs without the browser client and
// says why.
func prepareWebClient(ctx context.Context, server, dir string, port int) (*webClient, error) {
	if server != "prosody" {
		return &webClient{reason: "it needs Prosody's mod_websocket; run dev behind Prosody (the default)"}, nil
	}
	dist, err := webclient.Install(ctx, dir, os.Stderr)
	if err != nil {
		return &webClient{reason: err.Error()}, nil
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("port %d on 127.0.0.1 is in use: choose another with --web-port", port)
	}
	return &webClient{url: "http://" + ln.Addr().String() + "/", ln: ln, cfg: webclient.Config{Dist: dist}}, nil
}

// serve answers the page until ctx ends.
func (w *webClient) serve(ctx context.Context, log *slog.Logger) {
	srv := &http.Server{Handler: webclient.Handler(w.cfg), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	go func() {
		if err := srv.Serve(w.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("the browser client's listener failed", "err", err)
		}
	}()
}
