package caddymodule

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"
	"github.com/dailytoken/dailytoken/tokencore"
)

// aliceHash is the bcrypt hash (cost 10) of the password "demo".
const aliceHash = "$2a$10$iW/yw1xiy6p3IJx/uIXlku1aJUVINHRfyydJsk7fn2QWswBRfG3XC"

// providerConfig returns a JSON config whose route authenticates with
// basic_auth or a Daily token for the room in the first path segment. Caddy's
// authentication handler has no Caddyfile syntax for other providers, so the
// provider is configured in JSON.
func providerConfig(up *upstream) string {
	return fmt.Sprintf(`{
	"admin": {"listen": "localhost:%d", "config": {"persist": false}},
	"apps": {"http": {"servers": {"srv0": {
		"listen": ["127.0.0.1:%d"],
		"automatic_https": {"disable": true},
		"routes": [{"handle": [
			{
				"handler": "authentication",
				"providers": {
					"http_basic": {"accounts": [{"username": "alice", "password": %q}]},
					"daily_token": {"keys": [%q], "room": "{path.0}"}
				}
			},
			{
				"handler": "headers",
				"request": {"set": {
					"X-Auth-User": ["{http.auth.user.id}"],
					"X-Auth-Room": ["{http.auth.user.room}"],
					"X-Daily-Placeholder-Room": ["{http.auth.daily.room}"]
				}}
			},
			{"handler": "reverse_proxy", "upstreams": [{"dial": %q}]}
		]}]
	}}}}
}`, adminPort, sitePort, aliceHash, testKey, up.addr())
}

func TestProviderNextToBasicAuth(t *testing.T) {
	up := newUpstream(t)
	loadJSON(t, providerConfig(up))

	// a Daily token lets the request in
	resp := get(t, "/hello", bearer(roomToken("hello")))
	if resp.status != http.StatusOK {
		t.Fatalf("Daily token: status = %d, expected 200", resp.status)
	}
	got := up.last(t).Header
	for name, expected := range map[string]string{
		"X-Auth-User":              "user-1",
		"X-Auth-Room":              "hello",
		"X-Daily-Placeholder-Room": "hello",
		"X-Daily-Room":             "hello",
		"X-Daily-User-Id":          "user-1",
	} {
		if value := got.Get(name); value != expected {
			t.Errorf("Daily token: upstream %s = %q, expected %q", name, value, expected)
		}
	}

	// basic_auth lets the request in without a token
	resp = get(t, "/hello", "Authorization: Basic YWxpY2U6ZGVtbw==")
	if resp.status != http.StatusOK {
		t.Fatalf("basic_auth: status = %d, expected 200", resp.status)
	}
	if value := up.last(t).Header.Get("X-Auth-User"); value != "alice" {
		t.Errorf("basic_auth: upstream X-Auth-User = %q, expected alice", value)
	}

	// neither: 401 with one provider's challenge
	for _, tt := range []struct {
		name    string
		headers []string
	}{
		{"no credentials", nil},
		{"wrong password", []string{"Authorization: Basic YWxpY2U6d3Jvbmc="}},
		{"token for another room", []string{bearer(roomToken("other"))}},
		{"tampered token", []string{bearer(roomToken("hello") + "x")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := up.count()
			resp := get(t, "/hello", tt.headers...)
			if resp.status != http.StatusUnauthorized {
				t.Errorf("status = %d, expected 401", resp.status)
			}
			challenge := resp.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, "Bearer") && !strings.HasPrefix(challenge, "Basic") {
				t.Errorf("WWW-Authenticate = %q, expected a Bearer or Basic challenge", challenge)
			}
			if up.count() != before {
				t.Errorf("the upstream received an unauthenticated request")
			}
		})
	}
}

func TestProviderAlone(t *testing.T) {
	up := newUpstream(t)
	config := strings.Replace(providerConfig(up),
		fmt.Sprintf(`"http_basic": {"accounts": [{"username": "alice", "password": %q}]},`, aliceHash), "", 1)
	loadJSON(t, config)

	resp := get(t, "/hello", bearer(roomToken("other")))
	if resp.status != http.StatusUnauthorized {
		t.Errorf("token for another room: status = %d, expected 401 from the authentication handler", resp.status)
	}
	if challenge := resp.header.Get("WWW-Authenticate"); !strings.Contains(challenge, `error="insufficient_scope"`) {
		t.Errorf("WWW-Authenticate = %q, expected this provider's insufficient_scope challenge", challenge)
	}
	if resp := get(t, "/hello?t="+roomToken("hello")); resp.status != http.StatusOK {
		t.Errorf("token in ?t=: status = %d, expected 200", resp.status)
	}
}

func TestProviderAuthenticateResults(t *testing.T) {
	provider := &Provider{Keys: []string{testKey}, ValidatorOptions: ValidatorOptions{Room: "hello", AllowPreflight: true}}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := provider.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	authenticate := func(req *http.Request) (caddyauth.User, bool, error) {
		req = req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
		return provider.Authenticate(httptest.NewRecorder(), req)
	}

	token := roomToken("hello")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	user, ok, err := authenticate(req)
	if err != nil || !ok || user.ID != "user-1" || user.Metadata["room"] != "hello" || user.Metadata["fingerprint"] != tokencore.Fingerprint(token) {
		t.Errorf("valid token: user %+v, ok %v, err %v; expected user-1 in room hello", user, ok, err)
	}

	other := roomToken("other")
	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+other)
	user, ok, err = authenticate(req)
	if err != nil || ok || user.ID != tokencore.Fingerprint(other) || user.Metadata["reason"] != "room_mismatch" {
		t.Errorf("token for another room: user %+v, ok %v, err %v; expected a candidate with reason room_mismatch and no error", user, ok, err)
	}

	user, ok, err = authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
	if err != nil || ok || user.ID != "" || user.Metadata["reason"] != "missing_token" {
		t.Errorf("no token: user %+v, ok %v, err %v; expected a candidate without ID and reason missing_token", user, ok, err)
	}

	req = httptest.NewRequest(http.MethodOptions, "/", nil)
	req.Header.Set("Origin", "http://app.localhost")
	req.Header.Set("Access-Control-Request-Method", "POST")
	user, ok, err = authenticate(req)
	if err != nil || !ok || user.ID != "" {
		t.Errorf("preflight: user %+v, ok %v, err %v; expected a user without ID let in", user, ok, err)
	}
}
