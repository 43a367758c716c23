// Package address parses and checks XMPP addresses (JIDs) by the rules the
// XMPP servers apply to them: RFC 6122, whose parts are prepared with the
// stringprep profiles nodeprep and resourceprep (RFC 3920 appendices A and
// B) and nameprep (RFC 3491), as Prosody's util.jid and ejabberd's jid
// module do.
//
// The component trusts no other parser with the addresses it reads and
// writes: a JID library that follows the newer PRECIS rules (RFC 7622)
// refuses addresses that the server accepted and routed to the component,
// and an address the server refuses in a stanza the component writes makes
// the server close the component's stream. The stringprep tables (Unicode
// 3.2, RFC 3454) come from github.com/xdg-go/stringprep. Code points
// unassigned in Unicode 3.2 (emoji, for one) are allowed, as both servers
// allow them; an address is written only in its prepared form, which the
// servers' older tables leave as it is.
package address
