package traefiktest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/internal/dailymock"
	"github.com/dailytoken/dailytoken/tokencore"
)

// The tests in this file run the plugin in Daily's REST API mode against
// the mock of the API on 127.0.0.1, under Yaegi and compiled. The mock runs
// compiled in both cases.

// restKey is the API key of the mock and of the middlewares.
const restKey = "rest-mode-api-key-3b7e91d0c4"

// restFactory is one way of building the middleware.
type restFactory struct {
	name    string
	factory middlewareFactory
}

// restFactories returns the interpreted and the compiled plugin.
func restFactories(t *testing.T) []restFactory {
	t.Helper()
	return []restFactory{
		{"yaegi", interpretedFactory(loadPlugin(t))},
		{"compiled", compiledFactory},
	}
}

// restOptions returns the options of a middleware in REST API mode that
// calls mock, with changes applied.
func restOptions(mock *dailymock.Server, mode string, changes map[string]any) map[string]any {
	options := map[string]any{
		"mode":            mode,
		"keys":            []any{restKey},
		"dailyApi":        true,
		"dailyApiBaseUrl": mock.URL,
	}
	for name, value := range changes {
		options[name] = value
	}
	return options
}

// newRESTServer builds the middleware with factory and serves it over HTTP.
func newRESTServer(t *testing.T, factory middlewareFactory, options map[string]any, upstream http.Handler) *httptest.Server {
	t.Helper()
	handler, err := factory(context.Background(), options, upstream, "rest@file")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return serve(t, handler)
}

// roomToken returns a token for room and user, valid for an hour, signed
// with key as a token of the domain that key belongs to.
func roomToken(key, room, userID string) string {
	now := time.Now()
	return casetable.Sign(key, casetable.HS256Header, map[string]any{
		"r":   room,
		"ud":  userID,
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	})
}

// count returns the number of requests the upstream received.
func (u *recordingUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.requests)
}

// getWithToken sends GET target with token as a Bearer token.
func getWithToken(t *testing.T, server *httptest.Server, target, token string) (*http.Response, []byte) {
	t.Helper()
	return send(t, server, casetable.Request{
		Method: http.MethodGet,
		Target: target,
		Header: http.Header{"Authorization": {"Bearer " + token}},
	})
}

// expectStatus fails the test unless response has status, and returns the
// reason of an error body.
func expectStatus(t *testing.T, label string, response *http.Response, body []byte, status int) string {
	t.Helper()
	if response.StatusCode != status {
		t.Errorf("%s: status = %d, expected %d; body %s", label, response.StatusCode, status, body)
	}
	var fields map[string]string
	_ = json.Unmarshal(body, &fields)
	return fields["error"]
}

// expectCalls fails the test unless mock received calls requests to endpoint.
func expectCalls(t *testing.T, label string, mock *dailymock.Server, endpoint string, calls int) {
	t.Helper()
	if got := mock.Count(endpoint); got != calls {
		t.Errorf("%s: calls to %s = %d, expected %d", label, endpoint, got, calls)
	}
}

// countingHandler counts the requests that have entered handler.
type countingHandler struct {
	handler http.Handler
	entered atomic.Int64
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.entered.Add(1)
	c.handler.ServeHTTP(w, r)
}

