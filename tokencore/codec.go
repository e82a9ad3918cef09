package tokencore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// DefaultMaxTokenSize is the default limit on a token's length in bytes.
// Daily recommends keeping a whole token under 2048 characters. The limit
// leaves room for large permission objects and still bounds the work an
// attacker can ask for.
const DefaultMaxTokenSize = 4096

// canonicalHeader is the encoded protected header {"alg":"HS256","typ":"JWT"},
// the header of every Daily token and of every token this package signs.
const canonicalHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

// b64 is the strict base64url alphabet without padding that RFC 7515 requires.
// Strict also rejects encodings whose unused trailing bits are not zero, so a
// signature has exactly one encoding.
var b64 = base64.RawURLEncoding.Strict()

// Codec signs and verifies compact JWS tokens with HMAC-SHA256. It accepts
// several keys so an operator can rotate a Daily API key without downtime: a
// token verifies if any key matches, and the first key signs. A Codec is safe
// for concurrent use.
type Codec struct {
	keys         []*hmacKey
	maxTokenSize int
}

// hmacKey pools HMAC states for one key, because creating one hashes the key
// and allocates two SHA-256 states on every request otherwise.
type hmacKey struct {
	pool sync.Pool
}

func newHMACKey(secret []byte) *hmacKey {
	k := &hmacKey{}
	k.pool.New = func() any { return hmac.New(sha256.New, secret) }
	return k
}

// sum returns the HMAC-SHA256 of data.
func (k *hmacKey) sum(data string) []byte {
	mac := k.pool.Get().(hash.Hash)
	mac.Reset()
	mac.Write([]byte(data))
	sum := mac.Sum(nil)
	k.pool.Put(mac)
	return sum
}

// NewCodec returns a Codec for the given keys. It fails if there is no key or
// a key is empty; an empty HMAC key would accept tokens anyone can sign.
// maxTokenSize is the largest token accepted, in bytes; zero means
// DefaultMaxTokenSize.
func NewCodec(keys [][]byte, maxTokenSize int) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("no key configured")
	}
	if maxTokenSize < 0 {
		return nil, fmt.Errorf("token size limit %d is negative", maxTokenSize)
	}
	if maxTokenSize == 0 {
		maxTokenSize = DefaultMaxTokenSize
	}

	c := &Codec{maxTokenSize: maxTokenSize}
	for i := range keys {
		if len(keys[i]) == 0 {
			return nil, fmt.Errorf("key %d of %d is empty", i+1, len(keys))
		}
		secret := append([]byte(nil), keys[i]...)
		c.keys = append(c.keys, newHMACKey(secret))
	}
	return c, nil
}

// MaxTokenSize returns the largest token the codec accepts, in bytes.
func (c *Codec) MaxTokenSize() int {
	return c.maxTokenSize
}

// Sign returns a compact JWS of payload with the header
// {"alg":"HS256","typ":"JWT"}, signed with the first key.
func (c *Codec) Sign(payload []byte) string {
	signingInput := canonicalHeader + "." + b64.EncodeToString(payload)
	return signingInput + "." + b64.EncodeToString(c.keys[0].sum(signingInput))
}

// Verify checks token's form, header and signature and returns its decoded
// payload, which is not yet checked as claims. It rejects a token larger than
// the size limit and a token without exactly three segments. It also rejects
// any encoding other than unpadded base64url, a header whose alg is not HS256
// or that has a crit parameter, and a signature that matches no key, compared
// in constant time.
func (c *Codec) Verify(token string) ([]byte, error) {
	segment, err := c.VerifySignature(token)
	if err != nil {
		return nil, err
	}
	return DecodePayloadSegment(segment)
}

// VerifySignature makes every check of Verify except decoding the payload,
// and returns the payload segment, still base64url-encoded.
func (c *Codec) VerifySignature(token string) (string, error) {
	if len(token) > c.maxTokenSize {
		return "", errorf(ErrTokenTooLarge, "token is %d bytes, over the limit of %d", len(token), c.maxTokenSize)
	}

	// split into three segments
	headerEnd := strings.IndexByte(token, '.')
	if headerEnd < 0 {
		return "", errorf(ErrMalformedToken, "token has 1 segment, expected 3")
	}
	payloadEnd := headerEnd + 1 + strings.IndexByte(token[headerEnd+1:], '.')
	if payloadEnd <= headerEnd {
		return "", errorf(ErrMalformedToken, "token has 2 segments, expected 3")
	}
	if strings.IndexByte(token[payloadEnd+1:], '.') >= 0 {
		return "", errorf(ErrMalformedToken, "token has more than 3 segments, expected 3")
	}

	// The base64 decoder skips CR and LF even in strict mode, so a token with
	// line breaks would have more than one encoding: reject them here.
	if strings.IndexByte(token, '\r') >= 0 || strings.IndexByte(token, '\n') >= 0 {
		return "", errorf(ErrMalformedToken, "token contains a line break")
	}

	// check the header
	if err := checkHeader(token[:headerEnd]); err != nil {
		return "", err
	}

	// check the signature against every key
	signature, err := b64.DecodeString(token[payloadEnd+1:])
	if err != nil {
		return "", errorf(ErrMalformedToken, "token signature is not base64url: %v", err)
	}
	if len(signature) != sha256.Size {
		return "", errorf(ErrInvalidSignature, "token signature is %d bytes, expected %d for HS256", len(signature), sha256.Size)
	}
	signingInput := token[:payloadEnd]
	matched := false
	for _, key := range c.keys {
		if hmac.Equal(signature, key.sum(signingInput)) {
			matched = true
			break
		}
	}
	if !matched {
		return "", errorf(ErrInvalidSignature, "token signature does not match any configured key")
	}
	return token[headerEnd+1 : payloadEnd], nil
}

// DecodePayloadSegment decodes a payload segment of a compact JWS.
func DecodePayloadSegment(segment string) ([]byte, error) {
	payload, err := b64.DecodeString(segment)
	if err != nil {
		return nil, errorf(ErrMalformedToken, "token payload is not base64url: %v", err)
	}
	return payload, nil
}

// checkHeader accepts a protected header whose alg is exactly "HS256", whose
// typ, if present, is "JWT" in any case (RFC 7519 section 5.1), and that has
// no crit parameter. This package implements no extension, so RFC 7515
// section 4.1.11 requires rejecting any crit. Other parameters, such as kid,
// are ignored, and no key is ever looked up from the header.
func checkHeader(segment string) error {
	if segment == canonicalHeader {
		return nil
	}

	raw, err := b64.DecodeString(segment)
	if err != nil {
		return errorf(ErrMalformedToken, "token header is not base64url: %v", err)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw, &header); err != nil || header == nil {
		return errorf(ErrMalformedToken, "token header is not a JSON object")
	}

	alg, ok := header["alg"]
	if !ok {
		return errorf(ErrUnsupportedAlg, "token header has no alg")
	}
	if string(alg) != `"HS256"` {
		return errorf(ErrUnsupportedAlg, "token algorithm %s is not HS256", truncate(string(alg), 20))
	}
	if typ, ok := header["typ"]; ok {
		var s string
		if json.Unmarshal(typ, &s) != nil || !strings.EqualFold(s, "JWT") {
			return errorf(ErrMalformedToken, "token type %s is not JWT", truncate(string(typ), 20))
		}
	}
	if _, ok := header["crit"]; ok {
		return errorf(ErrMalformedToken, "token header has a crit parameter, and no extension is supported")
	}
	return nil
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
