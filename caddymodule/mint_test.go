package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dailytoken/dailytoken/tokencore"
)

// mintSite returns a site with minting routes in front of up.
func mintSite(up *upstream) string {
	return fmt.Sprintf(`http://:%d {
	handle /inject/* {
		daily_token mint {
			keys %[2]s
			claim room_name {path.1}
			claim user_id {header.X-User-Id}
			claim user_name "Guest of {http.request.host}"
			claim is_owner false
			claim lang de
			claim permissions `+"`"+`{"hasPresence": true, "canSend": ["video", "audio"]}`+"`"+`
			lifetime 10m
			not_before
		}
		request_header X-Seen-Room {http.auth.daily.room}
		request_header X-Seen-Fingerprint {http.auth.daily.fingerprint}
		reverse_proxy %[3]s
	}
	handle /query/* {
		daily_token mint {
			keys %[2]s
			claim room_name {path.1}
			target query:t
		}
		reverse_proxy %[3]s
	}
	handle /token/* {
		daily_token mint {
			keys %[2]s
			claim room_name {path.1}
			claim eject_after_elapsed {query.eject}
			target response
		}
	}
}
`, sitePort, testKey, up.addr())
}

func TestMintInjectsVerifiableToken(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, mintSite(up))

	before := time.Now().Truncate(time.Second)
	resp := get(t, "/inject/hello/x", "X-User-Id: user-42", "Authorization: Bearer client-value")
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, expected 200; body %q", resp.status, resp.body)
	}
	got := up.last(t)
	authorization := got.Header.Values("Authorization")
	if len(authorization) != 1 || !strings.HasPrefix(authorization[0], "Bearer ") {
		t.Fatalf("upstream Authorization = %q, expected one Bearer value", authorization)
	}
	token := strings.TrimPrefix(authorization[0], "Bearer ")
	if token == "client-value" {
		t.Fatal("the upstream received the client's Authorization value")
	}

	// the core verifies it
	codec, err := tokencore.NewCodec([][]byte{[]byte(testKey)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := codec.Verify(token)
	if err != nil {
		t.Fatalf("the core rejects the minted token: %v", err)
	}
	claims, err := tokencore.DecodeClaims(payload)
	if err != nil {
		t.Fatalf("the core cannot decode the minted claims: %v", err)
	}
	if claims.RoomName != "hello" || claims.UserID != "user-42" || claims.UserName != "Guest of 127.0.0.1" {
		t.Errorf("claims room %q, user id %q, user name %q; expected hello, user-42, Guest of 127.0.0.1",
			claims.RoomName, claims.UserID, claims.UserName)
	}

	// golang-jwt verifies it independently
	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return []byte(testKey), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("golang-jwt rejects the minted token: %v", err)
	}
	mapClaims := parsed.Claims.(jwt.MapClaims)
	expected := map[string]any{"r": "hello", "ud": "user-42", "u": "Guest of 127.0.0.1", "o": false, "uil": "de"}
	for name, value := range expected {
		if mapClaims[name] != value {
			t.Errorf("golang-jwt claim %s = %v, expected %v", name, mapClaims[name], value)
		}
	}
	permissions, _ := json.Marshal(mapClaims["p"])
	if string(permissions) != `{"cs":"v,a","hp":true}` {
		t.Errorf("golang-jwt claim p = %s, expected the short form {\"cs\":\"v,a\",\"hp\":true}", permissions)
	}

	// times: iat and nbf now, exp ten minutes later
	iat, _ := mapClaims.GetIssuedAt()
	nbf, _ := mapClaims.GetNotBefore()
	exp, _ := mapClaims.GetExpirationTime()
	if iat == nil || iat.Before(before) || iat.After(time.Now()) {
		t.Errorf("iat = %v, expected the time of minting", iat)
	}
	if nbf == nil || iat == nil || !nbf.Equal(iat.Time) {
		t.Errorf("nbf = %v, expected iat %v", nbf, iat)
	}
	if exp == nil || iat == nil || exp.Sub(iat.Time) != 10*time.Minute {
		t.Errorf("exp = %v, expected iat + 10m", exp)
	}

	// placeholders describe the minted token
	if value := got.Header.Get("X-Seen-Room"); value != "hello" {
		t.Errorf("{http.auth.daily.room} = %q, expected hello", value)
	}
	if value := got.Header.Get("X-Seen-Fingerprint"); value != tokencore.Fingerprint(token) {
		t.Errorf("{http.auth.daily.fingerprint} = %q, expected %q", value, tokencore.Fingerprint(token))
	}
}

func TestMintMissingRequestValueIsBadRequest(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, mintSite(up))

	tests := []struct {
		name    string
		path    string
		headers []string
	}{
		{"missing header", "/inject/hello/", nil},
		{"repeated header", "/inject/hello/", []string{"X-User-Id: a", "X-User-Id: b"}},
		{"user id over 36 characters", "/inject/hello/", []string{"X-User-Id: " + strings.Repeat("u", 37)}},
		{"integer claim not a number", "/token/hello?eject=soon", nil},
		{"missing path segment", "/token/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := up.count()
			resp := get(t, tt.path, tt.headers...)
			if resp.status != http.StatusBadRequest {
				t.Errorf("status = %d, expected 400", resp.status)
			}
			if up.count() != before {
				t.Errorf("the upstream received a request that could not be minted for")
			}
		})
	}
}

