package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap/zapcore"

	"github.com/caddyserver/caddy/v2"
	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/internal/dailymock"
	"github.com/dailytoken/dailytoken/tokencore"
)

// mockToken returns a token for room that the mock signs with its key,
// valid for ten minutes.
func mockToken(mock *dailymock.Server, room string) string {
	now := time.Now().Truncate(time.Second)
	return mock.Token(&tokencore.Claims{RoomName: room, UserID: "user-1", Iat: now, Exp: now.Add(10 * time.Minute)})
}

// dailyAPISite returns a site that validates /rooms/<room>/... and mints on
// /token/<room> through the mock.
func dailyAPISite(mock *dailymock.Server, up *upstream) string {
	return fmt.Sprintf(`http://:%d {
	handle /rooms/* {
		daily_token {
			keys %[2]s
			daily_api %[3]s {
				timeout 500ms
				max_backoff 2s
			}
			room {path.1}
		}
		reverse_proxy %[4]s
	}
	handle /token/* {
		daily_token mint {
			keys %[2]s
			daily_api %[3]s
			claim room_name {path.1}
			lifetime 10m
			target response
		}
	}
}
`, sitePort, testKey, mock.URL, up.addr())
}

func TestDailyAPIValidates(t *testing.T) {
	mock := dailymock.New(t, testKey)
	up := newUpstream(t)
	loadCaddyfile(t, dailyAPISite(mock, up))

	token := mockToken(mock, "hello")
	for i := 1; i <= 2; i++ {
		resp := get(t, "/rooms/hello/", bearer(token))
		if resp.status != http.StatusOK {
			t.Fatalf("request %d: status = %d, expected 200; WWW-Authenticate %q", i, resp.status, resp.header.Get("WWW-Authenticate"))
		}
	}
	if value := up.last(t).Header.Get("X-Daily-Room"); value != "hello" {
		t.Errorf("upstream X-Daily-Room = %q, expected hello", value)
	}
	if count := mock.Count(dailymock.EndpointIntrospect); count != 1 {
		t.Errorf("introspection calls = %d, expected 1 for a token sent twice", count)
	}
	requests := mock.Requests()
	if len(requests) == 0 || requests[0].Authorization != "Bearer "+testKey {
		t.Errorf("the API did not receive the key as Bearer authorization")
	}

	// the route's policy applies to the claims Daily reports
	if resp := get(t, "/rooms/other/", bearer(token)); resp.status != http.StatusForbidden {
		t.Errorf("token for another room: status = %d, expected 403", resp.status)
	}

	// a token Daily does not know
	resp := get(t, "/rooms/hello/", bearer(casetable.Sign("not-the-key", casetable.HS256Header, roomClaims("hello"))))
	if resp.status != http.StatusUnauthorized {
		t.Errorf("token of another key: status = %d, expected 401", resp.status)
	}
	if challenge := resp.header.Get("WWW-Authenticate"); !strings.Contains(challenge, "Daily's REST API rejected the token") {
		t.Errorf("token of another key: WWW-Authenticate = %q, expected Daily's rejection", challenge)
	}
}

func TestDailyAPIFailuresReject(t *testing.T) {
	mock := dailymock.New(t, testKey)
	up := newUpstream(t)
	loadCaddyfile(t, dailyAPISite(mock, up))

	tests := []struct {
		name       string
		fault      func()
		retryAfter string
	}{
		{"server error", func() { mock.SetFault(dailymock.ServerError) }, ""},
		{"malformed answer", func() { mock.SetFault(dailymock.MalformedJSON) }, ""},
		{"stalled past the timeout", func() { mock.SetFault(dailymock.Stall) }, ""},
		{"down", func() { mock.Down() }, ""},
		{"rate limited", func() { mock.SetRetryAfter("1"); mock.SetFault(dailymock.RateLimit) }, "1"}, // last: it starts a back-off
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fault()
			defer func() {
				mock.Release()
				mock.SetFault(dailymock.NoFault)
				mock.Up()
			}()

			resp := get(t, "/rooms/hello/", bearer(mockToken(mock, "hello"+tt.name)))
			if resp.status != http.StatusServiceUnavailable {
				t.Errorf("status = %d, expected 503", resp.status)
			}
			if value := resp.header.Get("Retry-After"); value != tt.retryAfter {
				t.Errorf("Retry-After = %q, expected %q", value, tt.retryAfter)
			}
			if up.count() != 0 {
				t.Errorf("the upstream received a request that Daily's API did not confirm")
			}
		})
	}

	// the rate limit's back-off has passed and the API is back
	time.Sleep(1100 * time.Millisecond)
	if resp := get(t, "/rooms/hello/", bearer(mockToken(mock, "hello"))); resp.status != http.StatusOK {
		t.Errorf("after the failures: status = %d, expected 200", resp.status)
	}
}

