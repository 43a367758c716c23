// Package servertest is the behavioural test suite both private server
// launchers (packages prosody and ejabberd) run, so that the end-to-end
// tests, the load benchmark and the dev command can rely on the same things
// whichever server they start: a server starts on loopback, its accessors
// describe it, accounts registered on it log in (and registering again
// replaces the password), clients exchange messages and pings through it, an
// XEP-0114 component authenticates and exchanges stanzas with clients, a
// restart keeps addresses and accounts but drops every stream, Stop stops
// this instance only, and the server does not outlive the process that
// started it.
//
// A launcher's tests call Run with a Launcher that starts its server; what
// only one server does (Prosody's MUC, ejabberd's ejabberdctl and PubSub,
// each one's configuration) stays in that launcher's own tests, which use
// this package's helpers (Started, Dial, ComponentSession, ...) too.
package servertest
