package traefikplugin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/tokencore"
)

// These tests run the plugin compiled, for a quick check. The tests that
// count for Traefik load it under Yaegi, in the test module.

const testKey = "traefikplugin-test-key"

func signedToken(t *testing.T, claims string) string {
	t.Helper()
	codec, err := tokencore.NewCodec([][]byte{[]byte(testKey)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return codec.Sign([]byte(claims))
}

func newHandler(t *testing.T, config *Config, next http.Handler) http.Handler {
	t.Helper()
	handler, err := New(context.Background(), next, config, "test@file")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return handler
}

func TestDefaultsMatchCore(t *testing.T) {
	config := CreateConfig()
	leeway, err := time.ParseDuration(config.Leeway)
	if err != nil || leeway != tokencore.DefaultLeeway {
		t.Errorf("default leeway %q = %s, expected the core's %s", config.Leeway, leeway, tokencore.DefaultLeeway)
	}
	lifetime, err := time.ParseDuration(config.Lifetime)
	if err != nil || lifetime != tokencore.DefaultLifetime {
		t.Errorf("default lifetime %q = %s, expected the core's %s", config.Lifetime, lifetime, tokencore.DefaultLifetime)
	}
	if config.Mode != "" {
		t.Errorf("default mode = %q, expected none", config.Mode)
	}
}

func TestValidateCompiled(t *testing.T) {
	var upstreamRoom string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamRoom = r.Header.Get("X-Daily-Room")
	})
	config := CreateConfig()
	config.Mode = ModeValidate
	config.Keys = []string{testKey}
	config.Room = "{path.1}"
	config.Realm = "meetings"
	handler := newHandler(t, config, next)

	exp := time.Now().Add(time.Hour).Unix()
	valid := signedToken(t, `{"r":"standup","exp":`+jsonNumber(exp)+`}`)
	request := httptest.NewRequest(http.MethodGet, "/rooms/standup?t="+valid, nil)
	recorder := httptest.NewRecorder()
	handler.ServeHTTP(recorder, request)
	if recorder.Code != http.StatusOK || upstreamRoom != "standup" {
		t.Errorf("valid token: status %d, upstream room %q; expected 200 and standup", recorder.Code, upstreamRoom)
	}

	request = httptest.NewRequest(http.MethodGet, "/rooms/retro?t="+valid, nil)
	recorder = httptest.NewRecorder()
	handler.ServeHTTP(recorder, request)
	if recorder.Code != http.StatusForbidden {
		t.Errorf("wrong room: status %d, expected 403", recorder.Code)
	}
	challenge := recorder.Header().Get("WWW-Authenticate")
	if !strings.Contains(challenge, `realm="meetings"`) || !strings.Contains(challenge, `error="insufficient_scope"`) {
		t.Errorf("wrong room: WWW-Authenticate = %q, expected the realm and insufficient_scope", challenge)
	}
	var body map[string]string
	if err := json.Unmarshal(recorder.Body.Bytes(), &body); err != nil || body["error"] != "room_mismatch" {
		t.Errorf("wrong room: body %s, expected error room_mismatch", recorder.Body)
	}
}

func TestMintResponseCompiled(t *testing.T) {
	config := CreateConfig()
	config.Mode = ModeMint
	config.Keys = []string{testKey}
	config.Target = "response"
	config.Claims = map[string]interface{}{"room_name": "{query.room}"}
	handler := newHandler(t, config, http.NotFoundHandler())

	recorder := httptest.NewRecorder()
	handler.ServeHTTP(recorder, httptest.NewRequest(http.MethodPost, "/token?room=standup", nil))
	if recorder.Code != http.StatusOK || recorder.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Cache-Control %q; expected 200 and no-store", recorder.Code, recorder.Header().Get("Cache-Control"))
	}
	var body map[string]string
	if err := json.Unmarshal(recorder.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %s: %v", recorder.Body, err)
	}
	codec, _ := tokencore.NewCodec([][]byte{[]byte(testKey)}, 0)
	payload, err := codec.Verify(body["token"])
	if err != nil {
		t.Fatalf("minted token: %v", err)
	}
	claims, err := tokencore.DecodeClaims(payload)
	if err != nil || claims.RoomName != "standup" {
		t.Errorf("minted claims %s (%v), expected room standup", payload, err)
	}
}

func TestNewErrorsNameOption(t *testing.T) {
	cases := map[string]func(*Config){
		"mode is not set":    func(c *Config) { c.Mode = "" },
		"keys[0] is empty":   func(c *Config) { c.Keys = []string{""} },
		`leeway "5"`:         func(c *Config) { c.Leeway = "5" },
		"sources[0]":         func(c *Config) { c.Sources = []string{"form:t"} },
		"requirePermissions": func(c *Config) { c.RequirePermissions = []string{"canFly"} },
	}
	for want, change := range cases {
		config := CreateConfig()
		config.Mode = ModeValidate
		config.Keys = []string{testKey}
		change(config)
		_, err := New(context.Background(), http.NotFoundHandler(), config, "test@file")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, expected one containing %q", err, want)
		}
	}
}

func jsonNumber(n int64) string {
	encoded, _ := json.Marshal(n)
	return string(encoded)
}
