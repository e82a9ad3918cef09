package casetable

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kinds of hostile input, the values of Case.Kind.
const (
	KindSegments    = "segments"         // the three dot-separated segments and their encoding
	KindHeaderJSON  = "header JSON"      // the protected header as JSON
	KindPayloadJSON = "payload JSON"     // the payload as JSON
	KindClaimTypes  = "claim types"      // every Daily claim with values of the wrong JSON type
	KindTimeClaims  = "time claims"      // exp, nbf and iat: types and boundary values
	KindSources     = "token sources"    // where the token is sent, alone, combined and conflicting
	KindInjection   = "header injection" // claim values and client headers aimed at the upstream's headers
)

// hostileCases returns the cases of malformed, ambiguous or injecting input.
// Every case sends a request that a client could send; the tokens are signed
// with Key unless a case is about the signature, so that each reaches the
// check it is about instead of failing on the signature first.
func hostileCases() []Case {
	var cases []Case
	cases = append(cases, segmentCases()...)
	cases = append(cases, headerJSONCases()...)
	cases = append(cases, payloadJSONCases()...)
	cases = append(cases, claimTypeCases()...)
	cases = append(cases, timeClaimCases()...)
	cases = append(cases, sourceCases()...)
	cases = append(cases, injectionCases()...)
	return cases
}

// SignRaw returns a compact JWS whose header and payload are header and
// payload byte for byte, base64url-encoded and signed with HMAC-SHA256 and
// key, so a case can send JSON that encoding/json would never write.
func SignRaw(key, header, payload string) string {
	return SignSegments(key, b64.EncodeToString([]byte(header)), b64.EncodeToString([]byte(payload)))
}

// SignSegments returns headerSegment.payloadSegment.signature with the two
// segments as given, encoded or not, and the HMAC-SHA256 of them with key as
// the signature. A malformed segment then passes the signature check and
// reaches the decoder.
func SignSegments(key, headerSegment, payloadSegment string) string {
	signingInput := headerSegment + "." + payloadSegment
	return signingInput + "." + b64.EncodeToString(hmacSHA256(key, signingInput))
}

// encodeClaims returns claims as JSON, the way Sign encodes them.
func encodeClaims(claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(fmt.Sprintf("casetable: encoding claims: %v", err))
	}
	return string(payload)
}

// validPayload returns the JSON of ValidClaims(now).
func validPayload(now time.Time) string {
	return encodeClaims(ValidClaims(now))
}

// rawValidPayload returns the JSON of ValidClaims(now) with more members
// written as given, such as `"u":"a\u0000b"` or `"x":1e400`, before the
// closing brace. Members written here come after those of ValidClaims, so a
// repeated name takes its last value.
func rawValidPayload(now time.Time, members ...string) string {
	payload := validPayload(now)
	if len(members) == 0 {
		return payload
	}
	return strings.TrimSuffix(payload, "}") + "," + strings.Join(members, ",") + "}"
}

// rawPayloadWithout returns ValidClaims(now) without the named claims, with
// members as rawValidPayload adds them.
func rawPayloadWithout(now time.Time, drop []string, members ...string) string {
	claims := ValidClaims(now)
	for _, name := range drop {
		delete(claims, name)
	}
	payload := encodeClaims(claims)
	if len(members) == 0 {
		return payload
	}
	return strings.TrimSuffix(payload, "}") + "," + strings.Join(members, ",") + "}"
}

// tokenWhere returns a valid token for Room whose encoding satisfies match,
// found by adding an unknown claim "n" with a counter: the claim changes the
// payload and so the signature. The value starts with "?~", whose bits give
// base64url's '_' and '-' at some offset, so payload segments with those
// characters are found too. It panics when no counter below 10000 matches,
// which would be a bug in the case.
func tokenWhere(now time.Time, match func(token string) bool) string {
	for n := 0; n < 10000; n++ {
		token := Sign(Key, HS256Header, With(ValidClaims(now), map[string]any{"n": "?~" + strconv.Itoa(n)}))
		if match(token) {
			return token
		}
	}
	panic("casetable: no token matches the case's condition")
}

// segments returns the three segments of token.
func segments(token string) (header, payload, signature string) {
	parts := strings.SplitN(token, ".", 3)
	return parts[0], parts[1], parts[2]
}

// toStandardAlphabet replaces the base64url characters '-' and '_' with
// '+' and '/', those of the standard alphabet.
func toStandardAlphabet(segment string) string {
	return strings.NewReplacer("-", "+", "_", "/").Replace(segment)
}

// withTrailingBits sets one of the unused low bits of the last character of
// an unpadded base64url segment whose length is not a multiple of 4. A
// lenient decoder returns the same bytes, a strict one fails.
func withTrailingBits(segment string) string {
	last := strings.IndexByte(base64URLAlphabet, segment[len(segment)-1])
	return segment[:len(segment)-1] + string(base64URLAlphabet[last|1])
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// percentEncodeAll percent-encodes every byte of s, as a client may.
func percentEncodeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// utf16 returns s, which must be ASCII, in UTF-16: little-endian with a byte
// order mark, or big-endian without one.
func utf16(s string, littleEndian bool) string {
	var b []byte
	if littleEndian {
		b = append(b, 0xff, 0xfe)
	}
	for i := 0; i < len(s); i++ {
		if littleEndian {
			b = append(b, s[i], 0)
		} else {
			b = append(b, 0, s[i])
		}
	}
	return string(b)
}

// nested returns depth opening brackets, the innermost value, and depth
// closing brackets, such as [[[1]]]. open is "[" or `{"a":`.
func nested(open, close string, depth int, innermost string) string {
	return strings.Repeat(open, depth) + innermost + strings.Repeat(close, depth)
}

// bearerCase returns a case of kind that sends the token from token(now) as
// a Bearer token to the default validating route.
func bearerCase(kind, name string, token func(now time.Time) string, expect Expect) Case {
	return Case{
		Name:   name,
		Kind:   kind,
		Config: validateConfig(),
		Request: func(now time.Time) Request {
			t := token(now)
			return withToken(get("/rooms/standup", bearer(t)), t)
		},
		Expect: expect,
	}
}

// accepted is the expectation of a request that passes with ValidClaims:
// the upstream gets the claim headers and, in X-Daily-Claims, the payload.
func accepted() Expect {
	return Expect{Status: http.StatusOK, Upstream: true, Headers: withHeaders(validHeaders(), map[string]string{
		"X-Daily-Claims": "{payload}",
	})}
}

// malformed, unsupported, invalidClaim and invalidSignature are the
// rejections of the core's token checks.
func malformed() Expect {
	return rejected(http.StatusUnauthorized, "malformed_token", "invalid_token")
}

func unsupported() Expect {
	return rejected(http.StatusUnauthorized, "unsupported_algorithm", "invalid_token")
}

func invalidClaim(claim string) Expect {
	return expectWith(rejected(http.StatusUnauthorized, "invalid_claim", "invalid_token"), func(e *Expect) {
		e.InfoContains = "claim " + claim
	})
}

func invalidSignature() Expect {
	return rejected(http.StatusUnauthorized, "invalid_signature", "invalid_token")
}

func itoa(n int64) string {
	return strconv.FormatInt(n, 10)
}
