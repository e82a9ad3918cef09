package tokencore

import (
	"context"
	"math"
	"sync"
	"time"
)

// DefaultClaimsCacheSize is the number of decoded payloads a LocalVerifier
// keeps unless configured.
const DefaultClaimsCacheSize = 4096

// LocalVerifier verifies tokens with a Codec and decodes their claims.
//
// Checking a token costs a signature and a JSON decode, several times more
// than the rest of a request, and a client sends the same token on every
// request. So the verifier keeps recently verified tokens, keyed by the whole
// token: only the exact bytes of a token whose signature matched are found
// again, and only a key holder can make such a token. The policy, which
// depends on the time and the request, is never cached.
type LocalVerifier struct {
	Codec *Codec

	// CacheSize is the number of verified tokens kept. Zero means
	// DefaultClaimsCacheSize; a negative value disables the cache.
	CacheSize int

	mu     sync.RWMutex
	claims map[string]*verifiedToken
}

// verifiedToken is a verified token with what each request needs of it,
// computed once: the claims, the times in nanoseconds for the policy, the
// claim header values and the log fingerprint.
type verifiedToken struct {
	claims      *Claims
	payload     []byte
	fingerprint string

	// The time claims in Unix nanoseconds, and whether each is present: a
	// claim of 0 seconds, the Unix epoch, is 0 here too.
	expires, notBefore, issuedAt          int64
	hasExpires, hasNotBefore, hasIssuedAt bool

	headerValues []string
}

// NewLocalVerifier returns a LocalVerifier for codec with the default cache.
func NewLocalVerifier(codec *Codec) *LocalVerifier {
	return &LocalVerifier{Codec: codec}
}

// VerifyToken implements TokenVerifier. The returned Claims may be shared
// with other calls and must not be modified.
func (l *LocalVerifier) VerifyToken(_ context.Context, token string) (*Claims, []byte, error) {
	verified, err := l.verify(token)
	if err != nil {
		return nil, nil, err
	}
	return verified.claims, verified.payload, nil
}

// verify returns the verified token from the cache, or checks and decodes it.
func (l *LocalVerifier) verify(token string) (*verifiedToken, error) {
	if cached := l.lookup(token); cached != nil {
		return cached, nil
	}

	segment, err := l.Codec.VerifySignature(token)
	if err != nil {
		return nil, err
	}
	payload, err := DecodePayloadSegment(segment)
	if err != nil {
		return nil, err
	}
	claims, err := DecodeClaims(payload)
	if err != nil {
		return nil, err
	}
	verified, err := newVerifiedToken(token, claims, payload)
	if err != nil {
		return nil, err
	}
	l.store(token, verified)
	return verified, nil
}

func newVerifiedToken(token string, claims *Claims, payload []byte) (*verifiedToken, error) {
	values, err := claimHeaderValues(claims, payload)
	if err != nil {
		return nil, err
	}
	return &verifiedToken{
		claims:       claims,
		payload:      payload,
		fingerprint:  Fingerprint(token),
		expires:      unixNano(claims.Exp),
		notBefore:    unixNano(claims.Nbf),
		issuedAt:     unixNano(claims.Iat),
		hasExpires:   !claims.Exp.IsZero(),
		hasNotBefore: !claims.Nbf.IsZero(),
		hasIssuedAt:  !claims.Iat.IsZero(),
		headerValues: values,
	}, nil
}

// unixNano returns t in Unix nanoseconds, or 0 for the zero time, which is
// also the value of the Unix epoch. Time claims
// are limited to the years 1 to 9999; those outside the range of int64
// nanoseconds (before 1678 or after 2262) are clamped, which keeps every
// comparison with a present-day time correct.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	seconds := t.Unix()
	if seconds > math.MaxInt64/int64(time.Second)-1 {
		return clampedFuture
	}
	if seconds < math.MinInt64/int64(time.Second)+1 {
		return clampedPast
	}
	return t.UnixNano()
}

// clampedFuture and clampedPast are what unixNano returns for times after
// 2262 and before 1678. They keep a comparison with the present correct, but
// not a difference, such as a lifetime.
const (
	clampedFuture = math.MaxInt64 / 2
	clampedPast   = math.MinInt64 / 2
)

func (l *LocalVerifier) lookup(token string) *verifiedToken {
	if l.CacheSize < 0 {
		return nil
	}
	l.mu.RLock()
	verified := l.claims[token]
	l.mu.RUnlock()
	return verified
}

// store adds an entry. When the cache is full it drops an arbitrary eighth of
// it (map iteration order is random), which bounds memory without the
// bookkeeping of a least-recently-used list.
func (l *LocalVerifier) store(token string, entry *verifiedToken) {
	if l.CacheSize < 0 {
		return
	}
	size := l.CacheSize
	if size == 0 {
		size = DefaultClaimsCacheSize
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.claims == nil {
		l.claims = make(map[string]*verifiedToken)
	}
	if len(l.claims) >= size {
		evict := size/8 + 1
		for key := range l.claims {
			delete(l.claims, key)
			evict--
			if evict == 0 {
				break
			}
		}
	}
	l.claims[token] = entry
}
