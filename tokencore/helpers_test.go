package tokencore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// testKey is the HMAC key of most tests; it stands in for a Daily API key.
var testKey = []byte("test-api-key-6f1c2e0b9a8d7c6b5a49")

// testNow is the fixed clock of the tests: 2023-11-14T22:13:20Z.
var testNow = time.Unix(1700000000, 0).UTC()

// testDomainID is a domain id in Daily's UUID form.
const testDomainID = "25df5057-ef0d-4d97-bde6-0cf287276cbb"

// encodeSegment encodes b as a JWS segment: base64url without padding. It
// uses the standard library directly so that the fixtures do not depend on
// the codec under test.
func encodeSegment(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}

// hs256 returns the encoded HMAC-SHA256 signature of signingInput under key.
func hs256(key []byte, signingInput string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signingInput))
	return encodeSegment(mac.Sum(nil))
}

// signRaw returns a token with the given header and payload JSON, signed
// with HS256 under key independently of the codec.
func signRaw(key []byte, headerJSON, payloadJSON string) string {
	input := encodeSegment([]byte(headerJSON)) + "." + encodeSegment([]byte(payloadJSON))
	return input + "." + hs256(key, input)
}

// signSegments signs the already encoded header and payload segments as
// they are, so tests can sign inputs that are not valid base64url.
func signSegments(key []byte, header, payload string) string {
	input := header + "." + payload
	return input + "." + hs256(key, input)
}

// signPayload returns a token with Daily's header {"alg":"HS256","typ":"JWT"}.
func signPayload(key []byte, payloadJSON string) string {
	return signRaw(key, `{"alg":"HS256","typ":"JWT"}`, payloadJSON)
}

// mustCodec returns a codec for keys with the default size limit.
func mustCodec(t testing.TB, keys ...[]byte) *Codec {
	t.Helper()
	c, err := NewCodec(keys, 0)
	if err != nil {
		t.Fatalf("NewCodec: unexpected error: %v", err)
	}
	return c
}

// wantKind fails the test unless err is an *Error of kind want, reachable
// with errors.Is and AsError, with the status and code of that kind.
func wantKind(t testing.TB, err error, want *Error) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("expected error %s, got nil", want.Reason)
	}
	if !errors.Is(err, want) {
		t.Fatalf("expected error %s, got %T %q", want.Reason, err, err)
	}
	e, ok := AsError(err)
	if !ok {
		t.Fatalf("AsError(%q): expected an *Error, got none", err)
	}
	if e.Status != want.Status {
		t.Errorf("status: expected %d, got %d", want.Status, e.Status)
	}
	if e.Code != want.Code {
		t.Errorf("code: expected %q, got %q", want.Code, e.Code)
	}
	if e.Reason != want.Reason {
		t.Errorf("reason: expected %q, got %q", want.Reason, e.Reason)
	}
	return e
}

// wantDescription fails the test unless err's message contains every part.
func wantDescription(t testing.TB, err error, parts ...string) {
	t.Helper()
	for _, part := range parts {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error message: expected it to contain %q, got %q", part, err.Error())
		}
	}
}

func boolPtr(b bool) *bool { return &b }

func int64Ptr(n int64) *int64 { return &n }
