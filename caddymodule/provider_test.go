package caddymodule

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
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
