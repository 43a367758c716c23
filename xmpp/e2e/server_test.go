package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/uuchat/groupchat/internal/testenv/ejabberd"
	"github.com/uuchat/groupchat/internal/testenv/prosody"
)

// The XMPP servers the suite runs behind, chosen with GROUPCHAT_E2E_SERVER.
const (
	serverProsody  = "prosody" // the default
	serverEjabberd = "ejabberd"
)

// xmppServer is what the suite needs of the XMPP server the component is
// linked to; *prosody.Server and *ejabberd.Server both provide it.
type xmppServer interface {
	// C2SAddr and ComponentAddr are the client and XEP-0114 listeners.
	C2SAddr() string
	ComponentAddr() string
	// Register creates an account on xmppDomain.
	Register(ctx context.Context, user, password string) error
	// Restart stops and starts the server with the same ports and data.
	Restart(ctx context.Context) error
	// Stop ends the server.
	Stop() error
}

// serverKind returns the server named by GROUPCHAT_E2E_SERVER.
func serverKind() (string, error) {
	switch k := os.Getenv("GROUPCHAT_E2E_SERVER"); k {
	case "", serverProsody:
		return serverProsody, nil
	case serverEjabberd:
		return serverEjabberd, nil
	default:
		return "", fmt.Errorf("GROUPCHAT_E2E_SERVER=%q: want %s or %s", k, serverProsody, serverEjabberd)
	}
}

// serverInstalled reports whether the chosen server can be started, with
// the package that provides it.
func serverInstalled(kind string) (bool, string) {
	if kind == serverEjabberd {
		return ejabberd.Installed(), "ejabberd"
	}
	return prosody.Installed(), "prosody"
}

// serverOptions are services a test adds to the chosen server.
type serverOptions struct {
	// PubSub, if not empty, is the domain of a publish-subscribe service
	// (the push tests' app server) administered by PubSubAdmins (bare JIDs).
	PubSub       string
	PubSubAdmins []string
	// NoMulticast leaves the server without an XEP-0033 multicast
	// service: without the project's module behind Prosody, without
	// mod_multicast behind ejabberd.
	NoMulticast bool
}

// startServer starts the chosen server under dir with the component
// configured and listed in disco#items of xmppDomain.
func startServer(ctx context.Context, kind, dir string, extra serverOptions) (xmppServer, error) {
	if kind == serverEjabberd {
		return ejabberd.Start(ctx, ejabberd.Options{
			Dir: filepath.Join(dir, "ejabberd"), Domain: xmppDomain,
			Components:   map[string]string{service: secret},
			PubSub:       extra.PubSub,
			PubSubAdmins: extra.PubSubAdmins,
			// Small, so that a group's broadcast takes several stanzas.
			MulticastLimit: multicastLimit,
			NoMulticast:    extra.NoMulticast,
		})
	}
	return prosody.Start(ctx, prosody.Options{
		Dir: filepath.Join(dir, "prosody"), Domain: xmppDomain,
		Components:     map[string]string{service: secret},
		ComponentNames: map[string]string{service: "Group Chat Service"},
		PubSub:         extra.PubSub,
		PubSubAdmins:   extra.PubSubAdmins,
		// The project's XEP-0033 module, as groupchat dev loads it; the
		// same small limit as behind ejabberd.
		Multicast:      !extra.NoMulticast,
		MulticastLimit: multicastLimit,
	})
}

// registerUsers creates the accounts (password = name), in one call where
// the server offers it: each ejabberd registration otherwise starts an
// Erlang VM.
func registerUsers(ctx context.Context, srv xmppServer, names []string) error {
	if e, ok := srv.(*ejabberd.Server); ok {
		m := make(map[string]string, len(names))
		for _, u := range names {
			m[u] = u
		}
		return e.RegisterMany(ctx, m)
	}
	for _, u := range names {
		if err := srv.Register(ctx, u, u); err != nil {
			return err
		}
	}
	return nil
}
