package tokencore

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestErrorKindsStatusAndCode(t *testing.T) {
	cases := []struct {
		kind   *Error
		status int
		code   string
		reason string
	}{
		{ErrMissingToken, 401, "", "missing_token"},
		{ErrAmbiguousToken, 401, "invalid_request", "ambiguous_token"},
		{ErrTokenTooLarge, 401, "invalid_token", "token_too_large"},
		{ErrMalformedToken, 401, "invalid_token", "malformed_token"},
		{ErrUnsupportedAlg, 401, "invalid_token", "unsupported_algorithm"},
		{ErrInvalidSignature, 401, "invalid_token", "invalid_signature"},
		{ErrInvalidClaim, 401, "invalid_token", "invalid_claim"},
		{ErrMissingExpiry, 401, "invalid_token", "missing_expiry"},
		{ErrExpired, 401, "invalid_token", "expired"},
		{ErrNotYetValid, 401, "invalid_token", "not_yet_valid"},
		{ErrIssuedInFuture, 401, "invalid_token", "issued_in_future"},
		{ErrLifetimeTooLong, 401, "invalid_token", "lifetime_too_long"},
		{ErrDomainMismatch, 401, "invalid_token", "domain_mismatch"},
		{ErrRejectedByDailyAPI, 401, "invalid_token", "rejected_by_api"},
		{ErrRoomMismatch, 403, "insufficient_scope", "room_mismatch"},
		{ErrRoomNotScoped, 403, "insufficient_scope", "room_not_scoped"},
		{ErrRoomUnknown, 403, "insufficient_scope", "room_unknown"},
		{ErrNotOwner, 403, "insufficient_scope", "not_owner"},
		{ErrPermissionMissing, 403, "insufficient_scope", "permission_missing"},
		{ErrInvalidRequestValue, 400, "", "invalid_request_value"},
		{ErrUnavailable, 503, "", "api_unavailable"},
		{ErrRateLimited, 503, "", "api_rate_limited"},
	}
	reasons := map[string]bool{}
	for _, tc := range cases {
		if tc.kind.Status != tc.status {
			t.Errorf("%s: expected status %d, got %d", tc.reason, tc.status, tc.kind.Status)
		}
		if tc.kind.Code != tc.code {
			t.Errorf("%s: expected code %q, got %q", tc.reason, tc.code, tc.kind.Code)
		}
		if tc.kind.Reason != tc.reason {
			t.Errorf("expected reason %q, got %q", tc.reason, tc.kind.Reason)
		}
		if tc.kind.Description == "" {
			t.Errorf("%s: expected a description, got none", tc.reason)
		}
		if reasons[tc.kind.Reason] {
			t.Errorf("%s: expected each reason once, got it twice", tc.reason)
		}
		reasons[tc.kind.Reason] = true

		// An instance keeps its kind's status, code and reason.
		instance := errorf(tc.kind, "instance of %s", tc.reason)
		if instance.Status != tc.status || instance.Code != tc.code || instance.Reason != tc.reason {
			t.Errorf("instance of %s: expected %d %q %q, got %d %q %q", tc.reason, tc.status, tc.code, tc.reason, instance.Status, instance.Code, instance.Reason)
		}
		if instance.Kind() != tc.kind {
			t.Errorf("instance of %s: Kind() returned another kind, %s", tc.reason, instance.Kind().Reason)
		}
		if tc.kind.Kind() != tc.kind {
			t.Errorf("%s: expected a kind to be its own Kind()", tc.reason)
		}
	}
}

func TestErrorIsMatchesKindOnly(t *testing.T) {
	expired := errorf(ErrExpired, "token expired at %s", "2023-11-14T22:00:00Z")

	if !errors.Is(expired, ErrExpired) {
		t.Error("errors.Is(instance, ErrExpired): expected true, got false")
	}
	if errors.Is(expired, ErrNotYetValid) {
		t.Error("errors.Is(expired instance, ErrNotYetValid): expected false, got true")
	}
	if !errors.Is(expired, expired) {
		t.Error("errors.Is(instance, itself): expected true, got false")
	}
	if errors.Is(expired, errorf(ErrExpired, "another instance")) {
		t.Error("errors.Is(instance, another instance of the kind): expected false, got true")
	}
	if errors.Is(ErrExpired, expired) {
		t.Error("errors.Is(kind, instance): expected false, got true")
	}
	if errors.Is(expired, errors.New("token has expired")) {
		t.Error("errors.Is(instance, plain error with the same text): expected false, got true")
	}
	if expired.Error() != "token expired at 2023-11-14T22:00:00Z" {
		t.Errorf("Error(): expected the description, got %q", expired.Error())
	}
}

