package tokencore

import (
	"context"
	"sync"
)

// DefaultClaimsCacheSize is the number of decoded payloads a LocalVerifier
// keeps unless configured.
const DefaultClaimsCacheSize = 4096

// LocalVerifier verifies tokens with a Codec and decodes their claims.
//
// Decoding the JSON payload costs several times more than checking the
// signature, and a client sends the same token on every request, so the
// verifier keeps the claims of recently seen payloads. The signature is
// still checked on every call, and a payload enters the cache only after its
// signature matched, so only a key holder can fill it. The policy, which
// depends on the time and the request, is never cached.
type LocalVerifier struct {
	Codec *Codec

	// CacheSize is the number of decoded payloads kept. Zero means
	// DefaultClaimsCacheSize; a negative value disables the cache.
	CacheSize int

	mu     sync.Mutex
	claims map[string]*decodedPayload
}

type decodedPayload struct {
	claims  *Claims
	payload []byte
}

// NewLocalVerifier returns a LocalVerifier for codec with the default cache.
func NewLocalVerifier(codec *Codec) *LocalVerifier {
	return &LocalVerifier{Codec: codec}
}

// VerifyToken implements TokenVerifier. The returned Claims may be shared
// with other calls and must not be modified.
func (l *LocalVerifier) VerifyToken(_ context.Context, token string) (*Claims, []byte, error) {
	segment, err := l.Codec.VerifySignature(token)
	if err != nil {
		return nil, nil, err
	}

	if cached := l.lookup(segment); cached != nil {
		return cached.claims, cached.payload, nil
	}
	payload, err := DecodePayloadSegment(segment)
	if err != nil {
		return nil, nil, err
	}
	claims, err := DecodeClaims(payload)
	if err != nil {
		return nil, nil, err
	}
	l.store(segment, &decodedPayload{claims: claims, payload: payload})
	return claims, payload, nil
}

func (l *LocalVerifier) lookup(segment string) *decodedPayload {
	if l.CacheSize < 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.claims[segment]
}

// store adds an entry. When the cache is full it drops an arbitrary eighth of
// it (map iteration order is random), which bounds memory without the
// bookkeeping of a least-recently-used list.
func (l *LocalVerifier) store(segment string, entry *decodedPayload) {
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
		l.claims = make(map[string]*decodedPayload)
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
	l.claims[segment] = entry
}
