package tokencore_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/dailymock"
	"github.com/dailytoken/dailytoken/tokencore"
)

// signerFixture is a restFixture with a RESTSigner and a Minter on it. The
// Minter takes the room from the X-Room header.
type signerFixture struct {
	*restFixture
	signer *tokencore.RESTSigner
	minter *tokencore.Minter
}

func newSignerFixture(t *testing.T, lifetime time.Duration) *signerFixture {
	t.Helper()
	f := &signerFixture{restFixture: newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})}

	signer, err := tokencore.NewRESTSigner(tokencore.RESTSignerConfig{Client: f.client})
	if err != nil {
		t.Fatalf("NewRESTSigner: %v", err)
	}
	f.signer = signer

	minter, err := tokencore.NewMinter(tokencore.MinterConfig{
		Signer:   signer,
		Claims:   map[string]any{"room_name": "{header.X-Room}", "is_owner": true},
		Lifetime: lifetime,
		Now:      f.clock.Now,
	})
	if err != nil {
		t.Fatalf("NewMinter: %v", err)
	}
	f.minter = minter
	return f
}

// mint mints a token for room and registers it as a secret.
func (f *signerFixture) mint(room string) (string, *tokencore.Claims, error) {
	r := httptest.NewRequest(http.MethodGet, "/join", nil)
	r.Header.Set("X-Room", room)
	token, claims, err := f.minter.Mint(r, nil)
	f.record(err)
	if err == nil {
		f.addSecret(token)
	}
	return token, claims, err
}

func (f *signerFixture) mustMint(room string) (string, *tokencore.Claims) {
	f.t.Helper()
	token, claims, err := f.mint(room)
	if err != nil {
		f.t.Fatalf("Mint %s: %v", room, err)
	}
	return token, claims
}

func TestRESTSignerReusesTokenUntilNearExpiry(t *testing.T) {
	f := newSignerFixture(t, time.Hour)
	start := f.clock.Now()

	first, firstClaims := f.mustMint("standup")
	wantCalls(t, f.mock, dailymock.EndpointMint, 1)
	if !firstClaims.Exp.Equal(start.Add(time.Hour)) {
		t.Errorf("exp: expected %s, got %s", start.Add(time.Hour), firstClaims.Exp)
	}

	// A tenth of the hour is the refresh margin: 54 minutes in, 6 remain.
	f.clock.Advance(53*time.Minute + 59*time.Second)
	again, againClaims := f.mustMint("standup")
	if again != first {
		t.Error("token before the refresh margin: expected the first token again, got a new one")
	}
	if !againClaims.Exp.Equal(firstClaims.Exp) || !againClaims.Iat.Equal(firstClaims.Iat) {
		t.Errorf("claims of a reused token: expected iat %s exp %s, got iat %s exp %s", firstClaims.Iat, firstClaims.Exp, againClaims.Iat, againClaims.Exp)
	}
	wantCalls(t, f.mock, dailymock.EndpointMint, 1)

	f.clock.Advance(time.Second)
	renewed, renewedClaims := f.mustMint("standup")
	if renewed == first {
		t.Error("token within the refresh margin: expected a new token, got the first one")
	}
	if !renewedClaims.Exp.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("exp of the renewed token: expected %s, got %s", f.clock.Now().Add(time.Hour), renewedClaims.Exp)
	}
	wantCalls(t, f.mock, dailymock.EndpointMint, 2)
	if stats := f.signer.Stats(); stats.Calls != 2 || stats.Hits != 1 {
		t.Errorf("stats: expected 2 calls and 1 hit, got %+v", stats)
	}
}

func TestRESTSignerShortLifetimeNotReused(t *testing.T) {
	// With a lifetime of a minute, the minute of margin leaves nothing to reuse.
	f := newSignerFixture(t, time.Minute)
	f.mustMint("standup")
	f.mustMint("standup")
	wantCalls(t, f.mock, dailymock.EndpointMint, 2)
}

func TestRESTSignerDifferentClaimsDifferentTokens(t *testing.T) {
	f := newSignerFixture(t, time.Hour)

	standup, _ := f.mustMint("standup")
	retro, _ := f.mustMint("retro")
	if standup == retro {
		t.Error("tokens for two rooms: expected different tokens, got the same")
	}
	again, _ := f.mustMint("standup")
	if again != standup {
		t.Error("second token for standup: expected the first one reused")
	}
	wantCalls(t, f.mock, dailymock.EndpointMint, 2)

	// Each token carries its own room, and Daily accepts it.
	for room, token := range map[string]string{"standup": standup, "retro": retro} {
		claims, err := f.verify(t.Context(), token)
		if err != nil {
			t.Fatalf("VerifyToken of the %s token: %v", room, err)
		}
		if claims.RoomName != room || claims.IsOwner == nil || !*claims.IsOwner {
			t.Errorf("claims of the %s token: expected its room and owner, got room %q owner %v", room, claims.RoomName, claims.IsOwner)
		}
	}
}