// TestRESTValidateOneCallPerToken sends 100 concurrent requests with one new
// token while the API stalls, so that all of them wait for the same call,
// then one more request that the cache serves.
func TestRESTValidateOneCallPerToken(t *testing.T) {
	for _, f := range restFactories(t) {
		t.Run(f.name, func(t *testing.T) {
			mock := dailymock.New(t, restKey)
			upstream := &recordingUpstream{}
			handler, err := f.factory(context.Background(), restOptions(mock, "validate", map[string]any{
				"room":            "{path.1}",
				"dailyApiTimeout": "30s",
			}), upstream, "rest@file")
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			counting := &countingHandler{handler: handler}
			server := serve(t, counting)
			token := mock.Token(&tokencore.Claims{RoomName: "standup", UserID: "user-1", Iat: time.Now(), Exp: time.Now().Add(time.Hour)})

			// Hold the call until every request has entered the middleware.
			mock.SetFault(dailymock.Stall)
			const concurrent = 100
			statuses := make([]int, concurrent)
			var wg sync.WaitGroup
			for i := 0; i < concurrent; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					request, _ := http.NewRequest(http.MethodGet, server.URL+"/rooms/standup", nil)
					request.Header.Set("Authorization", "Bearer "+token)
					response, err := server.Client().Do(request)
					if err != nil {
						return
					}
					response.Body.Close()
					statuses[i] = response.StatusCode
				}(i)
			}
			deadline := time.Now().Add(20 * time.Second)
			for counting.entered.Load() < concurrent && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if entered := counting.entered.Load(); entered < concurrent {
				t.Errorf("requests in the middleware while the API stalled = %d, expected %d", entered, concurrent)
			}
			mock.Release()
			wg.Wait()

			for i, status := range statuses {
				if status != http.StatusOK {
					t.Errorf("concurrent request %d: status = %d, expected 200", i, status)
				}
			}
			expectCalls(t, "100 concurrent requests", mock, dailymock.EndpointIntrospect, 1)
			if got := upstream.last().Header.Get("X-Daily-Room"); got != "standup" {
				t.Errorf("upstream X-Daily-Room = %q, expected standup", got)
			}

			response, body := getWithToken(t, server, "/rooms/standup", token)
			expectStatus(t, "cached token", response, body, http.StatusOK)
			expectCalls(t, "cached token", mock, dailymock.EndpointIntrospect, 1)

			response, body = getWithToken(t, server, "/rooms/retro", token)
			expectStatus(t, "cached token, other room", response, body, http.StatusForbidden)
			expectCalls(t, "cached token, other room", mock, dailymock.EndpointIntrospect, 1)
		})
	}
}

// TestRESTValidateCacheEntryExpires sets a cache TTL of 100ms, the only
// setting that ends a cache entry before the token's exp, and checks that
// the first request after it makes a new call.
func TestRESTValidateCacheEntryExpires(t *testing.T) {
	for _, f := range restFactories(t) {
		t.Run(f.name, func(t *testing.T) {
			mock := dailymock.New(t, restKey)
			server := newRESTServer(t, f.factory, restOptions(mock, "validate", map[string]any{"dailyApiCacheTtl": "100ms"}), &recordingUpstream{})
			token := roomToken(restKey, "standup", "user-1")

			response, body := getWithToken(t, server, "/", token)
			expectStatus(t, "first request", response, body, http.StatusOK)
			expectCalls(t, "first request", mock, dailymock.EndpointIntrospect, 1)

			// The entry expires 100ms after the call ended, by the
			// monotonic clock, so this sleep always outlasts it.
			time.Sleep(150 * time.Millisecond)
			response, body = getWithToken(t, server, "/", token)
			expectStatus(t, "after the TTL", response, body, http.StatusOK)
			expectCalls(t, "after the TTL", mock, dailymock.EndpointIntrospect, 2)
		})
	}
}

