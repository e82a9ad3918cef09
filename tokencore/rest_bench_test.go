package tokencore_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/dailymock"
	"github.com/dailytoken/dailytoken/tokencore"
)

// restBenchVerifiers returns a token and two verifiers for it: local
// verification with the key, and an Introspector whose cache already holds
// the token.
func restBenchVerifiers(b *testing.B) (string, map[string]tokencore.TokenVerifier) {
	b.Helper()
	mock := dailymock.New(b, restTestKey)
	owner := true
	now := time.Now()
	token := mock.Token(&tokencore.Claims{
		RoomName: "standup",
		DomainID: "25df5057-ef0d-4d97-bde6-0cf287276cbb",
		UserName: "host",
		IsOwner:  &owner,
		Iat:      now,
		Exp:      now.Add(time.Hour),
	})

	codec, err := tokencore.NewCodec([][]byte{[]byte(restTestKey)}, 0)
	if err != nil {
		b.Fatalf("NewCodec: %v", err)
	}
	client, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: restTestKey, BaseURL: mock.URL})
	if err != nil {
		b.Fatalf("NewRESTClient: %v", err)
	}
	introspector, err := tokencore.NewIntrospector(tokencore.IntrospectorConfig{Client: client, CacheTTL: time.Hour})
	if err != nil {
		b.Fatalf("NewIntrospector: %v", err)
	}
	verifiers := map[string]tokencore.TokenVerifier{
		"local":      tokencore.NewLocalVerifier(codec),
		"rest-cache": introspector,
	}

	// Fill both caches, so that the loops measure the steady state.
	for name, verifier := range verifiers {
		if _, _, err := verifier.VerifyToken(b.Context(), token); err != nil {
			b.Fatalf("%s VerifyToken: %v", name, err)
		}
	}
	return token, verifiers
}

// BenchmarkVerifyToken compares a cache hit of the Introspector with local
// verification of the same token.
func BenchmarkVerifyToken(b *testing.B) {
	token, verifiers := restBenchVerifiers(b)
	for _, name := range []string{"local", "rest-cache"} {
		verifier := verifiers[name]
		b.Run("verifier="+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := verifier.VerifyToken(b.Context(), token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuthorizeVerifier compares Validator.Authorize with the two
// verifiers, policy and claim headers included.
func BenchmarkAuthorizeVerifier(b *testing.B) {
	token, verifiers := restBenchVerifiers(b)
	for _, name := range []string{"local", "rest-cache"} {
		validator, err := tokencore.NewValidator(tokencore.ValidatorConfig{
			Verifier: verifiers[name],
			Room:     "{path.0}",
			Policy:   tokencore.Policy{RequireOwner: true},
		})
		if err != nil {
			b.Fatalf("NewValidator: %v", err)
		}
		r := httptest.NewRequest(http.MethodGet, "/standup/join", nil)
		b.Run("verifier="+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Header = http.Header{"Authorization": {"Bearer " + token}}
				if _, err := validator.Authorize(r, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