func TestRESTSignerSendsPropertiesWithLongNames(t *testing.T) {
	f := newSignerFixture(t, time.Hour)
	_, claims := f.mustMint("standup")

	requests := f.mock.Requests()
	if len(requests) != 1 {
		t.Fatalf("requests: expected 1, got %d", len(requests))
	}
	if requests[0].Authorization != "Bearer "+restTestKey {
		t.Errorf("Authorization: expected Bearer with the key, got a value of %d bytes", len(requests[0].Authorization))
	}
	var body struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(requests[0].Body, &body); err != nil {
		t.Fatalf("request body: %v", err)
	}
	want := map[string]string{
		"room_name": `"standup"`,
		"is_owner":  "true",
		"exp":       string(mustJSON(t, claims.Exp.Unix())),
	}
	for name, value := range want {
		if got := string(body.Properties[name]); got != value {
			t.Errorf("property %s: expected %s, got %s", name, value, got)
		}
	}
	if _, ok := body.Properties["iat"]; ok {
		t.Error("properties: expected no iat, which is not a REST property")
	}
	if len(body.Properties) != len(want) {
		t.Errorf("properties: expected exactly %d, got %s", len(want), requests[0].Body)
	}
}

func TestRESTSignerConcurrentMintsMakeOneCall(t *testing.T) {
	f := newSignerFixture(t, time.Hour)
	f.mock.SetFault(dailymock.Stall)

	const requests = 50
	tokens := make(chan string, requests)
	var wg sync.WaitGroup
	for i := 0; i < requests; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token, _, err := f.mint("standup")
			if err != nil {
				t.Errorf("Mint: %v", err)
			}
			tokens <- token
		}()
	}
	waitUntil(t, "every mint waits for the call", func() bool {
		return f.signer.Stats().Misses == requests && f.mock.Count(dailymock.EndpointMint) == 1
	})
	f.mock.Release()
	wg.Wait()
	close(tokens)

	first := ""
	for token := range tokens {
		if first == "" {
			first = token
		}
		if token != first {
			t.Error("concurrent mints: expected one token for all, got two")
		}
	}
	wantCalls(t, f.mock, dailymock.EndpointMint, 1)
	if stats := f.signer.Stats(); stats.Joined != requests-1 {
		t.Errorf("joined: expected %d, got %d", requests-1, stats.Joined)
	}
}

func TestRESTSignerRejectedPropertiesAre400(t *testing.T) {
	f := newSignerFixture(t, time.Hour)
	claims := claimsFor("standup", false, f.clock.Now(), time.Hour)
	claims.UserID = "an-id-that-is-much-longer-than-daily-allows"

	_, err := f.signer.SignClaims(t.Context(), claims)
	f.record(err)
	wantErrorKind(t, err, tokencore.ErrInvalidRequestValue)
}

func TestRESTSignerFailuresAreNotCached(t *testing.T) {
	f := newSignerFixture(t, time.Hour)

	f.mock.SetFault(dailymock.ServerError)
	_, _, err := f.mint("standup")
	wantErrorKind(t, err, tokencore.ErrUnavailable)

	f.mock.SetFault(dailymock.MalformedJSON)
	_, _, err = f.mint("standup")
	wantErrorKind(t, err, tokencore.ErrUnavailable)

	f.mock.SetFault(dailymock.NoFault)
	f.mustMint("standup")
	wantCalls(t, f.mock, dailymock.EndpointMint, 3)
}

func TestRESTSignerBackoffSharedWithIntrospector(t *testing.T) {
	f := newSignerFixture(t, time.Hour)
	f.mock.SetFault(dailymock.RateLimit)
	f.mock.SetRetryAfter("5")

	_, _, err := f.mint("standup")
	wantErrorKind(t, err, tokencore.ErrRateLimited)

	// The client is in back-off, so the introspector makes no call either.
	f.mock.SetFault(dailymock.NoFault)
	_, err = f.verify(t.Context(), f.token("standup", false, time.Hour))
	if e := wantErrorKind(t, err, tokencore.ErrRateLimited); e.RetryAfter != 5*time.Second {
		t.Errorf("RetryAfter: expected 5s, got %s", e.RetryAfter)
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 0)

	f.clock.Advance(5 * time.Second)
	f.mustMint("standup")
}

func TestRESTSignerWithoutTimesNotReused(t *testing.T) {
	f := newSignerFixture(t, time.Hour)
	claims := &tokencore.Claims{RoomName: "standup"}

	for i := 0; i < 2; i++ {
		token, err := f.signer.SignClaims(t.Context(), claims)
		f.record(err)
		if err != nil {
			t.Fatalf("SignClaims %d: %v", i+1, err)
		}
		f.addSecret(token)
	}
	wantCalls(t, f.mock, dailymock.EndpointMint, 2)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return data
}
