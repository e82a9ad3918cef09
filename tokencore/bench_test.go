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

// BenchmarkVerify verifies benchmarkToken and applies the policy, beside
// golang-jwt. Compare with: benchstat -col /impl.
//
//   - golang-jwt: ParseWithClaims with MapClaims and checks matching the
//     core's policy where golang-jwt has them; the parser is built once.
//   - core: LocalVerifier with its default claims cache, which a client
//     resending its token hits, then Policy.Check.
//   - core-uncached: the same with the cache off, as for a token seen for
//     the first time.
//   - core-authorize: Validator.Authorize on a request: extraction,
//     verification, the policy with the room from the path, and the claim
//     headers. The request is reused, so its header map does not grow.
func BenchmarkVerify(b *testing.B) {
	b.Run("impl=golang-jwt", func(b *testing.B) {
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
	})
	b.Run("impl=core", func(b *testing.B) {
		benchmarkVerifyAndPolicy(b, NewLocalVerifier(mustCodec(b, testKey)))
	})
	b.Run("impl=core-uncached", func(b *testing.B) {
		benchmarkVerifyAndPolicy(b, &LocalVerifier{Codec: mustCodec(b, testKey), CacheSize: -1})
	})
	b.Run("impl=core-authorize", func(b *testing.B) {
		v := mustValidator(b, ValidatorConfig{Room: "{path.1}", Policy: benchmarkPolicy})
		r := newRequest("/rooms/standup-2024", "Authorization: Bearer "+benchmarkToken, "X-Daily-Is-Owner: true")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Authorize(r, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
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

// BenchmarkMint mints a token for the benchmark claims, beside golang-jwt
// signing the same claims. Compare with: benchstat -col /impl.
//
//   - golang-jwt: NewWithClaims with MapClaims, then SignedString.
//   - core: Minter.Mint from a template with fixed values and values taken
//     from the request.
func BenchmarkMint(b *testing.B) {
	b.Run("impl=golang-jwt", func(b *testing.B) {
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
	})
	b.Run("impl=core", func(b *testing.B) {
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
	})
}
