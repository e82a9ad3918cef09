package tokencore_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/dailymock"
	"github.com/dailytoken/dailytoken/tokencore"
)

func TestIntrospectorConcurrentRequestsMakeOneCall(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
	token := f.token("standup", true, time.Hour)

	// Stall the API so that all requests are waiting before the call ends.
	f.mock.SetFault(dailymock.Stall)
	const requests = 100
	var wg sync.WaitGroup
	errs := make(chan error, requests)
	for i := 0; i < requests; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.verify(t.Context(), token)
			errs <- err
		}()
	}
	waitUntil(t, "every request waits for the call", func() bool {
		return f.introspector.Stats().Misses == requests && f.mock.Count(dailymock.EndpointIntrospect) == 1
	})
	f.mock.Release()
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Errorf("VerifyToken: unexpected error: %v", err)
		}
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 1)
	stats := f.introspector.Stats()
	if stats.Calls != 1 || stats.Joined != requests-1 || stats.Entries != 1 {
		t.Errorf("stats: expected 1 call, %d joined, 1 entry, got %+v", requests-1, stats)
	}
}

func TestIntrospectorCachedTokenMakesNoCall(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
	token := f.token("standup", true, time.Hour)

	first, err := f.verify(t.Context(), token)
	if err != nil {
		t.Fatalf("first VerifyToken: %v", err)
	}
	second, err := f.verify(t.Context(), token)
	if err != nil {
		t.Fatalf("second VerifyToken: %v", err)
	}

	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 1)
	if second != first {
		t.Errorf("second VerifyToken: expected the cached claims %p, got %p", first, second)
	}
	if second.RoomName != "standup" || second.IsOwner == nil || !*second.IsOwner {
		t.Errorf("claims: expected room standup and owner, got room %q owner %v", second.RoomName, second.IsOwner)
	}
	if stats := f.introspector.Stats(); stats.Hits != 1 || stats.Misses != 1 {
		t.Errorf("stats: expected 1 hit and 1 miss, got %+v", stats)
	}
}

func TestIntrospectorExpiredCacheEntryMakesOneCall(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{CacheTTL: time.Minute})
	token := f.token("standup", false, time.Hour)

	if _, err := f.verify(t.Context(), token); err != nil {
		t.Fatalf("first VerifyToken: %v", err)
	}
	f.clock.Advance(59 * time.Second)
	if _, err := f.verify(t.Context(), token); err != nil {
		t.Fatalf("VerifyToken within the TTL: %v", err)
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 1)

	f.clock.Advance(time.Second)
	if _, err := f.verify(t.Context(), token); err != nil {
		t.Fatalf("VerifyToken after the TTL: %v", err)
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 2)
}

func TestIntrospectorCacheEntryEndsAtTokenExp(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{CacheTTL: time.Hour})
	token := f.token("standup", false, 30*time.Second)

	if _, err := f.verify(t.Context(), token); err != nil {
		t.Fatalf("VerifyToken before exp: %v", err)
	}
	f.clock.Advance(30 * time.Second)
	_, err := f.verify(t.Context(), token)

	// The entry expired with the token, so the API was called and rejected it.
	wantErrorKind(t, err, tokencore.ErrRejectedByDailyAPI)
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 2)
}

func TestIntrospectorCacheDisabled(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{CacheSize: -1})
	token := f.token("standup", false, time.Hour)

	for i := 0; i < 3; i++ {
		if _, err := f.verify(t.Context(), token); err != nil {
			t.Fatalf("VerifyToken %d: %v", i+1, err)
		}
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 3)
	if stats := f.introspector.Stats(); stats.Entries != 0 {
		t.Errorf("entries: expected 0, got %d", stats.Entries)
	}
}