// TestRESTValidateUnavailable takes the API down, makes it stall and makes
// it fail, and checks that a token not cached gets 503 without a pass, that
// a cached token still passes, and that the same middleware recovers.
func TestRESTValidateUnavailable(t *testing.T) {
	outages := []struct {
		name    string
		start   func(*dailymock.Server)
		end     func(*dailymock.Server)
		timeout bool
	}{
		{"down", (*dailymock.Server).Down, (*dailymock.Server).Up, false},
		{"stall", func(m *dailymock.Server) { m.SetFault(dailymock.Stall) }, (*dailymock.Server).Release, true},
		{"server error", func(m *dailymock.Server) { m.SetFault(dailymock.ServerError) }, func(m *dailymock.Server) { m.SetFault(dailymock.NoFault) }, false},
		{"malformed body", func(m *dailymock.Server) { m.SetFault(dailymock.MalformedJSON) }, func(m *dailymock.Server) { m.SetFault(dailymock.NoFault) }, false},
	}
	for _, f := range restFactories(t) {
		for _, outage := range outages {
			t.Run(f.name+"/"+outage.name, func(t *testing.T) {
				mock := dailymock.New(t, restKey)
				upstream := &recordingUpstream{}
				server := newRESTServer(t, f.factory, restOptions(mock, "validate", map[string]any{"dailyApiTimeout": "200ms"}), upstream)
				cached := roomToken(restKey, "standup", "user-1")
				fresh := roomToken(restKey, "standup", "user-2")

				response, body := getWithToken(t, server, "/", cached)
				expectStatus(t, "before the outage", response, body, http.StatusOK)

				outage.start(mock)
				passed := upstream.count()
				response, body = getWithToken(t, server, "/", fresh)
				reason := expectStatus(t, "token not cached", response, body, http.StatusServiceUnavailable)
				if reason != "api_unavailable" {
					t.Errorf("token not cached: reason = %q, expected api_unavailable; body %s", reason, body)
				}
				if upstream.count() != passed {
					t.Errorf("token not cached: the upstream received the request, expected none")
				}
				if value := response.Header.Get("Retry-After"); value != "" {
					t.Errorf("token not cached: Retry-After = %q, expected none", value)
				}
				if value := response.Header.Get("WWW-Authenticate"); value != "" {
					t.Errorf("token not cached: WWW-Authenticate = %q, expected none for a server failure", value)
				}
				if outage.timeout {
					mustContain(t, "body", string(body), "did not respond within 200ms")
				}

				response, body = getWithToken(t, server, "/", cached)
				expectStatus(t, "cached token during the outage", response, body, http.StatusOK)

				outage.end(mock)
				response, body = getWithToken(t, server, "/", fresh)
				expectStatus(t, "after recovery", response, body, http.StatusOK)
				if got := upstream.last().Header.Get("X-Daily-User-Id"); got != "user-2" {
					t.Errorf("after recovery: upstream X-Daily-User-Id = %q, expected user-2", got)
				}
			})
		}
	}
}

// TestRESTValidateRateLimited makes the API respond 429 with Retry-After:
// 30 and checks that requests get 503 with Retry-After and that no call is
// made during the back-off, even once the API would respond normally again.
func TestRESTValidateRateLimited(t *testing.T) {
	for _, f := range restFactories(t) {
		t.Run(f.name, func(t *testing.T) {
			mock := dailymock.New(t, restKey)
			mock.SetFault(dailymock.RateLimit)
			mock.SetRetryAfter("30")
			server := newRESTServer(t, f.factory, restOptions(mock, "validate", nil), &recordingUpstream{})

			response, body := getWithToken(t, server, "/", roomToken(restKey, "standup", "user-1"))
			reason := expectStatus(t, "429 from the API", response, body, http.StatusServiceUnavailable)
			if reason != "api_rate_limited" {
				t.Errorf("429 from the API: reason = %q, expected api_rate_limited", reason)
			}
			if got := response.Header.Get("Retry-After"); got != "30" {
				t.Errorf("429 from the API: Retry-After = %q, expected 30", got)
			}
			expectCalls(t, "429 from the API", mock, dailymock.EndpointIntrospect, 1)

			mock.SetFault(dailymock.NoFault)
			response, body = getWithToken(t, server, "/", roomToken(restKey, "standup", "user-2"))
			reason = expectStatus(t, "during the back-off", response, body, http.StatusServiceUnavailable)
			if reason != "api_rate_limited" {
				t.Errorf("during the back-off: reason = %q, expected api_rate_limited", reason)
			}
			seconds, err := strconv.Atoi(response.Header.Get("Retry-After"))
			if err != nil || seconds < 1 || seconds > 30 {
				t.Errorf("during the back-off: Retry-After = %q, expected whole seconds from 1 to 30", response.Header.Get("Retry-After"))
			}
			expectCalls(t, "during the back-off", mock, dailymock.EndpointIntrospect, 1)
		})
	}
}

