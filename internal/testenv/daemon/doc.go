// Package daemon runs a server process on loopback for tests and local
// development: it starts the process with its output appended to a console
// file, waits until it is ready (marker lines in its log and TCP
// connections accepted on its ports, bounded by a context and failing early
// when the process exits), renders the tails of its log and console for
// error messages, and stops it (SIGTERM, wait, kill after a timeout).
// StartOnFreePorts picks free loopback ports and starts again on other ones
// when another process took one in the meantime; Current holds the process
// of a server that is restarted.
//
// It knows nothing about any particular server: packages prosody and
// ejabberd build the command line, the configuration and the readiness
// markers, and keep their own public API on top of a Process.
//
// The child is placed in its own process group and, on Linux, is killed by
// the kernel when the thread that started it dies, so an interrupted test
// run does not leave servers running. Callers should still call Stop.
package daemon
