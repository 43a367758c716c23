package kurrent

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// schemes maps the connection-string schemes KurrentDB's clients accept to
// the two the v4 Go client parses.
var schemes = map[string]string{
	"esdb":               "esdb",
	"kurrentdb":          "esdb",
	"kurrent":            "esdb",
	"kdb":                "esdb",
	"esdb+discover":      "esdb+discover",
	"kurrentdb+discover": "esdb+discover",
	"kurrent+discover":   "esdb+discover",
	"kdb+discover":       "esdb+discover",
}

// settings are the query parameters the v4 client understands, lowercased.
// The client only logs a warning for any other key; a typo such as "tsl"
// would then silently leave TLS on, so they are refused here instead.
var settings = map[string]bool{
	"discoveryinterval":   true,
	"gossiptimeout":       true,
	"maxdiscoverattempts": true,
	"nodepreference":      true,
	"keepaliveinterval":   true,
	"keepalivetimeout":    true,
	"tls":                 true,
	"tlscafile":           true,
	"usercertfile":        true,
	"userkeyfile":         true,
	"tlsverifycert":       true,
	"defaultdeadline":     true,
}

// parseURL turns a KurrentDB connection string into the client's
// configuration, rewriting the scheme to one the client knows.
func parseURL(raw string) (*esdb.Configuration, error) {
	shown := redact(raw)
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("eventstore/kurrent: connection string %q has no scheme; want for example kurrentdb://localhost:2113?tls=false", shown)
	}
	to, ok := schemes[strings.ToLower(scheme)]
	if !ok {
		return nil, fmt.Errorf("eventstore/kurrent: connection string scheme %q is not one of kurrentdb, kurrent, kdb, esdb (each optionally +discover)", scheme)
	}
	if _, query, ok := strings.Cut(rest, "?"); ok {
		values, err := url.ParseQuery(query)
		if err != nil {
			return nil, fmt.Errorf("eventstore/kurrent: connection string %q: %w", shown, err)
		}
		for key := range values {
			if !settings[strings.ToLower(key)] {
				return nil, fmt.Errorf("eventstore/kurrent: connection string setting %q is unknown; known settings: %s", key, knownSettings())
			}
		}
	}
	// The client's errors may quote the whole string, so it first parses
	// the string with the password masked; only those errors are shown.
	_, shownRest, _ := strings.Cut(shown, "://")
	if _, err := esdb.ParseConnectionString(to + "://" + shownRest); err != nil {
		return nil, fmt.Errorf("eventstore/kurrent: connection string %q: %w", shown, err)
	}
	cfg, err := esdb.ParseConnectionString(to + "://" + rest)
	if err != nil {
		return nil, fmt.Errorf("eventstore/kurrent: connection string %q: the password is not valid in a URL; percent-encode its reserved characters", shown)
	}
	return cfg, nil
}

func knownSettings() string {
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// redact hides the password of a connection string in messages.
func redact(raw string) string {
	at, colon := userinfo(raw)
	if colon < 0 || colon+1 == at {
		return raw
	}
	return raw[:colon+1] + "xxxxx" + raw[at:]
}

// password returns the password of a connection string, if it has one.
func password(raw string) string {
	at, colon := userinfo(raw)
	if colon < 0 {
		return ""
	}
	return raw[colon+1 : at]
}

// userinfo finds, in a connection string, the @ that ends the user
// information and the : before the password (-1 if absent). As in URLs,
// the user information ends at the last @ before the path or query.
func userinfo(raw string) (at, colon int) {
	i := strings.Index(raw, "://")
	if i < 0 {
		return -1, -1
	}
	start := i + 3
	end := len(raw)
	if j := strings.IndexAny(raw[start:], "/?#"); j >= 0 {
		end = start + j
	}
	at = strings.LastIndex(raw[start:end], "@")
	if at < 0 {
		return -1, -1
	}
	at += start
	colon = strings.Index(raw[start:at], ":")
	if colon < 0 {
		return at, -1
	}
	return at, start + colon
}

// describe names the node or cluster a configuration points at.
func describe(cfg *esdb.Configuration) string {
	if len(cfg.GossipSeeds) == 0 {
		return cfg.Address
	}
	seeds := make([]string, len(cfg.GossipSeeds))
	for i, s := range cfg.GossipSeeds {
		seeds[i] = s.String()
	}
	return strings.Join(seeds, ",")
}