func TestIntrospectorCacheSizeBound(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{CacheSize: 3})
	var tokens []string
	for i := 0; i < 5; i++ {
		token := f.tokenFor(claimsFor("room-"+string(rune('a'+i)), false, f.clock.Now(), time.Hour))
		tokens = append(tokens, token)
		if _, err := f.verify(t.Context(), token); err != nil {
			t.Fatalf("VerifyToken %d: %v", i+1, err)
		}
	}
	if stats := f.introspector.Stats(); stats.Entries != 3 {
		t.Errorf("entries: expected the bound of 3, got %d", stats.Entries)
	}

	// The newest token is cached; the oldest was evicted.
	if _, err := f.verify(t.Context(), tokens[4]); err != nil {
		t.Fatalf("VerifyToken newest: %v", err)
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 5)
	if _, err := f.verify(t.Context(), tokens[0]); err != nil {
		t.Fatalf("VerifyToken oldest: %v", err)
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 6)
}

func TestIntrospectorSendsTokenAndKey(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
	token := f.token("standup", false, time.Hour)

	if _, err := f.verify(t.Context(), token); err != nil {
		t.Fatalf("VerifyToken: %v", err)
	}

	requests := f.mock.Requests()
	if len(requests) != 1 {
		t.Fatalf("requests: expected 1, got %d", len(requests))
	}
	got := requests[0]
	if got.Method != http.MethodGet || got.Path != "/v1/meeting-tokens/"+token {
		t.Errorf("request: expected GET /v1/meeting-tokens/<token>, got %s %s", got.Method, strings.ReplaceAll(got.Path, token, "<token>"))
	}
	if got.RawQuery != "ignoreNbf=true" {
		t.Errorf("query: expected ignoreNbf=true, got %q", got.RawQuery)
	}
	if got.Authorization != "Bearer "+restTestKey {
		t.Errorf("Authorization: expected Bearer with the key, got a value of %d bytes", len(got.Authorization))
	}
}

func TestIntrospectorRejectsNonJWSWithoutCall(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{MaxTokenSize: 512})
	valid := f.token("standup", false, time.Hour)
	noneHeader := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0" + valid[strings.IndexByte(valid, '.'):]

	cases := []struct {
		name  string
		token string
		want  *tokencore.Error
	}{
		{"one segment", "abc", tokencore.ErrMalformedToken},
		{"two segments", "abc.def", tokencore.ErrMalformedToken},
		{"four segments", valid + ".x", tokencore.ErrMalformedToken},
		{"empty segment", "abc..def", tokencore.ErrMalformedToken},
		{"empty signature", valid[:strings.LastIndexByte(valid, '.')+1], tokencore.ErrMalformedToken},
		{"space", "abc.d ef.ghi", tokencore.ErrMalformedToken},
		{"slash", "abc.d/ef.ghi", tokencore.ErrMalformedToken},
		{"percent", "abc.d%2Fef.ghi", tokencore.ErrMalformedToken},
		{"line break", "abc.d\nef.ghi", tokencore.ErrMalformedToken},
		{"alg none", noneHeader, tokencore.ErrUnsupportedAlg},
		{"too large", valid + strings.Repeat("A", 512), tokencore.ErrTokenTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.verify(t.Context(), tc.token)
			wantErrorKind(t, err, tc.want)
		})
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 0)
}

func TestIntrospectorServerDownThenRecovers(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
	token := f.token("standup", false, time.Hour)

	f.mock.Down()
	_, err := f.verify(t.Context(), token)
	wantErrorKind(t, err, tokencore.ErrUnavailable)
	restErr := wantRESTError(t, err)
	if restErr.StatusCode != 0 || restErr.Timeout {
		t.Errorf("RESTError: expected no status and no timeout for a refused connection, got %+v", restErr)
	}
	if !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("error %q: expected it to say the API is unreachable", err)
	}

	// Failures are not cached: the first request after recovery passes.
	f.mock.Up()
	claims, err := f.verify(t.Context(), token)
	if err != nil {
		t.Fatalf("VerifyToken after recovery: %v", err)
	}
	if claims.RoomName != "standup" {
		t.Errorf("room: expected standup, got %q", claims.RoomName)
	}
}

