package protocol

import (
	"errors"

	"github.com/uuchat/groupchat/domain"
)

// ErrorType is an RFC 6120 stanza error type.
type ErrorType string

// The error types the service uses.
const (
	Cancel ErrorType = "cancel"
	Auth   ErrorType = "auth"
	Modify ErrorType = "modify"
	Wait   ErrorType = "wait"
)

// Error is a stanza error as it goes on the wire: a defined condition, and
// the seed's own name for it (if the seed has one) as an application
// condition in the groupchat namespace.
type Error struct {
	Type      ErrorType
	Condition string
	// SeedName is the seed protocol's name for the condition ("not-exists",
	// "not-allowed"), or empty.
	SeedName string
	Text     string
}

func (e *Error) Error() string {
	if e.Text != "" {
		return e.Condition + ": " + e.Text
	}
	return e.Condition
}

// The status-code table. Every refusal the service sends is one of these.
var (
	ErrNotExists          = Error{Type: Cancel, Condition: "item-not-found", SeedName: "not-exists"}
	ErrNotAllowed         = Error{Type: Cancel, Condition: "not-allowed", SeedName: "not-allowed"}
	ErrForbidden          = Error{Type: Auth, Condition: "forbidden", SeedName: "not-allowed"}
	ErrConflict           = Error{Type: Cancel, Condition: "conflict"}
	ErrBadRequest         = Error{Type: Modify, Condition: "bad-request"}
	ErrJIDMalformed       = Error{Type: Modify, Condition: "jid-malformed"}
	ErrPolicyViolation    = Error{Type: Modify, Condition: "policy-violation"}
	ErrRateLimited        = Error{Type: Wait, Condition: "resource-constraint"}
	ErrInternal           = Error{Type: Wait, Condition: "internal-server-error"}
	ErrServiceUnavailable = Error{Type: Cancel, Condition: "service-unavailable"}
	ErrNotImplemented     = Error{Type: Cancel, Condition: "feature-not-implemented"}
	ErrNotAcceptable      = Error{Type: Modify, Condition: "not-acceptable"}
)

// domainErrors maps each kind of domain refusal to its stanza error.
var domainErrors = map[domain.Kind]Error{
	domain.KindNotFound:   ErrNotExists,
	domain.KindNotAllowed: ErrNotAllowed,
	domain.KindNotMember:  ErrForbidden,
	domain.KindConflict:   ErrConflict,
	domain.KindBadRequest: ErrBadRequest,
	domain.KindLimit:      ErrPolicyViolation,
}

// With returns a copy of e carrying a human-readable text.
func (e Error) With(text string) *Error {
	e.Text = text
	return &e
}

// ErrorFor maps any error to the stanza error to send: a protocol error as
// it is, a domain refusal by the table above, anything else (the store
// failing) as internal-server-error without details.
func ErrorFor(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	var de *domain.Error
	if errors.As(err, &de) {
		if e, ok := domainErrors[de.Kind]; ok {
			return e.With(de.Text)
		}
	}
	return ErrInternal.With("the service could not complete the request; try again")
}
