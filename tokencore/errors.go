package tokencore

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error is one reason a request failed, with the HTTP status and the RFC 6750
// error code an adapter responds with. Its Error text is safe to send to a
// client: it never contains a token, a signature or a key.
//
// The package-level Err values are the kinds. Errors returned by this package
// are instances of a kind that carry a sentence naming the offending value.
// errors.Is(err, ErrExpired) matches them, and AsError recovers the *Error.
type Error struct {
	// Status is the HTTP status of the response: 401, 403, 400 or 503.
	Status int

	// Code is the RFC 6750 error code for the WWW-Authenticate header:
	// "invalid_request", "invalid_token" or "insufficient_scope". It is empty
	// when the request carried no token (RFC 6750 section 3.1) and for errors
	// that are not about the token, such as an unavailable REST API.
	Code string

	// Reason is a short stable identifier for logs and metrics, such as "expired".
	Reason string

	// Description is a sentence for the client and the log.
	Description string

	// RetryAfter, when positive, is how long the client should wait before
	// retrying: set when Daily's REST API rate-limits this proxy.
	RetryAfter time.Duration

	kind *Error
}

// Error returns the description.
func (e *Error) Error() string {
	return e.Description
}

// Is reports whether target is e's kind, so that errors.Is(err, ErrExpired)
// holds for every expired-token error.
//
// NOTE: under Yaegi v0.16.1 the compiled errors.Is does not call this method
// of the interpreted type and returns false for an instance, so code that
// runs there compares AsError(err) and its Kind() with the kind instead.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t == e || t == e.kind
}

// Kind returns the package-level Err value e is an instance of.
func (e *Error) Kind() *Error {
	if e.kind == nil {
		return e
	}
	return e.kind
}

// AsError returns the *Error in err's chain. It walks the chain with type
// assertions rather than errors.As because the Traefik plugin runs this code
// under Yaegi, where reflection over interpreted types is unreliable.
//
// A *RESTError is matched by its concrete type: under Yaegi v0.16.1 an
// interpreted type's Unwrap method is invisible to an assertion to an
// interface, so the generic step below would stop at it.
func AsError(err error) (*Error, bool) {
	for err != nil {
		if e, ok := err.(*Error); ok {
			return e, true
		}
		if e, ok := err.(*RESTError); ok {
			return e.Err, e.Err != nil
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			// Under Yaegi v0.16.1 the assertion fails for compiled wrappers
			// too, such as fmt.Errorf's with %w, which the compiled
			// errors.Unwrap still unwraps.
			err = errors.Unwrap(err)
			continue
		}
		err = u.Unwrap()
	}
	return nil, false
}

// StatusOf returns the HTTP status for err: the status of its *Error, or 500
// for any other error, which is a bug or a server fault.
func StatusOf(err error) int {
	if e, ok := AsError(err); ok {
		return e.Status
	}
	return http.StatusInternalServerError
}

func newKind(status int, code, reason, description string) *Error {
	return &Error{Status: status, Code: code, Reason: reason, Description: description}
}

// errorf returns an instance of kind whose description is the formatted
// sentence. Callers must never pass a token, a signature or a key. They pass
// a value with a String method as its String(): under Yaegi, fmt formatting
// an interpreted Stringer allocates about 200 KB per call.
func errorf(kind *Error, format string, args ...any) *Error {
	return &Error{
		Status:      kind.Status,
		Code:        kind.Code,
		Reason:      kind.Reason,
		Description: fmt.Sprintf(format, args...),
		RetryAfter:  kind.RetryAfter,
		kind:        kind,
	}
}

// RFC 6750 error codes.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// Token errors: the request is not authenticated (401).
var (
	ErrMissingToken       = newKind(http.StatusUnauthorized, "", "missing_token", "no meeting token in the request")
	ErrAmbiguousToken     = newKind(http.StatusUnauthorized, CodeInvalidRequest, "ambiguous_token", "the request carries different tokens")
	ErrTokenTooLarge      = newKind(http.StatusUnauthorized, CodeInvalidToken, "token_too_large", "token is larger than the size limit")
	ErrMalformedToken     = newKind(http.StatusUnauthorized, CodeInvalidToken, "malformed_token", "token is not a compact JWS")
	ErrUnsupportedAlg     = newKind(http.StatusUnauthorized, CodeInvalidToken, "unsupported_algorithm", "token algorithm is not HS256")
	ErrInvalidSignature   = newKind(http.StatusUnauthorized, CodeInvalidToken, "invalid_signature", "token signature does not match any key")
	ErrInvalidClaim       = newKind(http.StatusUnauthorized, CodeInvalidToken, "invalid_claim", "token has a claim of the wrong type")
	ErrMissingExpiry      = newKind(http.StatusUnauthorized, CodeInvalidToken, "missing_expiry", "token has no exp claim")
	ErrExpired            = newKind(http.StatusUnauthorized, CodeInvalidToken, "expired", "token has expired")
	ErrNotYetValid        = newKind(http.StatusUnauthorized, CodeInvalidToken, "not_yet_valid", "token is not valid yet")
	ErrIssuedInFuture     = newKind(http.StatusUnauthorized, CodeInvalidToken, "issued_in_future", "token was issued in the future")
	ErrLifetimeTooLong    = newKind(http.StatusUnauthorized, CodeInvalidToken, "lifetime_too_long", "token lifetime exceeds the maximum")
	ErrDomainMismatch     = newKind(http.StatusUnauthorized, CodeInvalidToken, "domain_mismatch", "token is for another domain")
	ErrRejectedByDailyAPI = newKind(http.StatusUnauthorized, CodeInvalidToken, "rejected_by_api", "Daily's REST API rejected the token")
)

// Scope errors: the token is valid but this route does not allow it (403).
var (
	ErrRoomMismatch      = newKind(http.StatusForbidden, CodeInsufficientScope, "room_mismatch", "token is for another room")
	ErrRoomNotScoped     = newKind(http.StatusForbidden, CodeInsufficientScope, "room_not_scoped", "token is not limited to a room")
	ErrRoomUnknown       = newKind(http.StatusForbidden, CodeInsufficientScope, "room_unknown", "request does not name the room the route expects")
	ErrNotOwner          = newKind(http.StatusForbidden, CodeInsufficientScope, "not_owner", "token does not grant meeting owner privileges")
	ErrPermissionMissing = newKind(http.StatusForbidden, CodeInsufficientScope, "permission_missing", "token lacks a permission the route requires")
)

// Request and service errors.
var (
	// ErrInvalidRequestValue is a minting request whose values do not make a
	// valid claim: a missing header, or a value that breaks one of Daily's rules.
	ErrInvalidRequestValue = newKind(http.StatusBadRequest, "", "invalid_request_value", "request value is not a valid claim")

	// ErrUnavailable is Daily's REST API failing, timing out or returning
	// something this package cannot read. The request is rejected, never passed.
	ErrUnavailable = newKind(http.StatusServiceUnavailable, "", "api_unavailable", "Daily's REST API is unavailable")

	// ErrRateLimited is Daily's REST API responding with 429, or this package
	// backing off after such a response.
	ErrRateLimited = newKind(http.StatusServiceUnavailable, "", "api_rate_limited", "Daily's REST API is rate-limiting this proxy")
)
