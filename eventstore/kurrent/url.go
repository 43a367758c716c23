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
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("eventstore/kurrent: connection string %q has no scheme; want for example kurrentdb://localhost:2113?tls=false", redact(raw))
	}
	to, ok := schemes[strings.ToLower(scheme)]
	if !ok {
		return nil, fmt.Errorf("eventstore/kurrent: connection string scheme %q is not one of kurrentdb, kurrent, kdb, esdb (each optionally +discover)", scheme)
	}
	if _, query, ok := strings.Cut(rest, "?"); ok {
		values, err := url.ParseQuery(query)
		if err != nil {
			return nil, fmt.Errorf("eventstore/kurrent: connection string %q: %w", redact(raw), err)
		}
		for key := range values {
			if !settings[strings.ToLower(key)] {
				return nil, fmt.Errorf("eventstore/kurrent: connection string setting %q is unknown; known settings: %s", key, knownSettings())
			}
		}
	}
	cfg, err := esdb.ParseConnectionString(to + "://" + rest)
	if err != nil {
		// The client's errors may quote the whole string, password included.
		msg := err.Error()
		if pw := password(raw); pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
		return nil, fmt.Errorf("eventstore/kurrent: connection string %q: %s", redact(raw), msg)
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
	if pw := password(raw); pw != "" {
		scheme, rest, _ := strings.Cut(raw, "://")
		userinfo, host, _ := strings.Cut(rest, "@")
		user, _, _ := strings.Cut(userinfo, ":")
		return scheme + "://" + user + ":xxxxx@" + host
	}
	return raw
}

// password returns the password of a connection string, if it has one.
func password(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	userinfo, _, ok := strings.Cut(rest, "@")
	if !ok {
		return ""
	}
	_, pw, _ := strings.Cut(userinfo, ":")
	return pw
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
