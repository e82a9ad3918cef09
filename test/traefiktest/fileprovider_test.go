package traefiktest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dailytoken/dailytoken/internal/casetable"
)

// TestMintStringLeavesUnderYaegi configures a minting middleware the way
// Traefik's file provider hands a nested map to a plugin: every leaf a
// string, booleans included.
func TestMintStringLeavesUnderYaegi(t *testing.T) {
	plugin := loadPlugin(t)
	handler, err := plugin.NewMiddleware(context.Background(), map[string]any{
		"mode":   "mint",
		"keys":   casetable.Key,
		"target": "response",
		"claims": map[string]any{
			"room_name": "{path.1}",
			"is_owner":  "true",
			"permissions": map[string]any{
				"hasPresence": "true",
				"canSend":     []any{"video", "audio"},
			},
		},
	}, &recordingUpstream{}, "mint@file")
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	recorder := httptest.NewRecorder()
	handler.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/token/hello", nil))
	if recorder.Code != http.StatusOK {
		t.Fatalf("status = %d, expected 200; body %s", recorder.Code, recorder.Body)
	}
	var body struct{ Token string }
	if err := json.Unmarshal(recorder.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %s: %v", recorder.Body, err)
	}
	claims, err := casetable.VerifyToken(casetable.Key, body.Token)
	if err != nil {
		t.Fatalf("minted token: %v", err)
	}
	permissions, ok := claims["p"].(map[string]any)
	if !ok {
		t.Fatalf("claim p: expected an object, got %v", claims["p"])
	}
	if permissions["hp"] != true {
		t.Errorf("claim p.hp = %v, expected true", permissions["hp"])
	}
	if permissions["cs"] != "v,a" {
		t.Errorf("claim p.cs = %v, expected v,a", permissions["cs"])
	}
	if claims["o"] != true {
		t.Errorf("claim o = %v, expected true", claims["o"])
	}
}
