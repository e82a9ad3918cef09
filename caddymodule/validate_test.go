package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/tokencore"
)

// validateSite returns a site whose /rooms/<room>/... route validates with
// the given extra subdirectives in front of up. request_header runs after
// daily_token, so the upstream also receives the placeholders.
func validateSite(up *upstream, options string) string {
	return fmt.Sprintf(`http://:%d {
	handle /rooms/* {
		daily_token {
			keys %s
			room {path.1}
			%s
		}
		request_header X-Seen-Room {http.auth.daily.room}
		request_header X-Seen-User-Id {http.auth.daily.user_id}
		request_header X-Seen-User-Name {http.auth.daily.user_name}
		request_header X-Seen-Is-Owner {http.auth.daily.is_owner}
		request_header X-Seen-Exp {http.auth.daily.exp}
		request_header X-Seen-Fingerprint {http.auth.daily.fingerprint}
		request_header X-Seen-Auth-User {http.auth.user.id}
		reverse_proxy %s
	}
}
`, sitePort, testKey, options, up.addr())
}

func TestValidateValidTokenReachesUpstream(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, ""))

	claims := casetable.With(roomClaims("hello"), map[string]any{"o": true, "d": "domain-1"})
	token := casetable.Sign(testKey, casetable.HS256Header, claims)
	resp := get(t, "/rooms/hello/info", bearer(token))
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, expected 200; body %q", resp.status, resp.body)
	}

	got := up.last(t).Header
	exp := strconv.FormatInt(claims["exp"].(int64), 10)
	for name, expected := range map[string]string{
		"X-Daily-Room":       "hello",
		"X-Daily-User-Id":    "user-1",
		"X-Daily-User-Name":  "Ann",
		"X-Daily-Is-Owner":   "true",
		"X-Daily-Domain-Id":  "domain-1",
		"X-Daily-Exp":        exp,
		"X-Seen-Room":        "hello",
		"X-Seen-User-Id":     "user-1",
		"X-Seen-User-Name":   "Ann",
		"X-Seen-Is-Owner":    "true",
		"X-Seen-Exp":         exp,
		"X-Seen-Fingerprint": tokencore.Fingerprint(token),
		"X-Seen-Auth-User":   "user-1",
		"Authorization":      "Bearer " + token,
	} {
		if value := got.Get(name); value != expected {
			t.Errorf("upstream header %s = %q, expected %q", name, value, expected)
		}
	}

	var payload map[string]any
	if err := json.Unmarshal([]byte(got.Get("X-Daily-Claims")), &payload); err != nil {
		t.Fatalf("X-Daily-Claims is not JSON: %v", err)
	}
	if payload["r"] != "hello" {
		t.Errorf("X-Daily-Claims r = %v, expected hello", payload["r"])
	}
}