func TestDailyAPIMints(t *testing.T) {
	mock := dailymock.New(t, testKey)
	up := newUpstream(t)
	loadCaddyfile(t, dailyAPISite(mock, up))

	var tokens []string
	for i := 1; i <= 2; i++ {
		resp := get(t, "/token/hello")
		if resp.status != http.StatusOK {
			t.Fatalf("request %d: status = %d, expected 200; body %q", i, resp.status, resp.body)
		}
		var body map[string]string
		if err := json.Unmarshal([]byte(resp.body), &body); err != nil {
			t.Fatalf("body %q: %v", resp.body, err)
		}
		tokens = append(tokens, body["token"])
	}
	if count := mock.Count(dailymock.EndpointMint); count != 1 {
		t.Errorf("minting calls = %d, expected 1, the token reused for the same claims", count)
	}
	if tokens[0] != tokens[1] {
		t.Errorf("the second request got another token, expected the reused one")
	}

	parsed, err := jwt.Parse(tokens[0], func(*jwt.Token) (any, error) { return []byte(testKey), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("golang-jwt rejects the token Daily's API minted: %v", err)
	}
	if room := parsed.Claims.(jwt.MapClaims)["r"]; room != "hello" {
		t.Errorf("claim r = %v, expected hello", room)
	}
}

func TestDailyAPIKeyRejectedLogsError(t *testing.T) {
	mock := dailymock.New(t, "the-key-daily-expects")
	handler := &Handler{Keys: []string{testKey}, DailyAPI: &DailyAPI{BaseURL: mock.URL}}
	if err := provision(t, handler); err != nil {
		t.Fatal(err)
	}
	logs := observe(handler)

	token := mockToken(mock, "hello")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	recorder, err := serve(handler, req, nextOK)
	if tokencore.StatusOf(err) != http.StatusServiceUnavailable {
		t.Errorf("status = %d, expected 503 for a key Daily rejects", tokencore.StatusOf(err))
	}
	if value := recorder.Header().Get("WWW-Authenticate"); value != "" {
		t.Errorf("WWW-Authenticate = %q, expected none: the client's token is not at fault", value)
	}

	entries := logs.FilterMessage("request rejected").All()
	if len(entries) != 1 {
		t.Fatalf("logged %d rejections, expected 1", len(entries))
	}
	if entries[0].Level != zapcore.ErrorLevel {
		t.Errorf("level = %s, expected error for a rejected API key", entries[0].Level)
	}
	fields := entries[0].ContextMap()
	if fields["api_status"] != int64(http.StatusUnauthorized) || fields["api_error"] != "authentication-error" {
		t.Errorf("fields = %v, expected api_status 401 and api_error authentication-error", fields)
	}
	for name, value := range fields {
		if text, ok := value.(string); ok && (strings.Contains(text, testKey) || strings.Contains(text, token)) {
			t.Errorf("log field %s = %q contains the key or the token", name, text)
		}
	}
}

func TestDailyAPIConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		handler  Handler
		expected string
	}{
		{"two keys", Handler{Keys: []string{"a", "b"}, DailyAPI: &DailyAPI{}}, "daily_api: keys must contain exactly one key, the REST API key, and contains 2"},
		{"bad base URL", Handler{Keys: []string{"a"}, DailyAPI: &DailyAPI{BaseURL: "ftp://127.0.0.1/v1"}}, `daily_api: base URL "ftp://127.0.0.1/v1": scheme must be https or http`},
		{"negative timeout", Handler{Keys: []string{"a"}, DailyAPI: &DailyAPI{Timeout: -1}}, "daily_api: timeout -1ns is negative"},
		{"cache TTL when minting", Handler{Mode: ModeMint, Keys: []string{"a"}, DailyAPI: &DailyAPI{CacheTTL: caddy.Duration(time.Minute)}},
			"daily_api: cache_ttl and negative_cache_ttl apply to validation only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler := tt.handler
			err := provision(t, &handler)
			if err == nil || !strings.Contains(err.Error(), tt.expected) {
				t.Errorf("error = %v, expected it to contain %q", err, tt.expected)
			}
		})
	}
}
