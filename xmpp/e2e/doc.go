// Package e2e holds the end-to-end tests of the service: a real XMPP server
// started on 127.0.0.1 (Prosody by default; ejabberd with
// GROUPCHAT_E2E_SERVER=ejabberd), the groupchat binary built from
// cmd/groupchat and connected to it as an XEP-0114 component, and real XMPP
// clients logging in over c2s. The tests are written from the protocol's
// specification, with stanzas as clients write them, and assert what each
// client receives. The few that depend on one server's behaviour say so and
// are skipped behind the other.
package e2e