func TestIntrospectorStalledAPITimesOut(t *testing.T) {
	const timeout = 200 * time.Millisecond
	f := newRESTFixture(t, tokencore.RESTConfig{Timeout: timeout}, tokencore.IntrospectorConfig{})
	token := f.token("standup", false, time.Hour)

	f.mock.SetFault(dailymock.Stall)
	_, err := f.verify(t.Context(), token)
	wantErrorKind(t, err, tokencore.ErrUnavailable)
	if restErr := wantRESTError(t, err); !restErr.Timeout {
		t.Errorf("RESTError.Timeout: expected true, got false (%q)", err)
	}
	if want := "did not respond within " + timeout.String(); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q: expected it to contain %q", err, want)
	}

	f.mock.Release()
	if _, err := f.verify(t.Context(), token); err != nil {
		t.Fatalf("VerifyToken after the stall: %v", err)
	}
}

func TestIntrospectorWaiterLeavesCallContinues(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
	token := f.token("standup", false, time.Hour)
	f.mock.SetFault(dailymock.Stall)

	// The request that started the call ends while the API stalls.
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := f.verify(ctx, token)
		done <- err
	}()
	waitUntil(t, "the call reaches the API", func() bool {
		return f.mock.Count(dailymock.EndpointIntrospect) == 1
	})
	cancel()
	err := <-done
	wantErrorKind(t, err, tokencore.ErrUnavailable)

	// The call goes on without it, and its result serves the next request.
	f.mock.Release()
	waitUntil(t, "the call ends", func() bool { return f.introspector.Stats().Entries == 1 })
	if _, err := f.verify(t.Context(), token); err != nil {
		t.Fatalf("VerifyToken after the call: %v", err)
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 1)
}

func TestIntrospectorAPIFailuresAreNotCached(t *testing.T) {
	faults := []dailymock.Fault{dailymock.ServerError, dailymock.MalformedJSON, dailymock.CloseConnection}
	for _, fault := range faults {
		t.Run(fault.String(), func(t *testing.T) {
			f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
			token := f.token("standup", false, time.Hour)

			f.mock.SetFault(fault)
			_, err := f.verify(t.Context(), token)
			wantErrorKind(t, err, tokencore.ErrUnavailable)

			f.mock.SetFault(dailymock.NoFault)
			if _, err := f.verify(t.Context(), token); err != nil {
				t.Fatalf("VerifyToken after the fault: %v", err)
			}
		})
	}
}

func TestIntrospectorServerErrorNamesStatus(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
	f.mock.SetFault(dailymock.ServerError)

	_, err := f.verify(t.Context(), f.token("standup", false, time.Hour))
	e := wantErrorKind(t, err, tokencore.ErrUnavailable)
	if e.Code != "" {
		t.Errorf("code: expected none for a server fault, got %q", e.Code)
	}
	restErr := wantRESTError(t, err)
	if restErr.StatusCode != 500 || restErr.APIError != "server-error" {
		t.Errorf("RESTError: expected 500 server-error, got %d %q", restErr.StatusCode, restErr.APIError)
	}
	if !strings.Contains(err.Error(), "500 server-error") {
		t.Errorf("error %q: expected it to name 500 server-error", err)
	}
}

