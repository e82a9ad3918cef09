package tokencore

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Benchmarks of the request paths beside golang-jwt/jwt/v5 on the same token.
// Results and the command that produced them are in docs/BENCHMARKS.md.

// benchmarkPayload is a realistic Daily meeting token payload: room, domain,
// user, owner flag, the three time claims and permissions.
const benchmarkPayload = `{"r":"standup-2024","d":"25df5057-ef0d-4d97-bde6-0cf287276cbb",` +
	`"u":"Zoë Host","ud":"user-7f3c2a","o":true,"exp":1700003600,"iat":1699999940,"nbf":1699999940,` +
	`"p":{"hp":true,"cs":"v,a,sv","cr":{"b":true}}}`

var benchmarkToken = signPayload(testKey, benchmarkPayload)

var benchmarkPolicy = Policy{
	Leeway:      DefaultLeeway,
	MaxLifetime: 2 * time.Hour,
	DomainID:    testDomainID,
}

func benchmarkVerifyAndPolicy(b *testing.B, verifier *LocalVerifier) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		claims, _, err := verifier.VerifyToken(ctx, benchmarkToken)
		if err != nil {
			b.Fatal(err)
		}
		if err := benchmarkPolicy.Check(claims, testNow, "standup-2024"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAndPolicy is the core's local verification with its
// default claims cache, which a client resending its token hits, and the
// policy.
func BenchmarkVerifyAndPolicy(b *testing.B) {
	benchmarkVerifyAndPolicy(b, NewLocalVerifier(mustCodec(b, testKey)))
}

// BenchmarkVerifyAndPolicyUncached decodes the payload on every call, as
// for a token seen for the first time.
func BenchmarkVerifyAndPolicyUncached(b *testing.B) {
	benchmarkVerifyAndPolicy(b, &LocalVerifier{Codec: mustCodec(b, testKey), CacheSize: -1})
}

// BenchmarkAuthorize is the whole validating path on a request: extraction,
// verification, policy with the room from the path, and claim headers.
func BenchmarkAuthorize(b *testing.B) {
	v := mustValidator(b, ValidatorConfig{Room: "{path.1}", Policy: benchmarkPolicy})
	r := newRequest("/rooms/standup-2024", "Authorization: Bearer "+benchmarkToken, "X-Daily-Is-Owner: true")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Authorize(r, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGolangJWTParseMapClaims parses the same token with golang-jwt's
// ParseWithClaims and MapClaims, with checks matching the core's policy
// where golang-jwt has them. The parser is built once, as a server would.
func BenchmarkGolangJWTParseMapClaims(b *testing.B) {
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(DefaultLeeway),
		jwt.WithTimeFunc(func() time.Time { return testNow }),
	)
	keyFunc := func(*jwt.Token) (any, error) { return testKey, nil }
	b.ReportAllocs()
	for b.Loop() {
		claims := jwt.MapClaims{}
		if _, err := parser.ParseWithClaims(benchmarkToken, claims, keyFunc); err != nil {
			b.Fatal(err)
		}
		if claims["r"] != "standup-2024" || claims["d"] != testDomainID {
			b.Fatal("unexpected claims")
		}
	}
}

// BenchmarkMint mints a token from a template with fixed values and values
// taken from the request.
func BenchmarkMint(b *testing.B) {
	m := mustMinter(b, MinterConfig{Claims: map[string]any{
		"room_name":   "{path.1}",
		"domain_id":   testDomainID,
		"user_name":   "{header.X-User-Name}",
		"user_id":     "{header.X-User-Id}",
		"is_owner":    true,
		"permissions": map[string]any{"hasPresence": true, "canSend": []any{"video", "audio", "screenVideo"}, "canReceive": map[string]any{"base": true}},
	}, SetNotBefore: true})
	r := newRequest("/rooms/standup-2024", "X-User-Name: Zoë Host", "X-User-Id: user-7f3c2a")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Mint(r, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGolangJWTSignMapClaims signs the benchmark claims with golang-jwt.
func BenchmarkGolangJWTSignMapClaims(b *testing.B) {
	claims := jwt.MapClaims{
		"r": "standup-2024", "d": testDomainID, "u": "Zoë Host", "ud": "user-7f3c2a", "o": true,
		"exp": 1700003600, "iat": 1699999940, "nbf": 1699999940,
		"p": map[string]any{"hp": true, "cs": "v,a,sv", "cr": map[string]any{"b": true}},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(testKey); err != nil {
			b.Fatal(err)
		}
	}
}
