package domain

import (
	"errors"
	"fmt"
)

// Kind classifies a refused command so that adapters can map it to their own
// error vocabulary (stanza errors, CLI exit codes) in one table.
type Kind uint8

// The kinds of refusal.
const (
	// KindNotFound: the group (or the named member or message) does not exist.
	KindNotFound Kind = iota + 1
	// KindNotAllowed: the requester's role does not permit the command.
	KindNotAllowed
	// KindNotMember: the requester is not a member of the group.
	KindNotMember
	// KindConflict: the group id is taken or the member is already there.
	KindConflict
	// KindBadRequest: the command is malformed (empty name, bad or duplicate mid...).
	KindBadRequest
	// KindLimit: the command exceeds a configured limit.
	KindLimit
)

func (k Kind) String() string {
	switch k {
	case KindNotFound:
		return "not found"
	case KindNotAllowed:
		return "not allowed"
	case KindNotMember:
		return "not a member"
	case KindConflict:
		return "conflict"
	case KindBadRequest:
		return "bad request"
	case KindLimit:
		return "limit exceeded"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error is a command refused by a rule of the domain.
type Error struct {
	Kind Kind
	// Text explains the refusal to a person; adapters may pass it on.
	Text string
}

func (e *Error) Error() string { return e.Kind.String() + ": " + e.Text }

func refuse(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Text: fmt.Sprintf(format, args...)}
}

// KindOf returns the Kind of a domain error anywhere in err's chain, or 0.
func KindOf(err error) Kind {
	var de *Error
	if errors.As(err, &de) {
		return de.Kind
	}
	return 0
}
