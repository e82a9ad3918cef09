package tokencore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Defaults of IntrospectorConfig.
const (
	// DefaultIntrospectionCacheSize bounds each of the two caches of an
	// Introspector, valid and rejected tokens, in entries. An entry holds
	// the decoded claims, the payload and a 32-byte key. For a 300-byte
	// token with six claims that measured about 1 KB of heap (go1.26,
	// amd64), so a full cache takes an estimated 10 MB. Memory grows only with
	// the distinct tokens a route receives.
	DefaultIntrospectionCacheSize = 10000

	// DefaultIntrospectionCacheTTL is how long a valid token is trusted
	// without another call, unless its exp comes first. It bounds how
	// long a token keeps working here after Daily stops accepting it, as when
	// its room is deleted or the API key is regenerated.
	DefaultIntrospectionCacheTTL = time.Minute

	// DefaultNegativeCacheTTL is how long a token Daily rejected is rejected
	// without another call. It is short so that a wrong rejection does not
	// last, and it still limits a client repeating a rejected token to one
	// call per period.
	DefaultNegativeCacheTTL = 10 * time.Second
)

// IntrospectorConfig configures an Introspector.
type IntrospectorConfig struct {
	// Client calls Daily's REST API. Required.
	Client *RESTClient

	// MaxTokenSize is the largest token sent to the API, in bytes. Zero
	// means DefaultMaxTokenSize.
	MaxTokenSize int

	// CacheSize bounds the cache of valid tokens and, separately, the cache
	// of rejected tokens, in entries. A full cache evicts its oldest entry.
	// Zero means DefaultIntrospectionCacheSize; a negative value disables
	// both caches, so every request calls the API.
	CacheSize int

	// CacheTTL is the longest time a valid token stays cached; an entry also
	// expires at the token's exp. Zero means DefaultIntrospectionCacheTTL; a
	// negative value disables the cache of valid tokens.
	CacheTTL time.Duration

	// NegativeCacheTTL is how long a rejected token stays cached. Zero means
	// DefaultNegativeCacheTTL; a negative value disables the cache of
	// rejected tokens.
	NegativeCacheTTL time.Duration
}

// Introspector is a TokenVerifier that calls Daily's REST API
// (GET /meeting-tokens/{token}) to check a token and returns the claims
// Daily reports for it. Set it as ValidatorConfig.Verifier: the Validator
// then applies the same Policy to these claims as to a locally verified
// token, nbf and its leeway included, because the call asks Daily to skip
// its own nbf check (ignoreNbf=true).
//
// A token that cannot be a compact HS256 JWS is rejected before any call, so
// such input never reaches Daily. Results are cached by the SHA-256 of the
// token: a valid token until its exp or for CacheTTL, whichever ends first,
// and a rejected token for NegativeCacheTTL. Failures of the API itself
// (ErrUnavailable, ErrRateLimited) are never cached. At most one call is in
// flight per token; other requests for that token wait for it, each until
// its own context ends. The call runs in a goroutine of its own that ends
// with the call, within the client's timeout, so that the end of the request
// that started it does not cancel it for the others. An Introspector starts
// no other goroutines and is safe for concurrent use.
//
// NOTE: every distinct token that reaches the API costs a call, so a client
// sending many made-up tokens of valid form can use up the domain's rate
// limit, and then requests with valid tokens not yet cached fail with 503
// until the back-off ends.
type Introspector struct {
	client       *RESTClient
	maxTokenSize int
	validTTL     time.Duration // zero when valid tokens are not cached
	rejectedTTL  time.Duration // zero when rejected tokens are not cached

	mu       sync.Mutex
	valid    *restCache
	rejected *restCache
	flights  map[string]*restFlight
	stats    RESTStats
}

// NewIntrospector checks cfg and returns an Introspector.
func NewIntrospector(cfg IntrospectorConfig) (*Introspector, error) {
	if cfg.Client == nil {
		return nil, errors.New("introspector: no REST client configured")
	}
	in := &Introspector{
		client:       cfg.Client,
		maxTokenSize: cfg.MaxTokenSize,
		validTTL:     cfg.CacheTTL,
		rejectedTTL:  cfg.NegativeCacheTTL,
		flights:      map[string]*restFlight{},
	}

	if in.maxTokenSize < 0 {
		return nil, fmt.Errorf("token size limit %d is negative", in.maxTokenSize)
	}
	if in.maxTokenSize == 0 {
		in.maxTokenSize = DefaultMaxTokenSize
	}

	size := cfg.CacheSize
	if size == 0 {
		size = DefaultIntrospectionCacheSize
	}
	if size < 0 {
		size = 0
	}
	in.valid = newRESTCache(size)
	in.rejected = newRESTCache(size)

	if in.validTTL == 0 {
		in.validTTL = DefaultIntrospectionCacheTTL
	}
	if in.validTTL < 0 {
		in.validTTL = 0
	}
	if in.rejectedTTL == 0 {
		in.rejectedTTL = DefaultNegativeCacheTTL
	}
	if in.rejectedTTL < 0 {
		in.rejectedTTL = 0
	}
	return in, nil
}