// TestRESTValidateRejections checks the responses to tokens Daily rejects,
// to input that never reaches Daily, and to a key Daily rejects.
func TestRESTValidateRejections(t *testing.T) {
	for _, f := range restFactories(t) {
		t.Run(f.name, func(t *testing.T) {
			mock := dailymock.New(t, restKey)
			server := newRESTServer(t, f.factory, restOptions(mock, "validate", map[string]any{"realm": "meetings"}), &recordingUpstream{})

			// a token of another domain: Daily responds with 404
			foreign := roomToken("another-domain-key", "standup", "user-1")
			for i := 0; i < 2; i++ {
				response, body := getWithToken(t, server, "/", foreign)
				reason := expectStatus(t, "foreign token", response, body, http.StatusUnauthorized)
				if reason != "rejected_by_api" {
					t.Errorf("foreign token: reason = %q, expected rejected_by_api", reason)
				}
				mustContain(t, "foreign token: WWW-Authenticate", response.Header.Get("WWW-Authenticate"), `realm="meetings"`, `error="invalid_token"`)
			}
			expectCalls(t, "foreign token twice", mock, dailymock.EndpointIntrospect, 1)

			// input that is not a token, and no token at all
			response, body := getWithToken(t, server, "/", "not-a-token")
			expectStatus(t, "malformed token", response, body, http.StatusUnauthorized)
			response, body = send(t, server, casetable.Request{Method: http.MethodGet, Target: "/"})
			expectStatus(t, "no token", response, body, http.StatusUnauthorized)
			expectCalls(t, "malformed and missing tokens", mock, dailymock.EndpointIntrospect, 1)

			// a middleware with a key Daily rejects
			wrongKey := newRESTServer(t, f.factory, restOptions(mock, "validate", map[string]any{"keys": "wrong-api-key-81f2"}), &recordingUpstream{})
			response, body = getWithToken(t, wrongKey, "/", roomToken(restKey, "standup", "user-1"))
			reason := expectStatus(t, "wrong API key", response, body, http.StatusServiceUnavailable)
			if reason != "api_unavailable" {
				t.Errorf("wrong API key: reason = %q, expected api_unavailable", reason)
			}
			mustContain(t, "wrong API key: body", string(body), "check the configured API key")
		})
	}
}

// TestRESTValidatePolicy checks that the options of a validating middleware
// apply to the claims Daily returns, and that the claim headers come from
// them.
func TestRESTValidatePolicy(t *testing.T) {
	for _, f := range restFactories(t) {
		t.Run(f.name, func(t *testing.T) {
			mock := dailymock.New(t, restKey)
			upstream := &recordingUpstream{}
			server := newRESTServer(t, f.factory, restOptions(mock, "validate", map[string]any{
				"room":         "{path.1}",
				"requireOwner": true,
				"stripToken":   true,
			}), upstream)
			owner := true
			now := time.Now()
			ownerToken := mock.Token(&tokencore.Claims{RoomName: "standup", UserName: "Ada", IsOwner: &owner, Iat: now, Exp: now.Add(time.Hour)})
			guestToken := roomToken(restKey, "standup", "user-2")

			response, body := send(t, server, casetable.Request{
				Method: http.MethodGet,
				Target: "/rooms/standup",
				Header: http.Header{"Authorization": {"Bearer " + ownerToken}, "X-Daily-Is-Owner": {"forged"}},
			})
			expectStatus(t, "owner token", response, body, http.StatusOK)
			received := upstream.last()
			if received.Header.Get("X-Daily-Is-Owner") != "true" || received.Header.Get("X-Daily-User-Name") != "Ada" {
				t.Errorf("owner token: upstream claim headers %v, expected X-Daily-Is-Owner true and X-Daily-User-Name Ada", received.Header)
			}
			if received.Header.Get("Authorization") != "" {
				t.Errorf("owner token: upstream Authorization = %q, expected the token stripped", received.Header.Get("Authorization"))
			}

			response, body = getWithToken(t, server, "/rooms/standup", guestToken)
			if reason := expectStatus(t, "guest token", response, body, http.StatusForbidden); reason != "not_owner" {
				t.Errorf("guest token: reason = %q, expected not_owner", reason)
			}
		})
	}
}

