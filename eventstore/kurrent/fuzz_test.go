package kurrent

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"kurrentdb://localhost:2113?tls=false",
		"kurrentdb://admin:changeit@a:2113,b:2113?tls=true&tlsVerifyCert=false",
		"kdb+discover://cluster.example.org?nodePreference=follower",
		"esdb://h?maxDiscoverAttempts=x",
		"http://x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := parseURL(raw)
		if err == nil {
			if cfg == nil {
				t.Fatal("no configuration and no error")
			}
			return
		}
		pw := password(raw)
		if shown := strconv.Quote(redact(raw)); len(pw) < 4 || strings.Contains(shown, pw) {
			return // too short to tell, or also elsewhere in the string
		}
		quoted := strconv.Quote(pw)
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), quoted[1:len(quoted)-1]) {
			t.Fatalf("error %q shows the password %q", err, pw)
		}
	})
}

func FuzzParseID(f *testing.F) {
	f.Add("0b7e5b3e-8c1f-4a53-9d4e-3f1b2a6c7d80")
	f.Add("0B7E5B3E-8C1F-4A53-9D4E-3F1B2A6C7D80")
	f.Add("{0b7e5b3e-8c1f-4a53-9d4e-3f1b2a6c7d80}")
	f.Fuzz(func(t *testing.T, id string) {
		u, err := parseID(id)
		if err != nil {
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("parseID(%q) = %v, not ErrInvalidID", id, err)
			}
			return
		}
		// Accepted ids survive the trip through the client's wire form.
		most, least := esdb.UUIDAsInt64(u)
		back, err := esdb.ParseUUIDFromInt64(most, least)
		if err != nil || back.String() != id || back == uuid.Nil {
			t.Fatalf("parseID(%q) = %v, which reads back as %v, %v", id, u, back, err)
		}
	})
}
