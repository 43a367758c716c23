// Package domain is the group aggregate of the service: the commands a user
// can give a group, the rules that decide them, the events they yield and how
// those events evolve a group's state.
//
// It is pure Go without I/O: time, limits and the current state come in as
// arguments, so every decision is deterministic and testable. Adapters (the
// event store, projections, the XMPP component) depend on this package; it
// depends on none of them, only on the standard library and on
// golang.org/x/text/unicode/norm (mids and nicks are stored in NFKC form, see
// NormalizeMID).
//
// Decide(state, command) returns events or a typed *Error whose Kind the
// XMPP layer maps to a stanza error; Evolve(state, event) never fails.
package domain
