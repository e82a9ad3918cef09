// Package casetable is a table of requests and the responses a dailytoken
// middleware must give them, shared by the tests of both adapters: the Caddy
// module and the Traefik plugin run the same cases through their own
// configuration and a real HTTP server. The package imports neither Caddy nor
// Traefik, and builds and checks tokens with the standard library only, not
// with tokencore, so that it checks the core instead of repeating it.
package casetable

import (
	"net/http"
	"time"
)

// Test keys and claim values the cases use. They are not secrets.
const (
	// Key is the HMAC key every case configures.
	Key = "casetable-key-0123456789abcdef-not-secret"

	// OtherKey is a key no case configures.
	OtherKey = "casetable-other-key-fedcba9876543210"

	// Room is the room name of the valid tokens.
	Room = "standup"

	// DomainID is the domain id (d) of the valid tokens.
	DomainID = "25df5057-ef0d-4d97-bde6-0cf287276cbb"

	// UserID and UserName are the user of the valid tokens.
	UserID   = "user-1"
	UserName = "Ada"
)

// Config is the route configuration of a case in neutral terms. Each adapter
// test translates it into its own configuration: camelCase options for
// Traefik, the JSON fields or a Caddyfile for Caddy. A zero field means the
// adapter's default, and durations are Go duration strings ("30s").
type Config struct {
	Mode               string // "validate" or "mint"
	Keys               []string
	Sources            []string
	Leeway             string
	MaxLifetime        string
	AllowMissingExp    bool
	Room               string
	AllowRoomless      bool
	DomainID           string
	RequireOwner       bool
	RequirePermissions []string
	StripToken         bool
	HeaderPrefix       string
	AllowPreflight     bool
	MaxTokenSize       int
	Realm              string

	Claims    map[string]any
	Lifetime  string
	NotBefore bool
	Target    string
}

// Request is the request a case sends. Target is the path with the query,
// such as "/rooms/standup?t=...", and Header may hold a name more than once.
type Request struct {
	Method string
	Target string
	Header http.Header

	// Token is the valid token the request carries, if any: "{token}" in
	// an expected header value or query stands for it.
	Token string
}

// Expect is the expected outcome of a case.
type Expect struct {
	// Status is the status the client receives.
	Status int

	// OrStatus, if set, is another status the client may receive, such as
	// 431 from a server whose header size limit is below the request. The
	// body is not checked then.
	OrStatus int

	// Reason is the "error" member of the JSON body of a rejected request,
	// such as "expired". Empty for a request that is let through.
	Reason string

	// InfoContains, if set, must occur in the "info" member of the body.
	InfoContains string

	// ChallengeError is the RFC 6750 error code the WWW-Authenticate header
	// must carry. Every 401 and 403 response has the header. When this is
	// empty, the header must have no error code.
	ChallengeError string

	// ChallengeContains, if set, must occur in the WWW-Authenticate header.
	ChallengeContains string

	// ResponseHeaders must be in the response with these values.
	ResponseHeaders map[string]string

	// Upstream is true when the request must reach the upstream.
	Upstream bool

	// Headers must reach the upstream with exactly these values, each once.
	// "{token}" in a value stands for Request.Token.
	Headers map[string]string

	// AbsentHeaders must not reach the upstream, under any spelling of the
	// name that Go's header map keeps apart.
	AbsentHeaders []string

	// RawQuery, if not nil, is the exact query the upstream receives.
	// "{token}" stands for Request.Token and "{minted}" for the minted token.
	RawQuery *string

	// Token, if set, is the token the middleware minted.
	Token *TokenExpect
}

// TokenExpect describes a minted token.
type TokenExpect struct {
	// In is the location of the token: "header:Name", "query:name", or
	// "response" for the body {"token": "..."} of a direct response.
	In string

	// Claims must be in the token's payload with these values, as
	// encoding/json decodes them into an any (numbers are float64).
	Claims map[string]any

	// Absent are claims the payload must not have.
	Absent []string

	// Lifetime is exp minus iat.
	Lifetime time.Duration

	// NotBefore demands an nbf claim equal to iat; without it the token
	// must have no nbf.
	NotBefore bool
}

// Case is one request to one configured route.
type Case struct {
	Name string

	// Kind groups the hostile cases by the kind of input they send, such as
	// KindSegments; it is empty for the other cases.
	Kind string

	Config Config

	// Request builds the request at time now, which tokens use for their
	// time claims.
	Request func(now time.Time) Request

	Expect Expect
}

// Cases returns every case: the validation cases, the hostile cases, then
// the minting cases.
func Cases() []Case {
	cases := validateCases()
	cases = append(cases, hostileCases()...)
	return append(cases, mintCases()...)
}

// ValidateCases returns the cases of validating routes, without the hostile
// cases.
func ValidateCases() []Case {
	return validateCases()
}

// HostileCases returns the cases that send malformed, ambiguous or
// injecting input to validating routes.
func HostileCases() []Case {
	return hostileCases()
}

// MintCases returns the cases of minting routes.
func MintCases() []Case {
	return mintCases()
}

// validateConfig returns the configuration of a validating route that
// expects room Room from the second path segment, as "/rooms/standup".
func validateConfig() Config {
	return Config{Mode: "validate", Keys: []string{Key}, Room: "{path.1}"}
}

func get(target string, header http.Header) Request {
	if header == nil {
		header = http.Header{}
	}
	return Request{Method: http.MethodGet, Target: target, Header: header}
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

func stringPointer(s string) *string {
	return &s
}

// validHeaders are the claim headers of ValidClaims with the default prefix.
func validHeaders() map[string]string {
	return map[string]string{
		"X-Daily-Room":      Room,
		"X-Daily-Domain-Id": DomainID,
		"X-Daily-User-Id":   UserID,
		"X-Daily-User-Name": UserName,
		"X-Daily-Is-Owner":  "false",
	}
}