// TestRESTMintReusesToken mints through the API and checks that the
// upstream receives the API's token, that requests with the same claims
// share one call, concurrent ones included, and that other claims get
// another token.
func TestRESTMintReusesToken(t *testing.T) {
	for _, f := range restFactories(t) {
		t.Run(f.name, func(t *testing.T) {
			mock := dailymock.New(t, restKey)
			upstream := &recordingUpstream{}
			server := newRESTServer(t, f.factory, restOptions(mock, "mint", map[string]any{
				"lifetime": "10m",
				"claims":   map[string]any{"room_name": "{path.1}", "user_id": "{header.X-Auth-User}", "is_owner": false},
			}), upstream)
			mintFor := func(user string) string {
				t.Helper()
				response, body := send(t, server, casetable.Request{
					Method: http.MethodGet,
					Target: "/rooms/standup",
					Header: http.Header{"X-Auth-User": {user}},
				})
				expectStatus(t, "mint for "+user, response, body, http.StatusOK)
				token, found := strings.CutPrefix(upstream.last().Header.Get("Authorization"), "Bearer ")
				if !found {
					t.Fatalf("mint for %s: upstream Authorization = %q, expected a Bearer token", user, upstream.last().Header.Get("Authorization"))
				}
				return token
			}

			first := mintFor("user-1")
			claims, err := casetable.VerifyToken(restKey, first)
			if err != nil {
				t.Fatalf("minted token does not verify with the API key: %v", err)
			}
			if claims["r"] != "standup" || claims["ud"] != "user-1" || claims["o"] != false {
				t.Errorf("minted claims %v, expected r standup, ud user-1, o false", claims)
			}
			if lifetime := claims["exp"].(float64) - claims["iat"].(float64); lifetime < 599 || lifetime > 601 {
				t.Errorf("minted lifetime = %v s, expected 600", lifetime)
			}
			expectCalls(t, "first mint", mock, dailymock.EndpointMint, 1)

			var properties map[string]map[string]any
			if err := json.Unmarshal(mock.Requests()[0].Body, &properties); err != nil {
				t.Fatalf("POST body %s: %v", mock.Requests()[0].Body, err)
			}
			if properties["properties"]["room_name"] != "standup" || properties["properties"]["user_id"] != "user-1" {
				t.Errorf("POST properties %v, expected room_name standup and user_id user-1", properties["properties"])
			}

			// the same claims, in a row and concurrently
			if again := mintFor("user-1"); again != first {
				t.Errorf("second mint for user-1: expected the first token again, got another")
			}
			var wg sync.WaitGroup
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					request, _ := http.NewRequest(http.MethodGet, server.URL+"/rooms/standup", nil)
					request.Header.Set("X-Auth-User", "user-1")
					if response, err := server.Client().Do(request); err == nil {
						response.Body.Close()
					}
				}()
			}
			wg.Wait()
			expectCalls(t, "22 mints with the same claims", mock, dailymock.EndpointMint, 1)

			// other claims
			if other := mintFor("user-2"); other == first {
				t.Errorf("mint for user-2: got the token of user-1")
			}
			expectCalls(t, "mint for another user", mock, dailymock.EndpointMint, 2)
		})
	}
}

// TestRESTMintFailures checks the responses when the API cannot mint: down,
// rate-limiting, or rejecting the properties.
func TestRESTMintFailures(t *testing.T) {
	for _, f := range restFactories(t) {
		t.Run(f.name, func(t *testing.T) {
			mock := dailymock.New(t, restKey)
			upstream := &recordingUpstream{}
			server := newRESTServer(t, f.factory, restOptions(mock, "mint", map[string]any{
				"target":          "response",
				"dailyApiTimeout": "200ms",
				"claims":          map[string]any{"room_name": "standup", "user_id": "{header.X-Auth-User}"},
			}), upstream)
			mint := func(user string) (*http.Response, []byte) {
				return send(t, server, casetable.Request{Method: http.MethodPost, Target: "/token", Header: http.Header{"X-Auth-User": {user}}})
			}

			mock.Down()
			response, body := mint("user-1")
			if reason := expectStatus(t, "API down", response, body, http.StatusServiceUnavailable); reason != "api_unavailable" {
				t.Errorf("API down: reason = %q, expected api_unavailable", reason)
			}
			mock.Up()
			response, body = mint("user-1")
			expectStatus(t, "API up again", response, body, http.StatusOK)

			mock.SetFault(dailymock.RateLimit)
			mock.SetRetryAfter("7")
			response, body = mint("user-2")
			expectStatus(t, "429 from the API", response, body, http.StatusServiceUnavailable)
			if got := response.Header.Get("Retry-After"); got != "7" {
				t.Errorf("429 from the API: Retry-After = %q, expected 7", got)
			}
			mock.SetFault(dailymock.NoFault)

			response, body = mint("user-1")
			expectStatus(t, "reused token during the back-off", response, body, http.StatusOK)
			if upstream.count() != 0 {
				t.Errorf("target response: the upstream received %d requests, expected none", upstream.count())
			}
		})
	}
}