func TestIntrospectorRateLimitHonoursRetryAfter(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
	first := f.token("standup", false, time.Hour)
	second := f.token("retro", false, time.Hour)

	f.mock.SetFault(dailymock.RateLimit)
	f.mock.SetRetryAfter("7")
	_, err := f.verify(t.Context(), first)
	e := wantErrorKind(t, err, tokencore.ErrRateLimited)
	if e.RetryAfter != 7*time.Second {
		t.Errorf("RetryAfter: expected 7s, got %s", e.RetryAfter)
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 1)

	// Within the window no call is made, and the wait left is reported.
	f.mock.SetFault(dailymock.NoFault)
	f.clock.Advance(3 * time.Second)
	_, err = f.verify(t.Context(), second)
	e = wantErrorKind(t, err, tokencore.ErrRateLimited)
	if e.RetryAfter != 4*time.Second {
		t.Errorf("RetryAfter within the window: expected 4s, got %s", e.RetryAfter)
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 1)
	if stats := f.introspector.Stats(); stats.RateLimited != 1 || stats.Calls != 1 {
		t.Errorf("stats: expected 1 call and 1 rate-limited, got %+v", stats)
	}

	// After the window a call is made, and the rate-limited token was not
	// cached as rejected.
	f.clock.Advance(4 * time.Second)
	if _, err := f.verify(t.Context(), first); err != nil {
		t.Fatalf("VerifyToken after the window: %v", err)
	}
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 2)
}

func TestRESTClientBackoffDoublesWithoutRetryAfter(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{MaxBackoff: 5 * time.Second}, tokencore.IntrospectorConfig{})
	token := f.token("standup", false, time.Hour)
	f.mock.SetFault(dailymock.RateLimit)
	f.mock.SetRetryAfter("")

	for _, want := range []time.Duration{1, 2, 4, 5, 5} {
		want *= time.Second
		_, err := f.verify(t.Context(), token)
		e := wantErrorKind(t, err, tokencore.ErrRateLimited)
		if e.RetryAfter != want {
			t.Errorf("RetryAfter: expected %s, got %s", want, e.RetryAfter)
		}
		f.clock.Advance(e.RetryAfter)
	}

	// Any other response resets the doubling.
	f.mock.SetFault(dailymock.NoFault)
	if _, err := f.verify(t.Context(), token); err != nil {
		t.Fatalf("VerifyToken after the back-off: %v", err)
	}
	f.mock.SetFault(dailymock.RateLimit)
	_, err := f.verify(t.Context(), f.token("retro", false, time.Hour))
	if e := wantErrorKind(t, err, tokencore.ErrRateLimited); e.RetryAfter != time.Second {
		t.Errorf("RetryAfter after a reset: expected 1s, got %s", e.RetryAfter)
	}
}

func TestRESTClientRetryAfterDate(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
	f.mock.SetFault(dailymock.RateLimit)
	f.mock.SetRetryAfter(f.clock.Now().Add(12 * time.Second).UTC().Format(http.TimeFormat))

	_, err := f.verify(t.Context(), f.token("standup", false, time.Hour))
	if e := wantErrorKind(t, err, tokencore.ErrRateLimited); e.RetryAfter != 12*time.Second {
		t.Errorf("RetryAfter: expected 12s, got %s", e.RetryAfter)
	}
}

func TestRESTClientRetryAfterCapped(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{MaxBackoff: 30 * time.Second}, tokencore.IntrospectorConfig{})
	f.mock.SetFault(dailymock.RateLimit)
	f.mock.SetRetryAfter("3600")

	_, err := f.verify(t.Context(), f.token("standup", false, time.Hour))
	if e := wantErrorKind(t, err, tokencore.ErrRateLimited); e.RetryAfter != 30*time.Second {
		t.Errorf("RetryAfter: expected the cap of 30s, got %s", e.RetryAfter)
	}
}

