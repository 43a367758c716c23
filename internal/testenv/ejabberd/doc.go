// Package ejabberd runs a real ejabberd (23.01, Debian's package) as a child
// process for end-to-end tests and local development, beside package prosody,
// so that the component is proven behind both servers.
//
// Start writes a generated ejabberd.yml into Options.Dir and starts the
// Erlang VM directly ("erl -name NODE ... -s ejabberd") as the current user:
// Debian's ejabberdctl would switch to the ejabberd system user and use the
// system-wide node, configuration and spool. Each instance has its own node
// name (kept in Dir, since Mnesia tags its data with it), its own cookie, its
// own Mnesia spool and log, and a fixed Erlang distribution port on loopback
// instead of epmd, so several instances run at once and none leaves an epmd
// behind. Start waits until ejabberd has logged that it started and accepts
// TCP connections on its client (c2s) port and its external component
// (XEP-0114, ejabberd_service) port. Everything listens on 127.0.0.1 only;
// TLS is off and PLAIN authentication is allowed on the unencrypted stream,
// so plain TCP clients such as package xmppclient can log in; traffic shapers
// are off; server-to-server traffic is refused. Options.PubSub adds
// ejabberd's own mod_pubsub on a local domain, where only
// Options.PubSubAdmins create nodes, as a stand-in for an XEP-0357 app
// server. Options.MUC adds ejabberd's mod_muc (XEP-0045) on a local domain,
// where anyone creates public, persistent rooms by joining them, and
// Options.MUCMAM makes every room keep a XEP-0313 archive (mod_mam): the
// anchors of the load benchmark behind ejabberd. mod_multicast (XEP-0033) is always on, at "multicast." and the
// domain, taking Options.MulticastLimit addresses per stanza from a
// component in a subdomain (its relay rule lets such a sender through).
//
// Typical test usage:
//
//	srv, err := ejabberd.Start(ctx, ejabberd.Options{
//		Dir:        t.TempDir(),
//		Domain:     "example.test",
//		Components: map[string]string{"groupchat.example.test": "s3cret"},
//	})
//	if err != nil {
//		t.Fatal(err)
//	}
//	t.Cleanup(func() { srv.Stop() })
//	err = srv.Register(ctx, "alice", "password")
//
// Register and Ctl run ejabberdctl commands against the running node the way
// ejabberdctl does (a hidden Erlang node calling ejabberd_ctl), with this
// instance's cookie and distribution port; RegisterMany registers hundreds of
// accounts through one such node.
//
// The VM is placed in its own process group and, on Linux, is killed by the
// kernel when the process that started it exits, so an interrupted test run
// does not leave ejabberd running. Callers should still call Stop, which
// shuts the node down in order.
package ejabberd