func TestMintResponseTarget(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, mintSite(up))

	resp := get(t, "/token/hello?eject=60")
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, expected 200; body %q", resp.status, resp.body)
	}
	if value := resp.header.Get("Content-Type"); value != "application/json" {
		t.Errorf("Content-Type = %q, expected application/json", value)
	}
	if value := resp.header.Get("Cache-Control"); value != "no-store" {
		t.Errorf("Cache-Control = %q, expected no-store", value)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(resp.body), &body); err != nil {
		t.Fatalf("body %q is not a JSON object of strings: %v", resp.body, err)
	}
	if len(body) != 1 {
		t.Errorf("body has %d fields, expected only token", len(body))
	}

	parsed, err := jwt.Parse(body["token"], func(*jwt.Token) (any, error) { return []byte(testKey), nil },
		jwt.WithValidMethods([]string{"HS256"}))
	if err != nil {
		t.Fatalf("golang-jwt rejects the minted token: %v", err)
	}
	claims := parsed.Claims.(jwt.MapClaims)
	if claims["r"] != "hello" || claims["eje"] != float64(60) {
		t.Errorf("claims r = %v, eje = %v; expected hello and 60", claims["r"], claims["eje"])
	}
	exp, _ := claims.GetExpirationTime()
	iat, _ := claims.GetIssuedAt()
	if exp == nil || iat == nil || exp.Sub(iat.Time) != tokencore.DefaultLifetime {
		t.Errorf("lifetime = exp %v - iat %v, expected the default %s", exp, iat, tokencore.DefaultLifetime)
	}
	if up.count() != 0 {
		t.Errorf("the upstream received %d requests, expected none for the response target", up.count())
	}
}

func TestMintQueryTargetReplacesClientValue(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, mintSite(up))

	resp := get(t, "/query/hello?a=1&t=client-token&b=2")
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, expected 200", resp.status)
	}
	query := up.last(t).URL.Query()
	if query.Get("a") != "1" || query.Get("b") != "2" {
		t.Errorf("upstream query = %q, expected a=1 and b=2 kept", up.last(t).URL.RawQuery)
	}
	tokens := query["t"]
	if len(tokens) != 1 || tokens[0] == "client-token" {
		t.Fatalf("upstream t = %q, expected one minted token", tokens)
	}
	if _, err := jwt.Parse(tokens[0], func(*jwt.Token) (any, error) { return []byte(testKey), nil },
		jwt.WithValidMethods([]string{"HS256"})); err != nil {
		t.Errorf("golang-jwt rejects the minted token: %v", err)
	}
}

func TestMintedTokenPassesValidateRoute(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, fmt.Sprintf(`http://:%d {
	handle /token/* {
		daily_token mint {
			keys %[2]s
			claim room_name {path.1}
			target response
		}
	}
	handle /rooms/* {
		daily_token {
			keys other-key %[2]s
			room {path.1}
		}
		reverse_proxy %[3]s
	}
}
`, sitePort, testKey, up.addr()))

	resp := get(t, "/token/hello")
	var body map[string]string
	if err := json.Unmarshal([]byte(resp.body), &body); err != nil {
		t.Fatalf("body %q: %v", resp.body, err)
	}
	if resp := get(t, "/rooms/hello/?t="+body["token"]); resp.status != http.StatusOK {
		t.Errorf("validate with the second key: status = %d, expected 200", resp.status)
	}
	if resp := get(t, "/rooms/other/?t="+body["token"]); resp.status != http.StatusForbidden {
		t.Errorf("validate another room: status = %d, expected 403", resp.status)
	}
}

func TestMintRemovesClientClaimHeaders(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, fmt.Sprintf(`http://:%d {
	handle /inject/* {
		daily_token mint {
			keys %[2]s
			claim room_name {path.1}
		}
		reverse_proxy %[3]s
	}
	handle /forged/* {
		daily_token mint {
			keys %[2]s
			header_prefix X-Meeting-
			claim room_name {header.X-Meeting-Room}
		}
		reverse_proxy %[3]s
	}
}
`, sitePort, testKey, up.addr()))

	resp := get(t, "/inject/hello/", "X-Daily-Room: forged", "X_Daily_Is_Owner: true", "X-Other: kept")
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, expected 200", resp.status)
	}
	got := up.last(t).Header
	for name := range got {
		if strings.HasPrefix(strings.ReplaceAll(strings.ToLower(name), "_", "-"), "x-daily-") {
			t.Errorf("upstream header %s came from the client", name)
		}
	}
	if value := got.Get("X-Other"); value != "kept" {
		t.Errorf("upstream X-Other = %q, expected kept", value)
	}

	// a template cannot read a header under the prefix
	before := up.count()
	if resp := get(t, "/forged/hello/", "X-Meeting-Room: hello"); resp.status != http.StatusBadRequest {
		t.Errorf("template from a claim header: status = %d, expected 400", resp.status)
	}
	if up.count() != before {
		t.Errorf("the upstream received a token minted from a client's claim header")
	}
}