// TestRESTOutputHasNoSecrets makes the mock quote the key and the token in
// its error bodies, drives every kind of failure through the interpreted
// plugin, and checks that no response and no printed line contains either,
// while the failures are printed.
func TestRESTOutputHasNoSecrets(t *testing.T) {
	recorder := newStdoutTB(t)
	plugin := loadPlugin(recorder)
	mock := dailymock.New(t, restKey)
	mock.SetEchoSecrets(true)
	const wrongKey = "wrong-api-key-that-must-stay-secret"

	token := roomToken(restKey, "standup", "user-1")
	foreign := roomToken("another-domain-key", "standup", "user-1")
	secrets := []string{restKey, wrongKey, token, foreign, strings.Split(token, ".")[2], strings.Split(foreign, ".")[2]}

	build := func(options map[string]any) *httptest.Server {
		handler, err := plugin.NewMiddleware(context.Background(), options, &recordingUpstream{}, "secrets@file")
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return serve(t, handler)
	}
	var responses []string
	record := func(response *http.Response, body []byte) {
		for name, values := range response.Header {
			responses = append(responses, name+": "+strings.Join(values, ", "))
		}
		responses = append(responses, string(body))
	}

	good := build(restOptions(mock, "validate", map[string]any{"dailyApiTimeout": "200ms", "sources": "bearer,query:t"}))
	wrong := build(restOptions(mock, "validate", map[string]any{"keys": wrongKey}))
	record(getWithToken(t, good, "/", foreign))
	record(getWithToken(t, wrong, "/", token))
	record(getWithToken(t, wrong, "/?t="+token, token))
	mock.SetFault(dailymock.CloseConnection)
	record(getWithToken(t, good, "/", token))
	mock.SetFault(dailymock.Stall)
	record(getWithToken(t, good, "/?t="+token, token))
	mock.Release()

	output := recorder.output()
	mustContain(t, "plugin output", output, "secrets@file", "api_unavailable", "check the configured API key", "did not respond within 200ms", "(token "+tokencore.Fingerprint(token)+")")
	for _, secret := range secrets {
		if strings.Contains(output, secret) {
			t.Errorf("plugin output contains a key, token or signature: %q", output)
		}
		for _, response := range responses {
			if strings.Contains(response, secret) {
				t.Errorf("response contains a key, token or signature: %q", response)
			}
		}
	}
}

// TestRESTFailurePrintedOnce sends the same failure several times and a
// different one, and checks that each kind is printed once within the
// log interval.
func TestRESTFailurePrintedOnce(t *testing.T) {
	recorder := newStdoutTB(t)
	plugin := loadPlugin(recorder)
	mock := dailymock.New(t, restKey)
	handler, err := plugin.NewMiddleware(context.Background(), restOptions(mock, "validate", nil), &recordingUpstream{}, "repeat@file")
	if err != nil {
		t.Fatal(err)
	}
	server := serve(t, handler)

	mock.SetFault(dailymock.ServerError)
	for i := 0; i < 5; i++ {
		response, body := getWithToken(t, server, "/", roomToken(restKey, "standup", "user-"+strconv.Itoa(i)))
		expectStatus(t, "server error", response, body, http.StatusServiceUnavailable)
	}
	mock.SetFault(dailymock.MalformedJSON)
	response, body := getWithToken(t, server, "/", roomToken(restKey, "standup", "user-9"))
	expectStatus(t, "malformed body", response, body, http.StatusServiceUnavailable)

	output := recorder.output()
	if got := strings.Count(output, "returned 500"); got != 1 {
		t.Errorf("lines about the 500 responses = %d, expected 1; output %q", got, output)
	}
	if got := strings.Count(output, "not a JSON object"); got != 1 {
		t.Errorf("lines about the malformed body = %d, expected 1; output %q", got, output)
	}
}

