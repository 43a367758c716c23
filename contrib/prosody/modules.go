// Package prosodymodules holds the Prosody modules that ship with the
// group chat service, versioned with it, and writes them where Prosody's
// plugin_paths can find them.
//
// mod_groupchat_multicast is an XEP-0033 multicast service for Prosody
// 0.12, which has none: the component sends a broadcast as one stanza per
// batch of recipients, and Prosody routes one copy per address. See
// README.md in this directory for how to load it.
package prosodymodules

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
)

// Multicast is the name of the multicast module, as Prosody's
// configuration names it (Component "multicast.example.org" "groupchat_multicast").
const Multicast = "groupchat_multicast"

// MulticastSource is the module's Lua source.
//
//go:embed mod_groupchat_multicast.lua
var MulticastSource []byte

// SendersOption and MaxAddressesOption are the module's settings: the
// component domains allowed to multicast, and the most addresses one
// stanza may carry (stated in the service's disco#info).
const (
	SendersOption      = "groupchat_multicast_senders"
	MaxAddressesOption = "groupchat_multicast_max_addresses"
)

// Install writes every module into dir, creating it, for Prosody's
// plugin_paths.
func Install(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("prosody modules: %w", err)
	}
	name := filepath.Join(dir, "mod_"+Multicast+".lua")
	if err := os.WriteFile(name, MulticastSource, 0o644); err != nil {
		return fmt.Errorf("prosody modules: %w", err)
	}
	return nil
}