func TestIntrospectorRejectedTokenCachedBriefly(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{NegativeCacheTTL: 10 * time.Second})
	other := dailymock.New(t, "another-domain-key-5e7d")
	foreign := other.Token(claimsFor("standup", false, f.clock.Now(), time.Hour))
	f.addSecret(foreign)

	_, err := f.verify(t.Context(), foreign)
	e := wantErrorKind(t, err, tokencore.ErrRejectedByDailyAPI)
	if e.Code != tokencore.CodeInvalidToken {
		t.Errorf("code: expected %s, got %q", tokencore.CodeInvalidToken, e.Code)
	}
	restErr := wantRESTError(t, err)
	if restErr.StatusCode != 404 || restErr.APIError != "invalid-request-error" {
		t.Errorf("RESTError: expected 404 invalid-request-error, got %d %q", restErr.StatusCode, restErr.APIError)
	}

	f.clock.Advance(9 * time.Second)
	_, err = f.verify(t.Context(), foreign)
	wantErrorKind(t, err, tokencore.ErrRejectedByDailyAPI)
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 1)

	f.clock.Advance(time.Second)
	_, err = f.verify(t.Context(), foreign)
	wantErrorKind(t, err, tokencore.ErrRejectedByDailyAPI)
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 2)
}

func TestIntrospectorExpiredTokenRejected(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
	token := f.tokenFor(claimsFor("standup", false, f.clock.Now().Add(-2*time.Hour), time.Hour))

	_, err := f.verify(t.Context(), token)
	wantErrorKind(t, err, tokencore.ErrRejectedByDailyAPI)
	if restErr := wantRESTError(t, err); restErr.StatusCode != 400 {
		t.Errorf("status: expected 400, got %d", restErr.StatusCode)
	}
}

func TestIntrospectorWrongAPIKeyIsUnavailable(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{APIKey: "wrong-api-key-77aa01"}, tokencore.IntrospectorConfig{})
	token := f.token("standup", false, time.Hour)

	_, err := f.verify(t.Context(), token)
	wantErrorKind(t, err, tokencore.ErrUnavailable)
	restErr := wantRESTError(t, err)
	if !restErr.KeyRejected() {
		t.Errorf("KeyRejected: expected true for 401 authentication-error, got false (%+v)", restErr)
	}
	if !strings.Contains(err.Error(), "API key") {
		t.Errorf("error %q: expected it to name the API key", err)
	}

	// A server fault is not cached against the token.
	_, err = f.verify(t.Context(), token)
	wantErrorKind(t, err, tokencore.ErrUnavailable)
	wantCalls(t, f.mock, dailymock.EndpointIntrospect, 2)
}

