// Package loadtest is the end-to-end load benchmark of the group chat
// service, side by side with the XMPP server's own XEP-0045 MUC, with and
// without XEP-0313 room archives: Prosody's mod_muc and mod_muc_mam, or
// ejabberd's mod_muc and mod_mam. The component runs in two ways: fanning
// out through the server's XEP-0033 multicast service where the server
// offers one (groupchat), and one stanza per recipient (groupchat-direct).
//
// Every run starts its own server (package prosody or package ejabberd)
// with the groupchat component and a MUC host, builds and starts the real
// "groupchat serve" binary for the groupchat runs, logs in real c2s clients
// (package xmppclient), puts them in groups and measures what the
// receivers see:
//
//   - live scenarios (G groups x M members, disjoint): senders post to their
//     group at a target rate, with a bounded number of messages in flight per
//     sender (a sender's own reflection frees a slot); each delivery is timed
//     from the send timestamp carried in the body, and every expected
//     delivery is accounted for as received once, lost or duplicated;
//   - the catch-up storm: readers go offline, one poster posts a batch of
//     messages, then all readers reconnect at once and fetch what they
//     missed, with the paged #catchup query (groupchat) or a paged XEP-0313
//     query of the room archive after joining (MUC+MAM); each must get every
//     message exactly once.
//
// CPU time of the server and of the component is read from /proc around
// each measurement, so the report can tell which process is the
// bottleneck, and the bytes the component wrote to the server from its
// /metrics (groupchat_link_bytes_written_total), so it can tell what
// multicast saves on the link.
// Results render as a Markdown table (Markdown) and a PNG chart (Chart)
// drawn with the standard library only.
//
// The command cmd/groupchat-bench wires flags to Config; smoke_test.go runs
// a tiny scenario and checks only that nothing is lost or duplicated: no
// test asserts speed.
package loadtest
