// Package linkwatch reads the log of groupchat serve processes for what it
// says about the component link: each process authenticates once when it
// starts; every later authentication, and every line saying the link was
// lost, is a time when the XMPP server closed the component's stream and
// members lost live delivery until the link came back. The link reconnects
// by itself, so without this a test would pass right through such a drop.
//
// A Log collects the events of all the processes linked to one XMPP server
// (a process that is killed and started again is a new Process, whose first
// authentication is no relink); Mark and Since give what happened in a
// window, and Excuse forgives what a test did on purpose, such as restarting
// the XMPP server.
package linkwatch