func TestAsErrorThroughWrapping(t *testing.T) {
	inner := errorf(ErrRoomMismatch, "token room name %q does not match the route room %q", "a", "b")
	wrapped := fmt.Errorf("daily_token handler: %w", fmt.Errorf("authorize: %w", inner))

	e, ok := AsError(wrapped)
	if !ok {
		t.Fatal("AsError of a twice-wrapped *Error: expected it found, got none")
	}
	if e != inner {
		t.Errorf("AsError: expected the inner *Error, got %+v", e)
	}
	if !errors.Is(wrapped, ErrRoomMismatch) {
		t.Error("errors.Is(wrapped, ErrRoomMismatch): expected true, got false")
	}
	if got := StatusOf(wrapped); got != http.StatusForbidden {
		t.Errorf("StatusOf(wrapped): expected 403, got %d", got)
	}

	var target *Error
	if !errors.As(wrapped, &target) || target != inner {
		t.Errorf("errors.As: expected the inner *Error, got %v", target)
	}
}

func TestAsErrorWithoutError(t *testing.T) {
	cases := []error{
		nil,
		errors.New("plain"),
		fmt.Errorf("wrapped: %w", errors.New("plain")),
		fmt.Errorf("not wrapped: %v", ErrExpired),
	}
	for _, err := range cases {
		if e, ok := AsError(err); ok || e != nil {
			t.Errorf("AsError(%v): expected none, got %+v", err, e)
		}
	}
	if got := StatusOf(errors.New("plain")); got != http.StatusInternalServerError {
		t.Errorf("StatusOf(plain error): expected 500, got %d", got)
	}
}

func TestChallenge(t *testing.T) {
	cases := []struct {
		name  string
		realm string
		err   error
		want  string
	}{
		{"no realm, no error", "", nil, `Bearer`},
		{"realm only", "daily", nil, `Bearer realm="daily"`},
		{"missing token has no code", "daily", errorf(ErrMissingToken, "no meeting token in bearer"), `Bearer realm="daily"`},
		{"expired", "daily", errorf(ErrExpired, "token expired at 2023-11-14T22:00:00Z (leeway 30s)"),
			`Bearer realm="daily", error="invalid_token", error_description="token expired at 2023-11-14T22:00:00Z (leeway 30s)"`},
		{"scope error without realm", "", errorf(ErrRoomMismatch, `token room name "a" does not match the route room "b"`),
			`Bearer error="insufficient_scope", error_description="token room name 'a' does not match the route room 'b'"`},
		{"ambiguous", "", errorf(ErrAmbiguousToken, "the request carries different tokens"),
			`Bearer error="invalid_request", error_description="the request carries different tokens"`},
		{"quotes and backslash in realm", `a"b\c`, nil, `Bearer realm="a'b'c"`},
		{"control and non-ASCII characters", "", errorf(ErrInvalidClaim, "claim u is \"Zoë\"\r\nX: y"),
			// ë is two bytes in UTF-8, and each byte becomes an apostrophe.
			`Bearer error="invalid_token", error_description="claim u is 'Zo'''''X: y"`},
		{"wrapped error", "", fmt.Errorf("wrapped: %w", errorf(ErrExpired, "token expired")),
			`Bearer error="invalid_token", error_description="token expired"`},
		{"plain error", "r", errors.New(`internal "detail"`), `Bearer realm="r"`},
		{"service error has no code", "", errorf(ErrUnavailable, "Daily's REST API timed out"), `Bearer`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Challenge(tc.realm, tc.err)
			if got != tc.want {
				t.Errorf("Challenge:\nexpected %s\n     got %s", tc.want, got)
			}
			for i := 0; i < len(got); i++ {
				if got[i] < 0x20 || got[i] > 0x7e {
					t.Errorf("Challenge: expected printable ASCII only, found byte %#x", got[i])
				}
			}
			// Inside each quoted value there may be no quote or backslash.
			if strings.Count(got, `"`)%2 != 0 || strings.Contains(got, `\`) {
				t.Errorf("Challenge: expected balanced quotes and no backslash, got %s", got)
			}
		})
	}
}