func TestValidateRejections(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, "require_owner"))

	owner := casetable.With(roomClaims("hello"), map[string]any{"o": true})
	valid := casetable.Sign(testKey, casetable.HS256Header, owner)
	tampered := valid[:len(valid)-4] + "AAAA"
	otherPayload := casetable.Sign(testKey, casetable.HS256Header, casetable.With(owner, map[string]any{"r": "other"}))
	parts := strings.Split(valid, ".")
	swapped := parts[0] + "." + strings.Split(otherPayload, ".")[1] + "." + parts[2]
	now := time.Now().Unix()

	tests := []struct {
		name      string
		headers   []string
		status    int
		challenge string // expected in WWW-Authenticate
	}{
		{"tampered signature", []string{bearer(tampered)}, 401, `error="invalid_token"`},
		{"payload from another token", []string{bearer(swapped)}, 401, `error="invalid_token"`},
		{"expired", []string{bearer(casetable.Sign(testKey, casetable.HS256Header, casetable.With(owner, map[string]any{"iat": now - 3600, "exp": now - 600})))}, 401, `error="invalid_token"`},
		{"missing", nil, 401, "Bearer"},
		{"signed with another key", []string{bearer(casetable.Sign("another-key", casetable.HS256Header, owner))}, 401, `error="invalid_token"`},
		{"wrong room", []string{bearer(casetable.Sign(testKey, casetable.HS256Header, casetable.With(owner, map[string]any{"r": "other"})))}, 403, `error="insufficient_scope"`},
		{"not owner", []string{bearer(roomToken("hello"))}, 403, `error="insufficient_scope"`},
		{"no room claim", []string{bearer(casetable.Sign(testKey, casetable.HS256Header, casetable.With(owner, map[string]any{"r": nil})))}, 403, `error="insufficient_scope"`},
		{"no exp claim", []string{bearer(casetable.Sign(testKey, casetable.HS256Header, casetable.With(owner, map[string]any{"exp": nil})))}, 401, `error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := up.count()
			resp := get(t, "/rooms/hello/", tt.headers...)
			if resp.status != tt.status {
				t.Errorf("status = %d, expected %d", resp.status, tt.status)
			}
			challenge := resp.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, "Bearer") || !strings.Contains(challenge, tt.challenge) {
				t.Errorf("WWW-Authenticate = %q, expected Bearer with %s", challenge, tt.challenge)
			}
			if up.count() != before {
				t.Errorf("the upstream received a rejected request")
			}
		})
	}

	// the valid token still passes
	if resp := get(t, "/rooms/hello/", bearer(valid)); resp.status != http.StatusOK {
		t.Errorf("valid owner token: status = %d, expected 200", resp.status)
	}
}

func TestValidateChallengeSurvivesHandleErrors(t *testing.T) {
	up := newUpstream(t)
	site := strings.Replace(validateSite(up, ""), "\thandle /rooms/* {", `	handle_errors 401 403 {
		respond "{err.status_code} {err.message}"
	}
	handle /rooms/* {`, 1)
	loadCaddyfile(t, site)

	resp := get(t, "/rooms/hello/", bearer(roomToken("other")))
	if resp.status != http.StatusForbidden {
		t.Fatalf("status = %d, expected 403", resp.status)
	}
	if challenge := resp.header.Get("WWW-Authenticate"); !strings.Contains(challenge, `error="insufficient_scope"`) {
		t.Errorf("WWW-Authenticate = %q, expected the insufficient_scope challenge", challenge)
	}
	expected := `403 token room name "other" does not match the route room "hello"`
	if resp.body != expected {
		t.Errorf("body = %q, expected %q", resp.body, expected)
	}

	resp = get(t, "/rooms/hello/")
	if resp.status != http.StatusUnauthorized {
		t.Fatalf("missing token: status = %d, expected 401", resp.status)
	}
	if challenge := resp.header.Get("WWW-Authenticate"); challenge != "Bearer" {
		t.Errorf("missing token: WWW-Authenticate = %q, expected Bearer without an error code", challenge)
	}
}

func TestValidateRealmInChallenge(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, "realm meetings"))

	resp := get(t, "/rooms/hello/")
	if challenge := resp.header.Get("WWW-Authenticate"); challenge != `Bearer realm="meetings"` {
		t.Errorf("WWW-Authenticate = %q, expected Bearer realm=\"meetings\"", challenge)
	}
}

func TestValidateRoomFromHeaderAndQuery(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, fmt.Sprintf(`http://:%d {
	handle /by-header {
		daily_token {
			keys %[2]s
			room {header.X-Room}
		}
		reverse_proxy %[3]s
	}
	handle /by-query {
		daily_token {
			keys %[2]s
			room {query.room}
		}
		reverse_proxy %[3]s
	}
	handle /by-placeholder {
		daily_token {
			keys %[2]s
			room {http.request.host}
			allow_roomless
		}
		reverse_proxy %[3]s
	}
}
`, sitePort, testKey, up.addr()))

	token := roomToken("hello")
	tests := []struct {
		name    string
		path    string
		headers []string
		status  int
	}{
		{"header matches", "/by-header", []string{bearer(token), "X-Room: hello"}, 200},
		{"header differs", "/by-header", []string{bearer(token), "X-Room: other"}, 403},
		{"header missing", "/by-header", []string{bearer(token)}, 403},
		{"header repeated", "/by-header", []string{bearer(token), "X-Room: hello", "X-Room: hello"}, 403},
		{"query matches", "/by-query?room=hello", []string{bearer(token)}, 200},
		{"query repeated", "/by-query?room=hello&room=other", []string{bearer(token)}, 403},
		{"query missing", "/by-query", []string{bearer(token)}, 403},
		{"caddy placeholder differs", "/by-placeholder", []string{bearer(token)}, 403},
		{"caddy placeholder matches", "/by-placeholder", []string{bearer(casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims(""), map[string]any{"r": "127.0.0.1"})))}, 200},
		{"roomless token allowed", "/by-placeholder", []string{bearer(casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims(""), map[string]any{"r": nil})))}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, tt.path, tt.headers...)
			if resp.status != tt.status {
				t.Errorf("status = %d, expected %d; WWW-Authenticate %q", resp.status, tt.status, resp.header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestValidateClientTextIsNotExpanded(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, fmt.Sprintf(`http://:%d {
	daily_token {
		keys %s
		room {header.X-Room}
	}
	reverse_proxy %s
}
`, sitePort, testKey, up.addr()))

	// A room name that is a placeholder must be compared as text: the
	// client's header is never expanded, so {system.hostname} stays as it is.
	token := casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims(""), map[string]any{"r": "{system.hostname}"}))
	if resp := get(t, "/", bearer(token), "X-Room: {system.hostname}"); resp.status != http.StatusOK {
		t.Errorf("status = %d, expected 200 for a literal room name", resp.status)
	}
	other := roomToken("hello")
	if resp := get(t, "/", bearer(other), "X-Room: {system.hostname}"); resp.status != http.StatusForbidden {
		t.Errorf("status = %d, expected 403", resp.status)
	}
}

func TestValidatePolicyOptions(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, fmt.Sprintf(`http://:%d {
	handle /lifetime {
		daily_token {
			keys %[2]s
			max_lifetime 1h
		}
		reverse_proxy %[3]s
	}
	handle /no-exp {
		daily_token {
			keys %[2]s
			allow_missing_exp
		}
		reverse_proxy %[3]s
	}
	handle /no-leeway {
		daily_token {
			keys %[2]s
			leeway 0
		}
		reverse_proxy %[3]s
	}
	handle /screen {
		daily_token {
			keys %[2]s
			require_permissions canSend:screenVideo hasPresence
		}
		reverse_proxy %[3]s
	}
}
`, sitePort, testKey, up.addr()))

	now := time.Now().Unix()
	base := roomClaims("hello")
	tests := []struct {
		name   string
		path   string
		claims map[string]any
		status int
	}{
		{"lifetime within", "/lifetime", base, 200},
		{"lifetime over", "/lifetime", casetable.With(base, map[string]any{"exp": now + 7200}), 401},
		{"missing exp allowed", "/no-exp", casetable.With(base, map[string]any{"exp": nil}), 200},
		{"expired 10s ago without leeway", "/no-leeway", casetable.With(base, map[string]any{"exp": now - 10}), 401},
		{"permissions granted", "/screen", casetable.With(base, map[string]any{"p": map[string]any{"hp": true, "cs": "v,sv"}}), 200},
		{"permission missing", "/screen", casetable.With(base, map[string]any{"p": map[string]any{"hp": true, "cs": "v"}}), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, tt.path, bearer(casetable.Sign(testKey, casetable.HS256Header, tt.claims)))
			if resp.status != tt.status {
				t.Errorf("status = %d, expected %d; WWW-Authenticate %q", resp.status, tt.status, resp.header.Get("WWW-Authenticate"))
			}
		})
	}

	// with the default leeway of 30s, a token expired 10s ago still passes
	if resp := get(t, "/lifetime", bearer(casetable.Sign(testKey, casetable.HS256Header, casetable.With(base, map[string]any{"exp": now - 10})))); resp.status != http.StatusOK {
		t.Errorf("default leeway: status = %d, expected 200", resp.status)
	}
}

func TestValidateHeaderPrefix(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, "header_prefix X-Meeting-"))

	resp := get(t, "/rooms/hello/", bearer(roomToken("hello")), "X-Meeting-Is-Owner: true", "X-Daily-Room: kept")
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, expected 200", resp.status)
	}
	got := up.last(t).Header
	if value := got.Get("X-Meeting-Room"); value != "hello" {
		t.Errorf("X-Meeting-Room = %q, expected hello", value)
	}
	if value := got.Get("X-Meeting-Is-Owner"); value != "false" {
		t.Errorf("X-Meeting-Is-Owner = %q, expected false from the token", value)
	}
	if value := got.Get("X-Daily-Room"); value != "kept" {
		t.Errorf("X-Daily-Room = %q, expected the client's value outside the prefix", value)
	}
}