// TestRESTConfigErrors checks that New rejects bad REST API options with a
// message that names the option.
func TestRESTConfigErrors(t *testing.T) {
	validate := func(changes map[string]any) map[string]any {
		options := map[string]any{"mode": "validate", "keys": []any{secretKey}, "dailyApi": true}
		for name, value := range changes {
			options[name] = value
		}
		return options
	}
	cases := []struct {
		name    string
		options map[string]any
		want    []string
	}{
		{"ftp URL", validate(map[string]any{"dailyApiBaseUrl": "ftp://127.0.0.1/v1"}), []string{"dailyApiBaseUrl:", `"ftp://127.0.0.1/v1"`, "https or http"}},
		{"relative URL", validate(map[string]any{"dailyApiBaseUrl": "/v1"}), []string{"dailyApiBaseUrl:", `"/v1"`}},
		{"http to another host", validate(map[string]any{"dailyApiBaseUrl": "http://api.daily.co/v1"}), []string{"dailyApiBaseUrl", "http with a host other than loopback"}},
		{"URL with user", validate(map[string]any{"dailyApiBaseUrl": "https://user:pass@api.daily.co/v1"}), []string{"dailyApiBaseUrl:", "user information"}},
		{"URL with query", validate(map[string]any{"dailyApiBaseUrl": "https://api.daily.co/v1?x=1"}), []string{"dailyApiBaseUrl:", "query or fragment"}},
		{"zero timeout", validate(map[string]any{"dailyApiTimeout": "0s"}), []string{`dailyApiTimeout "0s" must be positive`}},
		{"timeout in words", validate(map[string]any{"dailyApiTimeout": "fast"}), []string{`dailyApiTimeout "fast" is not a duration`}},
		{"short back-off", validate(map[string]any{"dailyApiMaxBackoff": "500ms"}), []string{"dailyApiMaxBackoff: maximum back-off 500ms is less than 1s"}},
		{"negative cache TTL", validate(map[string]any{"dailyApiCacheTtl": "-1m"}), []string{`dailyApiCacheTtl "-1m" is negative`}},
		{"bad negative cache TTL", validate(map[string]any{"dailyApiNegativeCacheTtl": "10"}), []string{`dailyApiNegativeCacheTtl "10" is not a duration`}},
		{"key unfit for a header", validate(map[string]any{"keys": []any{"key with spaces"}}), []string{"dailyApi: the key:", "byte 4"}},
		{"two keys", validate(map[string]any{"keys": []any{secretKey, "old-key"}}), []string{"dailyApi:", "exactly one key", "they give 2"}},
		{"cache TTL on mint", map[string]any{"mode": "mint", "keys": secretKey, "dailyApi": true, "dailyApiCacheTtl": "5m"}, []string{"option dailyApiCacheTtl is not used in mode mint"}},
		{"API options without dailyApi", map[string]any{"mode": "validate", "keys": secretKey, "dailyApiBaseUrl": "https://example.com/v1", "dailyApiCacheSize": 10}, []string{"options dailyApiBaseUrl, dailyApiCacheSize are used only with dailyApi: true"}},
		{"dailyApi misspelt", map[string]any{"mode": "validate", "keys": secretKey, "dailyAPIs": true}, []string{"unknown option dailyAPIs", "dailyApi"}},
	}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, f := range restFactories(t) {
		for _, c := range cases {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				handler, err := f.factory(context.Background(), c.options, next, "bad@file")
				if err == nil {
					t.Fatalf("New returned a handler (%T), expected an error containing %q", handler, c.want)
				}
				mustContain(t, "error", err.Error(), c.want...)
				if strings.Contains(err.Error(), secretKey) {
					t.Errorf("error = %q contains the key", err.Error())
				}
			})
		}
	}
}

