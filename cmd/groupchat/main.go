// Command groupchat is the membership-based group chat service for mobile
// XMPP clients, run as an XMPP external component (XEP-0114).
package main

import "os"

func main() { os.Exit(run(os.Args[1:])) }
