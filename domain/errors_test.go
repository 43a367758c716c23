package domain_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
)

func TestKindOfFindsTheKindThroughWrapping(t *testing.T) {
	lim := domain.DefaultLimits()
	_, refusal := domain.Decide(nil, domain.PostMessage{Sender: alice, Body: "hi"}, now, lim)
	cases := []struct {
		name string
		err  error
		want domain.Kind
	}{
		{"a refusal", refusal, domain.KindNotFound},
		{"a refusal wrapped by an adapter", fmt.Errorf("group team: %w", refusal), domain.KindNotFound},
		{"a refusal wrapped twice", fmt.Errorf("serve: %w", fmt.Errorf("group team: %w", refusal)), domain.KindNotFound},
		{"a refusal joined with another error", errors.Join(errors.New("store closed"), refusal), domain.KindNotFound},
		{"an error of some other layer", errors.New("disk full"), 0},
		{"no error", nil, 0},
	}
	for _, tc := range cases {
		if got := domain.KindOf(tc.err); got != tc.want {
			t.Errorf("%s: KindOf(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestKindsReadAsWords(t *testing.T) {
	kinds := []domain.Kind{domain.KindNotFound, domain.KindNotAllowed, domain.KindNotMember, domain.KindConflict,
		domain.KindBadRequest, domain.KindLimit}
	seen := map[string]domain.Kind{}
	for _, k := range kinds {
		s := k.String()
		if strings.HasPrefix(s, "kind(") {
			t.Errorf("Kind %d has no name", uint8(k))
		}
		if other, ok := seen[s]; ok {
			t.Errorf("Kinds %d and %d both read %q", uint8(other), uint8(k), s)
		}
		seen[s] = k
		e := &domain.Error{Kind: k, Text: "because"}
		if got := e.Error(); got != s+": because" {
			t.Errorf("the %s error reads %q, want %q", s, got, s+": because")
		}
	}
	if got := domain.Kind(0).String(); got != "kind(0)" {
		t.Errorf("the zero Kind reads %q, want kind(0)", got)
	}
}
