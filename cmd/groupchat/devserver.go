package main

import (
	"context"
	"fmt"

	"github.com/uuchat/groupchat/internal/testenv/ejabberd"
	"github.com/uuchat/groupchat/internal/testenv/prosody"
)

// devServer is the private XMPP server that dev runs the component behind.
type devServer interface {
	Register(ctx context.Context, user, password string) error
	C2SAddr() string
	ComponentAddr() string
	LogPath() string
	Stop() error
}

// devServerOptions says what dev needs of either server.
type devServerOptions struct {
	dir, domain       string
	component, secret string
	name              string
	c2sPort, compPort int
	// webSocketPort, if not zero, opens XMPP over WebSocket there (Prosody
	// only).
	webSocketPort int
}

// startDevServer starts kind ("prosody" or "ejabberd") on loopback with the
// component configured.
func startDevServer(ctx context.Context, kind string, o devServerOptions) (devServer, error) {
	switch kind {
	case "prosody":
		return prosody.Start(ctx, prosody.Options{
			Dir: o.dir, Domain: o.domain,
			Components:     map[string]string{o.component: o.secret},
			ComponentNames: map[string]string{o.component: o.name},
			C2SPort:        o.c2sPort, ComponentPort: o.compPort,
			WebSocket: o.webSocketPort != 0, HTTPPort: o.webSocketPort,
			// The project's XEP-0033 service, so that broadcasts cross
			// the component link once per batch of recipients.
			Multicast: true,
		})
	case "ejabberd":
		return ejabberd.Start(ctx, ejabberd.Options{
			Dir: o.dir, Domain: o.domain,
			Components: map[string]string{o.component: o.secret},
			C2SPort:    o.c2sPort, ComponentPort: o.compPort,
		})
	}
	return nil, fmt.Errorf("--xmpp-server %q: want prosody or ejabberd", kind)
}