// VerifyToken implements TokenVerifier. The returned Claims and payload may
// be shared with other calls and must not be modified. The payload is the
// claims encoded with short claim names, for the claim headers. Errors are
// *Error values, wrapped in a *RESTError when they come from the API.
func (in *Introspector) VerifyToken(ctx context.Context, token string) (*Claims, []byte, error) {
	// A token Daily confirmed is found by its own text, so a cache hit costs
	// one map lookup. It passed the shape check before it was stored.
	in.mu.Lock()
	now := in.client.now()
	if e := in.valid.get(token, now); e != nil {
		in.stats.Hits++
		in.mu.Unlock()
		return e.claims, e.payload, nil
	}
	in.mu.Unlock()

	if err := checkJWSShape(token, in.maxTokenSize); err != nil {
		return nil, nil, err
	}

	// Rejected tokens and calls in flight are keyed by the token's SHA-256,
	// because anyone can send made-up tokens of the largest size.
	key := cacheKey(token)
	in.mu.Lock()
	now = in.client.now()
	if e := in.rejected.get(key, now); e != nil {
		in.stats.Hits++
		in.mu.Unlock()
		return nil, nil, e.err
	}
	in.stats.Misses++
	flight := in.flights[key]
	if flight != nil {
		in.stats.Joined++
	} else {
		flight = newRESTFlight()
		in.flights[key] = flight
		go in.introspect(detachedCallContext(ctx), key, token, flight)
	}
	in.mu.Unlock()

	if err := flight.wait(ctx, EndpointIntrospect); err != nil {
		return nil, nil, err
	}
	if flight.err != nil {
		return nil, nil, flight.err
	}
	return flight.entry.claims, flight.entry.payload, nil
}

// introspect makes the call for a flight, caches its result and ends the
// flight.
func (in *Introspector) introspect(ctx context.Context, key, token string, flight *restFlight) {
	entry := &restEntry{key: key}
	properties, sent, err := in.client.introspect(ctx, token)
	if err == nil {
		entry.claims, err = ClaimsFromProperties(properties)
	}
	if err == nil {
		entry.payload, err = entry.claims.Payload()
		if err != nil {
			err = &RESTError{
				Err:        errorf(ErrUnavailable, "encoding the claims from Daily's REST API (%s): %v", EndpointIntrospect, err),
				Endpoint:   EndpointIntrospect,
				StatusCode: 200,
			}
		}
	}

	in.mu.Lock()
	defer in.mu.Unlock()
	now := in.client.now()
	if sent {
		in.stats.Calls++
	} else if isRateLimited(err) {
		in.stats.RateLimited++
	}
	switch {
	case err == nil:
		entry.expires = now.Add(in.validTTL)
		if !entry.claims.Exp.IsZero() && entry.claims.Exp.Before(entry.expires) {
			entry.expires = entry.claims.Exp
		}
		if in.validTTL > 0 && entry.expires.After(now) {
			entry.key = token
			in.valid.put(entry, now)
		}
	case isTokenError(err):
		entry.err = err
		entry.expires = now.Add(in.rejectedTTL)
		if in.rejectedTTL > 0 {
			in.rejected.put(entry, now)
		}
	}
	delete(in.flights, key)
	flight.entry = entry
	flight.err = err
	close(flight.done)
}

// isTokenError reports whether err is about the token (401 or 403) and so
// will not change on a retry, unlike a failure of the API.
func isTokenError(err error) bool {
	e, ok := AsError(err)
	if !ok {
		return false
	}
	return e.Status == 401 || e.Status == 403
}

// Stats returns the counters and the number of cached entries, valid and
// rejected tokens together.
func (in *Introspector) Stats() RESTStats {
	in.mu.Lock()
	defer in.mu.Unlock()
	stats := in.stats
	stats.Entries = in.valid.len() + in.rejected.len()
	return stats
}

// checkJWSShape rejects a token that cannot be a compact HS256 JWS: over the
// size limit, without exactly three segments, with an empty segment or a
// character outside the base64url alphabet, or with a header that the codec
// would reject. It checks no signature.
func checkJWSShape(token string, maxSize int) error {
	if len(token) > maxSize {
		return errorf(ErrTokenTooLarge, "token is %d bytes, over the limit of %d", len(token), maxSize)
	}
	segments := 1
	segmentStart := 0
	for i := 0; i < len(token); i++ {
		b := token[i]
		if b == '.' {
			if i == segmentStart {
				return errorf(ErrMalformedToken, "token segment %d is empty", segments)
			}
			segments++
			segmentStart = i + 1
			continue
		}
		if !isBase64URLChar(b) {
			return errorf(ErrMalformedToken, "token has a character that is not base64url at byte %d", i+1)
		}
	}
	if segments == 1 {
		return errorf(ErrMalformedToken, "token has 1 segment, expected 3")
	}
	if segments != 3 {
		return errorf(ErrMalformedToken, "token has %d segments, expected 3", segments)
	}
	if segmentStart == len(token) {
		return errorf(ErrMalformedToken, "token segment 3 is empty")
	}
	return checkHeader(token[:strings.IndexByte(token, '.')])
}

func isBase64URLChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// Interface guards
var _ TokenVerifier = (*Introspector)(nil)
