package tokencore

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"
)

// DefaultMintCacheSize bounds the tokens a RESTSigner keeps for reuse, in
// distinct claim sets, unless configured.
const DefaultMintCacheSize = 1000

// minMintRefreshMargin is the least lifetime a reused token has left. A
// token is minted anew when less than this or a tenth of its lifetime,
// whichever is longer, remains.
const minMintRefreshMargin = time.Minute

// RESTSignerConfig configures a RESTSigner.
type RESTSignerConfig struct {
	// Client calls Daily's REST API. Required.
	Client *RESTClient

	// CacheSize bounds the tokens kept for reuse, in distinct claim sets. A
	// full cache evicts its oldest entry. Zero means DefaultMintCacheSize; a
	// negative value disables reuse, so every request calls the API.
	CacheSize int
}

// RESTSigner is a TokenSigner that mints tokens with Daily's REST API
// (POST /meeting-tokens). Set it as MinterConfig.Signer.
//
// Minting every request anew would spend the domain's rate limit, so a
// token is reused for later requests with the same claims and lifetime until
// a tenth of its lifetime or a minute, whichever is longer, remains. Claims
// differ when any property differs. iat, exp and nbf change with every
// request, so they are compared as the lifetime (exp minus iat) and the
// offset of nbf from iat. At most one call is in flight per distinct claim
// set, in a goroutine of its own as for the Introspector. A RESTSigner is
// safe for concurrent use.
type RESTSigner struct {
	client *RESTClient

	mu      sync.Mutex
	cache   *restCache
	flights map[string]*restFlight
	stats   RESTStats
}

// NewRESTSigner checks cfg and returns a RESTSigner.
func NewRESTSigner(cfg RESTSignerConfig) (*RESTSigner, error) {
	if cfg.Client == nil {
		return nil, errors.New("REST signer: no REST client configured")
	}
	size := cfg.CacheSize
	if size == 0 {
		size = DefaultMintCacheSize
	}
	if size < 0 {
		size = 0
	}
	return &RESTSigner{
		client:  cfg.Client,
		cache:   newRESTCache(size),
		flights: map[string]*restFlight{},
	}, nil
}

// SignClaims implements TokenSigner. It sends claims as the properties of
// POST /meeting-tokens, exp and nbf included; iat is left to Daily, which
// sets it itself. When it returns a token minted earlier for the same
// claims, it sets claims.Iat, Exp and Nbf to that token's, so the caller
// sees the times of the token it got. Claims without iat or exp are never
// reused.
func (s *RESTSigner) SignClaims(ctx context.Context, claims *Claims) (string, error) {
	properties := claims.Properties()
	delete(properties, "iat")

	key, reusable := s.reuseKey(claims, properties)
	if !reusable {
		token, sent, err := s.client.mint(ctx, properties)
		s.count(sent, err)
		return token, err
	}

	// look up the cache, then join or start the call for these claims
	s.mu.Lock()
	if e := s.cache.get(key, s.client.now()); e != nil {
		s.stats.Hits++
		s.mu.Unlock()
		e.applyTimes(claims)
		return e.token, nil
	}
	s.stats.Misses++
	flight := s.flights[key]
	if flight != nil {
		s.stats.Joined++
	} else {
		flight = newRESTFlight()
		s.flights[key] = flight
		minted := &restEntry{key: key, iat: claims.Iat, exp: claims.Exp, nbf: claims.Nbf}
		go s.mint(detachedCallContext(ctx), properties, minted, flight)
	}
	s.mu.Unlock()

	if err := flight.wait(ctx, EndpointMint); err != nil {
		return "", err
	}
	if flight.err != nil {
		return "", flight.err
	}
	flight.entry.applyTimes(claims)
	return flight.entry.token, nil
}

// mint makes the call for a flight, caches the token until it is due for
// renewal, and ends the flight.
func (s *RESTSigner) mint(ctx context.Context, properties map[string]any, entry *restEntry, flight *restFlight) {
	token, sent, err := s.client.mint(ctx, properties)
	entry.token = token

	s.mu.Lock()
	defer s.mu.Unlock()
	s.countLocked(sent, err)
	if err == nil {
		lifetime := entry.exp.Sub(entry.iat)
		margin := lifetime / 10
		if margin < minMintRefreshMargin {
			margin = minMintRefreshMargin
		}
		entry.expires = entry.exp.Add(-margin)
		now := s.client.now()
		if entry.expires.After(now) {
			s.cache.put(entry, now)
		}
	}
	delete(s.flights, entry.key)
	flight.entry = entry
	flight.err = err
	close(flight.done)
}

// reuseKey returns the cache key for claims: the SHA-256 of their
// properties without the time claims, as canonical JSON (encoding/json sorts
// map keys), with the lifetime and the offset of nbf. reusable is false when
// reuse is disabled or the claims lack iat or exp.
func (s *RESTSigner) reuseKey(claims *Claims, properties map[string]any) (key string, reusable bool) {
	if s.cache.max <= 0 || claims.Iat.IsZero() || !claims.Exp.After(claims.Iat) {
		return "", false
	}
	rest := make(map[string]any, len(properties))
	for name, value := range properties {
		if name != "exp" && name != "nbf" {
			rest[name] = value
		}
	}
	canonical, err := json.Marshal(rest)
	if err != nil {
		return "", false
	}
	material := string(canonical) + "\x00lifetime=" + strconv.FormatInt(int64(claims.Exp.Sub(claims.Iat)), 10)
	if !claims.Nbf.IsZero() {
		material += "\x00nbf=" + strconv.FormatInt(int64(claims.Nbf.Sub(claims.Iat)), 10)
	}
	return cacheKey(material), true
}

func (s *RESTSigner) count(sent bool, err error) {
	s.mu.Lock()
	s.countLocked(sent, err)
	s.mu.Unlock()
}

func (s *RESTSigner) countLocked(sent bool, err error) {
	if sent {
		s.stats.Calls++
	} else if isRateLimited(err) {
		s.stats.RateLimited++
	}
}

// Stats returns the counters and the number of cached tokens.
func (s *RESTSigner) Stats() RESTStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	stats := s.stats
	stats.Entries = s.cache.len()
	return stats
}

// applyTimes sets the time claims of c to those of the minted token in e.
func (e *restEntry) applyTimes(c *Claims) {
	c.Iat = e.iat
	c.Exp = e.exp
	c.Nbf = e.nbf
}

// Interface guards
var _ TokenSigner = (*RESTSigner)(nil)
