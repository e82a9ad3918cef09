package tokencore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// TokenVerifier checks a token and returns its claims. The local verifier
// checks the signature with the configured keys, and the REST verifier calls
// Daily's API. payload is the verified payload, or nil when the verifier has
// only the claims.
type TokenVerifier interface {
	VerifyToken(ctx context.Context, token string) (claims *Claims, payload []byte, err error)
}

// ValidatorConfig configures a Validator. Its zero value, with Keys set, is
// the secure default.
type ValidatorConfig struct {
	// Keys are the HMAC keys (Daily API keys). A token signed with any of them
	// verifies. Required unless Verifier is set.
	Keys [][]byte

	// Verifier, if set, replaces local verification with the keys, for
	// instance by Daily's REST API.
	Verifier TokenVerifier

	// MaxTokenSize is the largest token accepted, in bytes. Zero means
	// DefaultMaxTokenSize.
	MaxTokenSize int

	// Sources lists the places the token is taken from, in ParseSource syntax.
	// Empty means DefaultSources.
	Sources []string

	// Policy is applied to every verified token. A zero Leeway means
	// DefaultLeeway and a negative one none; a zero MaxLifetime means
	// DefaultMaxLifetime and a negative one no limit.
	Policy Policy

	// Room, if set, is the room the request must be for, in RequestValue
	// syntax: a fixed name or "{path.1}", "{header.X-Room}", "{query.room}".
	Room string

	// LenientValues keeps placeholders unknown to RequestValue as text for the
	// adapter to expand (the Caddy module's placeholders).
	LenientValues bool

	// StripToken removes the token from the request before it goes upstream.
	StripToken bool

	// HeaderPrefix is the claim header prefix. Empty means DefaultHeaderPrefix.
	HeaderPrefix string

	// AllowPreflight lets CORS preflight requests (OPTIONS with Origin and
	// Access-Control-Request-Method) through without a token.
	AllowPreflight bool

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Validator authorizes requests on a validating route: it extracts the
// token, verifies it, applies the policy, and prepares the request for the
// upstream. A Validator is safe for concurrent use.
type Validator struct {
	extractor *Extractor
	verifier  TokenVerifier
	local     *LocalVerifier // verifier, when it is local: its cache also holds per-token work

	preparedMu     sync.Mutex
	prepared       map[*Claims]*verifiedToken // per-token work for other verifiers; see prepare
	policy         Policy
	room           *RequestValue
	headers        *ClaimHeaders
	stripToken     bool
	allowPreflight bool
	now            func() time.Time
}

// NewValidator checks cfg and returns a Validator. Errors name the setting
// at fault in the words of ValidatorConfig; adapters add their option names.
func NewValidator(cfg ValidatorConfig) (*Validator, error) {
	v := &Validator{
		policy:         cfg.Policy,
		stripToken:     cfg.StripToken,
		allowPreflight: cfg.AllowPreflight,
		now:            cfg.Now,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.policy.Leeway == 0 {
		v.policy.Leeway = DefaultLeeway
	}
	if v.policy.Leeway < 0 {
		v.policy.Leeway = 0
	}
	if v.policy.MaxLifetime == 0 {
		v.policy.MaxLifetime = DefaultMaxLifetime
	}
	if v.policy.MaxLifetime < 0 {
		v.policy.MaxLifetime = 0
	}

	// verifier
	v.verifier = cfg.Verifier
	if v.verifier == nil {
		codec, err := NewCodec(cfg.Keys, cfg.MaxTokenSize)
		if err != nil {
			return nil, err
		}
		v.local = NewLocalVerifier(codec)
		v.verifier = v.local
	}

	// token sources
	extractor, err := NewExtractor(cfg.Sources, cfg.MaxTokenSize)
	if err != nil {
		return nil, err
	}
	v.extractor = extractor

	// expected room
	if cfg.Room != "" {
		room, err := parseRequestValue(cfg.Room, cfg.LenientValues)
		if err != nil {
			return nil, fmt.Errorf("room: %v", err)
		}
		v.room = room
	}

	// claim headers
	headers, err := NewClaimHeaders(cfg.HeaderPrefix)
	if err != nil {
		return nil, err
	}
	v.headers = headers
	return v, nil
}

// Result is an authorized request.
type Result struct {
	// Claims are the verified claims; nil for a CORS preflight let through.
	Claims *Claims

	// Fingerprint identifies the token in logs without revealing it.
	Fingerprint string

	// Preflight is true for a CORS preflight let through without a token.
	Preflight bool
}

// Authorize decides on request r and, when it is allowed, prepares r for the
// upstream: it removes every client-sent header under the claim header
// prefix, sets the claim headers and, if configured, strips the token.
// expand, if not nil, expands the adapter's placeholders in configured text.
//
// Client-sent claim headers are removed before anything else, so even a
// request rejected or let through as a preflight carries none of them.
// The returned error is an *Error for every reason a request is refused;
// any other error is a server fault.
func (v *Validator) Authorize(r *http.Request, expand func(string) string) (*Result, error) {
	v.headers.RemoveClientHeaders(r.Header)
	if v.allowPreflight && IsPreflight(r) {
		return &Result{Preflight: true}, nil
	}

	// extract and verify
	extraction, err := v.extractor.Extract(r)
	if err != nil {
		return nil, err
	}
	var verified *verifiedToken
	if v.local != nil {
		verified, err = v.local.verify(extraction.Token)
	} else {
		var claims *Claims
		var payload []byte
		claims, payload, err = v.verifier.VerifyToken(r.Context(), extraction.Token)
		if err == nil {
			verified, err = v.prepare(extraction.Token, claims, payload)
		}
	}
	if err != nil {
		return &Result{Fingerprint: Fingerprint(extraction.Token)}, err
	}
	claims := verified.claims
	result := &Result{Fingerprint: verified.fingerprint}

	// apply the policy
	expectedRoom := ""
	if v.room != nil {
		expectedRoom, err = v.room.Resolve(r, expand)
		if err != nil {
			if e, ok := AsError(err); ok && e.Kind() == ErrInvalidRequestValue {
				return result, errorf(ErrRoomUnknown, "the route expects a room from %s: %s", v.room.String(), e.Description)
			}
			return result, err
		}
		if expectedRoom == "" {
			return result, errorf(ErrRoomUnknown, "the route expects a room from %s, and it is empty", v.room.String())
		}
	}
	now := v.now()
	if !v.policy.allows(verified, now.UnixNano(), expectedRoom) {
		if err := v.policy.Check(claims, now, expectedRoom); err != nil {
			return result, err
		}
	}
	result.Claims = claims

	// prepare the request for the upstream
	v.headers.setValues(r.Header, verified.headerValues)
	if v.stripToken {
		v.extractor.Strip(r, extraction)
	}
	return result, nil
}

// prepare returns the per-token work for claims from a verifier other than
// the local one. Such a verifier's cache returns the same *Claims for the
// same token, so the work is kept by claims pointer, bounded like the local
// verifier's cache and cleared whole when full.
func (v *Validator) prepare(token string, claims *Claims, payload []byte) (*verifiedToken, error) {
	v.preparedMu.Lock()
	verified := v.prepared[claims]
	v.preparedMu.Unlock()
	if verified != nil {
		return verified, nil
	}

	verified, err := newVerifiedToken(token, claims, payload)
	if err != nil {
		return nil, err
	}
	v.preparedMu.Lock()
	if v.prepared == nil || len(v.prepared) >= DefaultClaimsCacheSize {
		v.prepared = make(map[*Claims]*verifiedToken)
	}
	v.prepared[claims] = verified
	v.preparedMu.Unlock()
	return verified, nil
}

// IsPreflight reports whether r is a CORS preflight request: OPTIONS with
// Origin and Access-Control-Request-Method (Fetch standard, CORS protocol).
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions &&
		r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// Fingerprint returns a short, non-reversible identifier of token for logs:
// the first 6 bytes of its SHA-256, in hex.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}

// Challenge returns the WWW-Authenticate value for a rejected request
// (RFC 6750 section 3): Bearer with the realm, and the error code and
// description when err has a code. Characters that RFC 6750 does not allow
// in a description are replaced.
func Challenge(realm string, err error) string {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	if realm != "" {
		b.WriteString(sep + `realm="` + challengeText(realm) + `"`)
		sep = ", "
	}
	e, ok := AsError(err)
	if !ok || e.Code == "" {
		return b.String()
	}
	b.WriteString(sep + `error="` + e.Code + `", error_description="` + challengeText(e.Description) + `"`)
	return b.String()
}

// challengeText keeps the characters RFC 6750 allows in a quoted value:
// printable ASCII without '"' and '\'. Every other byte becomes an
// apostrophe, so a non-ASCII character becomes one per byte.
func challengeText(s string) string {
	return challengeReplacer.Replace(s)
}

// challengeReplacer is built once: a strings.Replacer runs compiled under
// Yaegi, where strings.Map would call an interpreted function per character.
var challengeReplacer = newChallengeReplacer()

func newChallengeReplacer() *strings.Replacer {
	var pairs []string
	for b := 0; b < 256; b++ {
		if b < 0x20 || b > 0x7e || b == '"' || b == '\\' {
			pairs = append(pairs, string([]byte{byte(b)}), "'")
		}
	}
	return strings.NewReplacer(pairs...)
}

// ErrorBody returns a JSON body for a rejected request, in the shape of
// Daily's own API errors: {"error": reason, "info": description}.
func ErrorBody(err error) []byte {
	e, ok := AsError(err)
	if !ok {
		e = &Error{Reason: "server_error", Description: "internal error"}
	}
	body, marshalErr := json.Marshal(map[string]string{"error": e.Reason, "info": e.Description})
	if marshalErr != nil {
		return []byte(`{"error":"server_error"}`)
	}
	return body
}