func TestIntrospectorWrongClaimTypeRejected(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"room_name":"standup","is_owner":"yes","exp":4102444800}`))
	}))
	defer api.Close()
	client, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: restTestKey, BaseURL: api.URL})
	if err != nil {
		t.Fatalf("NewRESTClient: %v", err)
	}
	introspector, err := tokencore.NewIntrospector(tokencore.IntrospectorConfig{Client: client})
	if err != nil {
		t.Fatalf("NewIntrospector: %v", err)
	}
	token := dailymock.New(t, restTestKey).Token(claimsFor("standup", false, time.Now(), time.Hour))

	_, _, err = introspector.VerifyToken(t.Context(), token)
	e := wantErrorKind(t, err, tokencore.ErrInvalidClaim)
	if !strings.Contains(e.Description, "is_owner") {
		t.Errorf("error %q: expected it to name is_owner", e.Description)
	}
	_, _, err = introspector.VerifyToken(t.Context(), token)
	wantErrorKind(t, err, tokencore.ErrInvalidClaim)
	if stats := introspector.Stats(); stats.Calls != 1 {
		t.Errorf("calls: expected 1, the rejection cached, got %d", stats.Calls)
	}
}

func TestRESTClientDoesNotFollowRedirects(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("redirect target got %s %s", r.Method, r.URL.Path)
	}))
	defer target.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusFound)
	}))
	defer api.Close()

	client, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: restTestKey, BaseURL: api.URL})
	if err != nil {
		t.Fatalf("NewRESTClient: %v", err)
	}
	introspector, err := tokencore.NewIntrospector(tokencore.IntrospectorConfig{Client: client})
	if err != nil {
		t.Fatalf("NewIntrospector: %v", err)
	}
	token := dailymock.New(t, restTestKey).Token(claimsFor("standup", false, time.Now(), time.Hour))

	_, _, err = introspector.VerifyToken(t.Context(), token)
	wantErrorKind(t, err, tokencore.ErrUnavailable)
	if restErr := wantRESTError(t, err); restErr.StatusCode != http.StatusFound {
		t.Errorf("status: expected 302, got %d", restErr.StatusCode)
	}
}

func TestValidatorWithIntrospector(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
	validator, err := tokencore.NewValidator(tokencore.ValidatorConfig{
		Verifier: f.introspector,
		Room:     "{path.0}",
		Policy:   tokencore.Policy{RequireOwner: true},
	})
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	authorize := func(path, token string) (*http.Request, error) {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("X-Daily-Room", "forged")
		_, err := validator.Authorize(r, nil)
		f.record(err)
		return r, err
	}
	owner := f.token("standup", true, time.Hour)

	t.Run("owner of the room", func(t *testing.T) {
		r, err := authorize("/standup/join", owner)
		if err != nil {
			t.Fatalf("Authorize: %v", err)
		}
		if got := r.Header.Get("X-Daily-Room"); got != "standup" {
			t.Errorf("X-Daily-Room: expected standup, got %q", got)
		}
		if got := r.Header.Get("X-Daily-Is-Owner"); got != "true" {
			t.Errorf("X-Daily-Is-Owner: expected true, got %q", got)
		}
		var payload map[string]any
		if err := json.Unmarshal([]byte(r.Header.Get("X-Daily-Claims")), &payload); err != nil {
			t.Fatalf("X-Daily-Claims: not JSON: %v", err)
		}
		if payload["r"] != "standup" || payload["o"] != true {
			t.Errorf("X-Daily-Claims: expected short claims r and o, got %v", payload)
		}
	})

	t.Run("other room", func(t *testing.T) {
		_, err := authorize("/retro/join", owner)
		wantErrorKind(t, err, tokencore.ErrRoomMismatch)
	})

	t.Run("not owner", func(t *testing.T) {
		_, err := authorize("/standup/join", f.token("standup", false, time.Hour))
		wantErrorKind(t, err, tokencore.ErrNotOwner)
	})

	t.Run("not valid yet within leeway", func(t *testing.T) {
		owned := true
		claims := &tokencore.Claims{RoomName: "standup", IsOwner: &owned, Nbf: f.clock.Now().Add(10 * time.Second), Exp: f.clock.Now().Add(time.Hour)}
		if _, err := authorize("/standup/join", f.tokenFor(claims)); err != nil {
			t.Errorf("Authorize: expected nbf within the leeway to pass, got %v", err)
		}
	})

	t.Run("expired", func(t *testing.T) {
		expired := f.tokenFor(claimsFor("standup", true, f.clock.Now().Add(-2*time.Hour), time.Hour))
		_, err := authorize("/standup/join", expired)
		wantErrorKind(t, err, tokencore.ErrRejectedByDailyAPI)
	})

	t.Run("api down", func(t *testing.T) {
		f.mock.Down()
		defer f.mock.Up()
		_, err := authorize("/standup/join", f.token("standup", true, 2*time.Hour))
		wantErrorKind(t, err, tokencore.ErrUnavailable)
	})

	// Every request for the first token after the first was a cache hit.
	if stats := f.introspector.Stats(); stats.Hits < 1 {
		t.Errorf("hits: expected at least 1, got %d", stats.Hits)
	}
}

func TestRESTErrorsNeverContainSecrets(t *testing.T) {
	// The fixture checks every recorded error at the end of each test. This
	// test makes sure that the check can fail. It also runs the error paths
	// that quote a token or the key, with the mock echoing both.
	t.Run("check detects a leak", func(t *testing.T) {
		leaked := errors.New("failed for " + restTestKey)
		for _, text := range errorTexts(leaked) {
			if strings.Contains(text, restTestKey) {
				return
			}
		}
		t.Fatal("errorTexts: expected the leaked key in a text")
	})

	f := newRESTFixture(t, tokencore.RESTConfig{Timeout: 200 * time.Millisecond}, tokencore.IntrospectorConfig{})
	token := f.token("standup", false, time.Hour)
	other := dailymock.New(t, "another-domain-key-5e7d")
	foreign := other.Token(claimsFor("standup", false, f.clock.Now(), time.Hour))
	f.addSecret(foreign)

	for _, fault := range []dailymock.Fault{dailymock.ServerError, dailymock.Stall, dailymock.RateLimit, dailymock.MalformedJSON, dailymock.CloseConnection} {
		f.mock.SetFault(fault)
		_, err := f.verify(t.Context(), token)
		if err == nil {
			t.Errorf("fault %s: expected an error", fault)
		}
		f.mock.Release()
		f.mock.SetFault(dailymock.NoFault)
		f.clock.Advance(time.Minute)
	}
	if _, err := f.verify(t.Context(), foreign); err == nil {
		t.Error("foreign token: expected an error")
	}
	f.mock.Down()
	if _, err := f.verify(t.Context(), f.token("retro", false, time.Hour)); err == nil {
		t.Error("server down: expected an error")
	}
	f.mock.Up()

	wrongKey := "wrong-api-key-77aa01"
	f.addSecret(wrongKey)
	client, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: wrongKey, BaseURL: f.mock.URL})
	if err != nil {
		t.Fatalf("NewRESTClient: %v", err)
	}
	introspector, err := tokencore.NewIntrospector(tokencore.IntrospectorConfig{Client: client})
	if err != nil {
		t.Fatalf("NewIntrospector: %v", err)
	}
	_, _, err = introspector.VerifyToken(t.Context(), token)
	f.record(err)
	if restErr, ok := tokencore.AsRESTError(err); !ok || restErr.Info == "" {
		t.Errorf("wrong key: expected a RESTError with Daily's info text, got %v", err)
	}

	signer, err := tokencore.NewRESTSigner(tokencore.RESTSignerConfig{Client: client})
	if err != nil {
		t.Fatalf("NewRESTSigner: %v", err)
	}
	_, err = signer.SignClaims(t.Context(), claimsFor("standup", false, time.Now(), time.Hour))
	f.record(err)
	if err == nil {
		t.Error("minting with the wrong key: expected an error")
	}
}

func TestScrubSecrets(t *testing.T) {
	cases := []struct {
		text    string
		secrets []string
		want    string
	}{
		{`Get "http://127.0.0.1/v1/meeting-tokens/aaa.bbb.ccc": EOF`, []string{"aaa.bbb.ccc"}, `Get "http://127.0.0.1/v1/meeting-tokens/[redacted]": EOF`},
		{"key k3y and k3y again", []string{"", "k3y"}, "key [redacted] and [redacted] again"},
		{"nothing secret", []string{"x.y.z"}, "nothing secret"},
	}
	for _, tc := range cases {
		if got := tokencore.ScrubSecrets(tc.text, tc.secrets...); got != tc.want {
			t.Errorf("ScrubSecrets(%q): expected %q, got %q", tc.text, tc.want, got)
		}
	}
}

func TestNewRESTClientConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  tokencore.RESTConfig
		want string
	}{
		{"empty key", tokencore.RESTConfig{}, "API key is empty"},
		{"key with space", tokencore.RESTConfig{APIKey: "abc def"}, "API key has a space"},
		{"ftp base URL", tokencore.RESTConfig{APIKey: "k", BaseURL: "ftp://api.example"}, "scheme must be https or http"},
		{"relative base URL", tokencore.RESTConfig{APIKey: "k", BaseURL: "/v1"}, "scheme must be https or http"},
		{"plain http to another host", tokencore.RESTConfig{APIKey: "k", BaseURL: "http://api.daily.co/v1"}, "uses http with a host other than loopback"},
		{"plain http to a private address", tokencore.RESTConfig{APIKey: "k", BaseURL: "http://10.0.0.1/v1"}, "uses http with a host other than loopback"},
		{"base URL with query", tokencore.RESTConfig{APIKey: "k", BaseURL: "https://api.daily.co/v1?x=1"}, "must not have a query"},
		{"base URL with user", tokencore.RESTConfig{APIKey: "k", BaseURL: "https://me:pw@api.daily.co/v1"}, "must not contain user information"},
		{"negative timeout", tokencore.RESTConfig{APIKey: "k", Timeout: -time.Second}, "timeout -1s is negative"},
		{"negative back-off", tokencore.RESTConfig{APIKey: "k", MaxBackoff: -time.Second}, "maximum back-off -1s is negative"},
		{"back-off under a second", tokencore.RESTConfig{APIKey: "k", MaxBackoff: 500 * time.Millisecond}, "maximum back-off 500ms is less than 1s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tokencore.NewRESTClient(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewRESTClient: expected an error containing %q, got %v", tc.want, err)
			}
			if strings.Contains(err.Error(), "pw@") || strings.Contains(err.Error(), "abc def") {
				t.Errorf("error %q: expected no secret in it", err)
			}
		})
	}
}

func TestNewRESTClientDefaults(t *testing.T) {
	client, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: "k"})
	if err != nil {
		t.Fatalf("NewRESTClient: %v", err)
	}
	if client.BaseURL() != tokencore.DefaultRESTBaseURL {
		t.Errorf("BaseURL: expected %s, got %s", tokencore.DefaultRESTBaseURL, client.BaseURL())
	}
	if client.Timeout() != tokencore.DefaultRESTTimeout {
		t.Errorf("Timeout: expected %s, got %s", tokencore.DefaultRESTTimeout, client.Timeout())
	}

	trimmed, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: "k", BaseURL: "http://127.0.0.1:8080/v1/"})
	if err != nil {
		t.Fatalf("NewRESTClient: %v", err)
	}
	if trimmed.BaseURL() != "http://127.0.0.1:8080/v1" {
		t.Errorf("BaseURL: expected the trailing slash removed, got %s", trimmed.BaseURL())
	}
}

func TestNewIntrospectorRequiresClient(t *testing.T) {
	if _, err := tokencore.NewIntrospector(tokencore.IntrospectorConfig{}); err == nil {
		t.Error("NewIntrospector without a client: expected an error")
	}
	if _, err := tokencore.NewRESTSigner(tokencore.RESTSignerConfig{}); err == nil {
		t.Error("NewRESTSigner without a client: expected an error")
	}
}

func TestIntrospectorLeavesNoGoroutines(t *testing.T) {
	f := newRESTFixture(t, tokencore.RESTConfig{}, tokencore.IntrospectorConfig{})
	token := f.token("standup", false, time.Hour)
	baseline := runtime.NumGoroutine()

	// Traefik builds a middleware per router and on every reload: build
	// many, use each once, and drop them.
	for i := 0; i < 50; i++ {
		client, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: restTestKey, BaseURL: f.mock.URL})
		if err != nil {
			t.Fatalf("NewRESTClient: %v", err)
		}
		introspector, err := tokencore.NewIntrospector(tokencore.IntrospectorConfig{Client: client})
		if err != nil {
			t.Fatalf("NewIntrospector: %v", err)
		}
		if _, _, err := introspector.VerifyToken(t.Context(), token); err != nil {
			t.Fatalf("VerifyToken %d: %v", i+1, err)
		}
	}

	// Idle keep-alive connections have goroutines of their own in the
	// transport and the server, so close them before counting.
	f.mock.Down()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	waitUntil(t, "the goroutine count is back to its baseline", func() bool {
		return runtime.NumGoroutine() <= baseline
	})
}