// TestRESTReloadsLeaveNoGoroutines builds REST API middlewares for 20
// routers, 10 times over, each serving one request, and checks that no
// goroutine outlives its call or its middleware.
func TestRESTReloadsLeaveNoGoroutines(t *testing.T) {
	plugin := loadPlugin(t)
	mock := dailymock.New(t, restKey)
	token := roomToken(restKey, "standup", "user-1")
	build := func() {
		t.Helper()
		for i := 0; i < 20; i++ {
			options := restOptions(mock, "validate", nil)
			if i%2 == 1 {
				options = restOptions(mock, "mint", map[string]any{"claims": map[string]any{"room_name": "standup"}})
			}
			handler, err := plugin.NewMiddleware(context.Background(), options, &recordingUpstream{}, "router-"+strconv.Itoa(i)+"@file")
			if err != nil {
				t.Fatalf("router %d: New: %v", i, err)
			}
			request := httptest.NewRequest(http.MethodGet, "/rooms/standup", nil)
			request.Header.Set("Authorization", "Bearer "+token)
			recorder := httptest.NewRecorder()
			handler.ServeHTTP(recorder, request)
			if recorder.Code != http.StatusOK {
				t.Fatalf("router %d: status = %d, expected 200; body %s", i, recorder.Code, recorder.Body)
			}
		}
	}

	// The first round opens the keep-alive connection to the mock, whose
	// goroutines belong to the baseline.
	build()
	baseline := waitForGoroutines(0)
	for reload := 0; reload < 10; reload++ {
		build()
	}
	if count := waitForGoroutines(baseline); count > baseline {
		t.Errorf("goroutines after 10 reloads of 20 REST API routers = %d, expected at most the baseline %d", count, baseline)
	}
	if calls := mock.Count(dailymock.EndpointIntrospect) + mock.Count(dailymock.EndpointMint); calls != 11*20 {
		t.Errorf("calls to the API = %d, expected one per router and reload, %d", calls, 11*20)
	}
}

// isRESTExample reports whether a docs example configures Daily's REST API
// mode.
func isRESTExample(example docExample) bool {
	for _, options := range example.middlewares {
		if enabled, _ := options["dailyApi"].(bool); enabled {
			return true
		}
	}
	return false
}

// TestDocsRESTExampleUnderYaegi starts the REST API mode example of the
// docs under Yaegi, with dailyApiBaseUrl pointed at the mock, and sends each
// middleware the request the docs describe.
func TestDocsRESTExampleUnderYaegi(t *testing.T) {
	t.Setenv(docsKeyEnv, restKey)
	plugin := loadPlugin(t)
	var found []docExample
	for _, example := range readDocExamples(t) {
		if isRESTExample(example) {
			found = append(found, example)
		}
	}
	if len(found) != 1 {
		t.Fatalf("docs have %d REST API mode examples, expected 1", len(found))
	}
	example := found[0]

	for _, name := range []string{"daily-validate-api", "daily-mint-api"} {
		options := example.middlewares[name]
		if options == nil {
			t.Errorf("REST API mode example has no middleware %s", name)
			continue
		}
		mock := dailymock.New(t, restKey)
		options["dailyApiBaseUrl"] = mock.URL
		upstream := &recordingUpstream{}
		handler, err := plugin.NewMiddleware(context.Background(), options, upstream, name+"@docs")
		if err != nil {
			t.Fatalf("%s: New: %v (options %v)", name, err, options)
		}
		server := serve(t, handler)

		if name == "daily-validate-api" {
			token := roomToken(restKey, "standup", "user-1")
			response, body := getWithToken(t, server, "/rooms/standup/chat", token)
			expectStatus(t, name, response, body, http.StatusOK)
			response, body = getWithToken(t, server, "/rooms/retro", token)
			expectStatus(t, name+", other room", response, body, http.StatusForbidden)
			expectCalls(t, name, mock, dailymock.EndpointIntrospect, 1)
			continue
		}

		response, body := send(t, server, casetable.Request{
			Method: http.MethodPost,
			Target: "/rooms/standup/token",
			Header: http.Header{"X-Auth-User": {"user-7"}},
		})
		expectStatus(t, name, response, body, http.StatusOK)
		var minted map[string]string
		if err := json.Unmarshal(body, &minted); err != nil {
			t.Fatalf("%s: body %s: %v", name, body, err)
		}
		claims, err := casetable.VerifyToken(restKey, minted["token"])
		if err != nil {
			t.Fatalf("%s: token does not verify with the API key: %v", name, err)
		}
		if claims["r"] != "standup" || claims["ud"] != "user-7" {
			t.Errorf("%s: claims %v, expected r standup and ud user-7", name, claims)
		}
		expectCalls(t, name, mock, dailymock.EndpointMint, 1)
	}
}
